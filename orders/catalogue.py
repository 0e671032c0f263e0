"""The hospital's home-care catalogue: what a patient may book, with its skills, duration and price.

Admins create, edit and withdraw items (``create_item``, ``update_item``,
``deactivate_item``); an item is never deleted, since orders refer to it. Each
price change is a row of ``CataloguePrice`` with the moment it takes effect, and
a booking takes the price in effect then (``booking_terms``), so an order keeps
the price it was booked at. Each item has an eligibility rule
(``orders.eligibility``) judged at booking.

The items ship as data (``orders/data/catalogue.json``) so that a hospital edits
a file, not code. ``seed_catalogue`` inserts the codes the database lacks and
never touches existing rows: a price or name changed by an administrator
survives a re-seed, and running it twice adds nothing.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import object_session

from dispatch.qualification import HOME_CARE_QUALIFIED
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import enqueue_after_commit, session, utcnow
from doorstep.errors import Conflict, Forbidden, NotFound, ValidationFailed
from orders.eligibility import PatientFacts, Verdict, check, normalise_rule, rule_errors
from orders.models import CatalogueItem, CataloguePrice

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
        if rule_errors(item.get("eligibility") or {"rule": "none"}):
            raise ValueError(f"{CATALOGUE_PATH}: {item['code']}: a bad eligibility rule")
    return items


def seed_catalogue() -> int:
    """Insert the shipped items whose codes are missing; return how many were inserted.

    Adds and flushes; the caller commits.
    """
    existing = set(session.scalars(select(CatalogueItem.code)))
    missing = [item for item in catalogue_data() if item["code"] not in existing]
    now = utcnow()
    for item in missing:
        row = CatalogueItem(code=item["code"], name=item["name"], name_zh=item["name_zh"],
                            category=item["category"], skills=list(item["skills"]),
                            duration_minutes=item["duration_minutes"], price_fen=item["price_fen"],
                            active=True, required_qualification=HOME_CARE_QUALIFIED,
                            eligibility=item.get("eligibility") or {"rule": "none"},
                            preparation_notes=item.get("preparation_notes"),
                            preparation_notes_zh=item.get("preparation_notes_zh"))
        row.prices.append(CataloguePrice(price_fen=item["price_fen"], effective_from=now))
        session.add(row)
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


# What a booking reads of an item, kept per web process ------------------------------------------
#
# Booking a visit reads its item and price history (two queries) on every request, and the
# catalogue changes a few times a year. A process keeps what it read for
# ``Settings.catalogue_cache_s`` (default 5 s, ``DOORSTEP_CATALOGUE_CACHE_S``; 0 turns it off).
# A change made through this process (admin calls, the seed, any ORM write of an item or a
# price) empties its copy at once and again when it commits; other processes see the change
# within the cache time. Prices dated ahead are in the copy, so they take effect on time; a
# price set to take effect at once reaches other processes' bookings within those seconds,
# inside the minutes a price may already be dated back (``PRICE_BACKDATE_TOLERANCE``).
# Unknown codes are not remembered: a new item is bookable at once, and junk codes fill nothing.


@dataclass(frozen=True)
class BookableItem:
    """A snapshot of an active item as booking uses it: code, skills, duration, rule, prices."""

    code: str
    skills: tuple[str, ...]
    duration_minutes: int
    eligibility: Mapping[str, Any]
    price_fen: int
    prices: tuple[tuple[datetime, int], ...]  # (effective_from, price_fen), oldest first

    @classmethod
    def of(cls, item: CatalogueItem) -> BookableItem:
        return cls(code=item.code, skills=tuple(item.skills), duration_minutes=item.duration_minutes,
                   eligibility=dict(item.eligibility), price_fen=item.price_fen,
                   prices=tuple((row.effective_from, row.price_fen) for row in item.prices))

    def price_on(self, moment: datetime) -> int:
        """As ``CatalogueItem.price_on``: the latest price that took effect by ``moment``."""
        current = self.price_fen
        for effective_from, price_fen in self.prices:
            if effective_from <= moment:
                current = price_fen
        return current


_bookable: dict[str, tuple[float, BookableItem]] = {}
_clock = time.monotonic  # tests move it


def bookable_item(code: str) -> BookableItem | None:
    """The active item with this code as booking needs it, or None; see the note above on caching."""
    ttl = current_app.config["SETTINGS"].catalogue_cache_s
    now = _clock()
    hit = _bookable.get(code)
    if hit is not None and now < hit[0] <= now + ttl:
        return hit[1]
    item = active_item(code)
    if item is None:
        _bookable.pop(code, None)
        return None
    snapshot = BookableItem.of(item)
    if ttl > 0:
        _bookable[code] = (now + ttl, snapshot)
    return snapshot


def forget_bookable_items() -> None:
    """Empty this process's copy of the catalogue (a change was written)."""
    _bookable.clear()


@event.listens_for(CatalogueItem, "after_insert")
@event.listens_for(CatalogueItem, "after_update")
@event.listens_for(CatalogueItem, "after_delete")
@event.listens_for(CataloguePrice, "after_insert")
@event.listens_for(CataloguePrice, "after_update")
@event.listens_for(CataloguePrice, "after_delete")
def _catalogue_written(_mapper: Any, _connection: Any, target: Any) -> None:
    # Now, so this transaction books from what it wrote; and after commit, in case another
    # request of this process read the old rows in between.
    forget_bookable_items()
    written_in = object_session(target)
    if written_in is not None:
        enqueue_after_commit(written_in, forget_bookable_items)


# Managed by admins ---------------------------------------------------------------------------

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
UPDATABLE = frozenset({"name", "name_zh", "category", "skills", "required_qualification", "duration_minutes",
                       "price_fen", "price_effective_from", "preparation_notes", "preparation_notes_zh",
                       "eligibility", "active"})
