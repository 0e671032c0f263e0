"""Booking slots: the windows the plan can still keep for one more visit at an address.

For each candidate window (``SLOT_HOURS`` long, inside the hospital's service
hours, passing every booking rule of ``orders.booking``), a probe visit with
that window is tried against the district's day as it stands: the current
plan's routes (``dispatch.live_state``, the same reading re-planning uses) with
:func:`dispatch.insertion.cheapest_insertion`, the check an urgent order gets.
Before the day is planned, each nurse on shift is tried with an empty route.
Answers are cached per district, day, plan revision and item for ``CACHE_S``.
"""
from __future__ import annotations

import threading
import time
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from dispatch.insertion import cheapest_insertion
from dispatch.live_state import current_plan, read_district_day
from dispatch.problem import parse_problem
from dispatch.qualification import HOME_CARE_QUALIFIED
from dispatch.service import _tz, add_matrices, build_day_problem, local_date
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import NotFound, ValidationFailed
from orders.booking import BookingRules, booking_errors
from orders.catalogue import active_item, required_qualifications
from orders.models import Address

SLOT_HOURS = 2
CACHE_S = 60
_cache: dict[tuple[Any, ...], tuple[float, list[dict[str, Any]]]] = {}
_lock = threading.Lock()


def offered_slots(actor: Actor, *, service_code: str, address_id: int, date: str | Date) -> list[dict[str, Any]]:
    """Every candidate window of ``date`` with ``available`` true where a qualified nurse can still take it.

    Raises ``NotFound`` for an address that is not the caller's, ``ValidationFailed``
    for an unknown item.
    """
    address = session.scalar(select(Address).where(Address.id == address_id,
                                                   Address.patient_id == actor.patient_id))
    if address is None or actor.patient_id is None:
        raise NotFound(f"No address {address_id}.")
    item = active_item(service_code)
    if item is None:
        raise ValidationFailed("Unknown service.", {"service_code": [f"No bookable item {service_code!r}."]})
    day = local_date(date)
    settings = current_app.config["SETTINGS"]
    rules, now, tz = BookingRules.from_settings(settings), utcnow(), _tz()
    windows = []
    start = datetime.combine(Date.fromisoformat(day), rules.opens, tzinfo=tz)
    while True:
        end = start + timedelta(hours=SLOT_HOURS)
        if end.timetz().replace(tzinfo=None) > rules.closes or end.date() != start.date():
            break
        if not booking_errors(start, end, rules=rules, now=now, duration_minutes=item.duration_minutes):
            windows.append((start, end))
        start = end
    plan = current_plan(day, address.district)
    key = (address.district, day, plan.id if plan else None, plan.revision if plan else None, service_code,
           address.id, tuple(windows))
    with _lock:
        hit = _cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_S:
        return hit[1]
    open_ = _available(plan, address, item, windows, now, tz, day)
    slots = [{"start": s, "end": e, "available": ok} for (s, e), ok in zip(windows, open_, strict=True)]
    with _lock:
        _cache[key] = (time.monotonic(), slots)
    return slots


def _available(plan: Any, address: Address, item: Any, windows: list[tuple[datetime, datetime]],
               now: datetime, tz: Any, day: str) -> list[bool]:
    if not windows:
        return []
    qualification = required_qualifications([item.code]).get(item.code, HOME_CARE_QUALIFIED)
    skills = list(dict.fromkeys([*item.skills, HOME_CARE_QUALIFIED, qualification]))
    location = {"id": f"address-{address.id}", "lat": address.lat, "lon": address.lon}
    probes = [{"id": f"slot-{n}", "kind": "visit", "location": location["id"], "district": address.district,
               "skills": skills, "duration": item.duration_minutes * 60,
               "windows": [[s.astimezone(tz).isoformat(), e.astimezone(tz).isoformat()]]}
              for n, (s, e) in enumerate(windows)]
    if plan is not None:
        state = read_district_day(plan, address.district, now, allow_reassign=False, extra_tasks=probes,
                                  extra_locations=[location])
        problem, routes = state.problem, state.routes
    else:
        doc, _ = build_day_problem(day, [address.district], matrices=False)
        doc["tasks"] = probes
        if location["id"] not in {loc["id"] for loc in doc["locations"]}:
            doc["locations"].append(location)
        add_matrices(doc)
        problem, routes = parse_problem(doc), {}
    return [cheapest_insertion(problem, routes, p["id"]) is not None for p in probes]
