"""The hospital's home-care catalogue: what a patient may book, with its skills, duration and price.

The items ship as data (``orders/data/catalogue.json``) so that a hospital edits
a file, not code. ``seed_catalogue`` inserts the codes the database lacks and
never touches existing rows: a price or name changed by an administrator
survives a re-seed, and running it twice adds nothing.
"""
from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from doorstep.db import session
from orders.models import CatalogueItem

log = logging.getLogger("doorstep.orders.catalogue")

CATALOGUE_PATH = Path(__file__).with_name("data") / "catalogue.json"
CATEGORIES = ("basic", "specialty")
# Specialty items are performed only by registered nurses with five years' practice.
SPECIALTY_QUALIFICATION = "rn_5y"


@lru_cache(maxsize=1)
def catalogue_data() -> tuple[dict[str, Any], ...]:
    """The shipped items, checked once: a broken file fails loudly at first use, not mid-order."""
    items = tuple(json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))["items"])
    codes = [item["code"] for item in items]
    if len(codes) != len(set(codes)):
        raise ValueError(f"{CATALOGUE_PATH}: duplicate codes")
    for item in items:
        if item["category"] not in CATEGORIES:
            raise ValueError(f"{CATALOGUE_PATH}: {item['code']}: unknown category {item['category']!r}")
        if item["category"] == "specialty" and SPECIALTY_QUALIFICATION not in item["skills"]:
            raise ValueError(f"{CATALOGUE_PATH}: {item['code']}: specialty items need {SPECIALTY_QUALIFICATION}")
        if item["duration_minutes"] <= 0 or item["price_fen"] <= 0:
            raise ValueError(f"{CATALOGUE_PATH}: {item['code']}: duration and price must be positive")
    return items


def seed_catalogue() -> int:
    """Insert the shipped items whose codes are missing; return how many were inserted.

    Adds and flushes; the caller commits.
    """
    existing = set(session.scalars(select(CatalogueItem.code)))
    missing = [item for item in catalogue_data() if item["code"] not in existing]
    for item in missing:
        session.add(CatalogueItem(code=item["code"], name=item["name"], name_zh=item["name_zh"],
                                  category=item["category"], skills=list(item["skills"]),
                                  duration_minutes=item["duration_minutes"], price_fen=item["price_fen"],
                                  active=True))
    session.flush()
    if missing:
        log.info("event=catalogue_seeded inserted=%d", len(missing))
    return len(missing)


def active_items() -> list[CatalogueItem]:
    """What patients may book today, basic before specialty, then by code."""
    return list(session.scalars(
        select(CatalogueItem).where(CatalogueItem.active.is_(True))
        .order_by(CatalogueItem.category, CatalogueItem.code)))


def active_item(code: str) -> CatalogueItem | None:
    """The bookable item with this code, or None when unknown or withdrawn."""
    return session.scalar(select(CatalogueItem).where(CatalogueItem.code == code,
                                                      CatalogueItem.active.is_(True)))