# A price may be dated a little in the past (clocks differ), never back over orders already booked.
PRICE_BACKDATE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class BookingTerms:
    """What a booking takes from the catalogue: the price in effect and the eligibility verdict."""

    price_fen: int
    verdict: Verdict

    @property
    def needs_triage(self) -> bool:
        return self.verdict.needs_triage


def list_items(actor: Actor, *, include_inactive: bool = False) -> list[CatalogueItem]:
    """Active items for everyone; admins may ask for withdrawn ones too."""
    if include_inactive and not actor.has_role("admin"):
        raise Forbidden("Only admins see withdrawn items.")
    return active_items() if not include_inactive else list(session.scalars(
        select(CatalogueItem).order_by(CatalogueItem.category, CatalogueItem.code)))


def access_item(actor: Actor, code: str) -> CatalogueItem:
    """The item; a withdrawn one only for admins (others get the same 404 as for an unknown code)."""
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.code == code))
    if item is None or not (item.active or actor.has_role("admin")):
        raise NotFound(f"No catalogue item {code!r}.")
    return item


def create_item(actor: Actor, *, code: str, name: str, name_zh: str, category: str, skills: Sequence[str],
                duration_minutes: int, price_fen: int, required_qualification: str = HOME_CARE_QUALIFIED,
                eligibility: Mapping[str, Any] | None = None, preparation_notes: str | None = None,
                preparation_notes_zh: str | None = None, active: bool = True) -> CatalogueItem:
    """Add an item with its first price, effective now. A code in use is a 409 naming ``code``."""
    _require_admin(actor)
    if session.scalar(select(CatalogueItem.id).where(CatalogueItem.code == code)) is not None:
        raise Conflict(f"The code {code!r} is taken.", {"code": ["Already in the catalogue."]})
    rule = _checked_rule(eligibility or {"rule": "none"})
    item = CatalogueItem(code=code, name=name.strip(), name_zh=name_zh.strip(), category=category,
                         skills=_unique(skills), duration_minutes=duration_minutes, price_fen=price_fen,
                         required_qualification=required_qualification, eligibility=rule,
                         preparation_notes=preparation_notes, preparation_notes_zh=preparation_notes_zh,
                         active=active)
    item.prices.append(CataloguePrice(price_fen=price_fen, effective_from=utcnow(), set_by=actor.user_id))
    session.add(item)
    session.flush()
    record_access(actor, "create", "catalogue_item", code)
    log.info("event=catalogue_item_created code=%s category=%s", code, category)
    return item


def update_item(actor: Actor, code: str, **changes: Any) -> CatalogueItem:
    """Change the given fields. A new ``price_fen`` is added to the price history, effective at
    ``price_effective_from`` (default now); orders already booked keep their price."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_item() got unknown fields: {', '.join(sorted(unknown))}")
    _require_admin(actor)
    item = access_item(actor, code)
    effective_from = changes.pop("price_effective_from", None)
    if effective_from is not None and "price_fen" not in changes:
        raise ValidationFailed("A price date needs a price.", {"price_fen": ["Required with price_effective_from."]})
    now = utcnow()
    if effective_from is not None and effective_from < now - PRICE_BACKDATE_TOLERANCE:
        raise ValidationFailed("A price cannot take effect in the past.",
                               {"price_effective_from": ["Must be now or later: booked orders keep their price."]})
    if "eligibility" in changes:
        changes["eligibility"] = _checked_rule(changes["eligibility"])
    for key, value in changes.items():
        if key == "price_fen":
            starts = max(effective_from or now, now)
            item.prices.append(CataloguePrice(price_fen=value, effective_from=starts, set_by=actor.user_id))
            if starts <= now:
                item.price_fen = value
        elif key == "skills":
            item.skills = _unique(value)
        elif key in ("name", "name_zh"):
            setattr(item, key, value.strip())
        else:
            setattr(item, key, value)
    session.flush()
    record_access(actor, "update", "catalogue_item", code, fields=sorted(changes))
    log.info("event=catalogue_item_updated code=%s fields=%s", code, ",".join(sorted(changes)))
    return item


def deactivate_item(actor: Actor, code: str) -> CatalogueItem:
    """Withdraw an item: no longer listed or bookable. Never deleted, since orders refer to it."""
    return update_item(actor, code, active=False)


def booking_terms(item: CatalogueItem | BookableItem, facts: PatientFacts, now: datetime,
                  today: date) -> BookingTerms:
    """The price in effect ``now`` and the eligibility verdict for a patient booking on ``today``.

    Raises ``ValidationFailed`` naming ``service_code`` with the reason in words when the
    patient is not eligible.
    """
    verdict = check(item.eligibility, facts, today)
    if not verdict.eligible:
        raise ValidationFailed(f"You cannot book {item.code}: {verdict.reason}", {"service_code": [verdict.reason]})
    return BookingTerms(price_fen=item.price_on(now), verdict=verdict)


def required_qualifications(codes: Iterable[str]) -> dict[str, str]:
    """``{service_code: qualification}`` for the given codes (the dispatch problem adds it to each visit)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(select(CatalogueItem.code, CatalogueItem.required_qualification)
                           .where(CatalogueItem.code.in_(wanted)))
    return {code: qualification or HOME_CARE_QUALIFIED for code, qualification in rows}


def _checked_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    errors = rule_errors(rule)
    if errors:
        raise ValidationFailed("The eligibility rule is not valid.", errors)
    return normalise_rule(rule)


def _require_admin(actor: Actor) -> None:
    if not actor.has_role("admin"):
        raise Forbidden("Only admins manage the catalogue.")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
