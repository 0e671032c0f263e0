"""Nurses and couriers: what they may do (skills), where (districts), from where (home), when (shifts).

Admins and dispatchers keep these records; the dispatch service reads them to
build a day's problem. Districts are checked against the configured district
index here, once, so a typo can never silently keep a worker out of every plan.
Errors name the field as the HTTP body spells it (``districts.0``,
``shifts.1.end``) because the API is the main caller.
"""
from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, String, cast, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from dispatch.models import Shift, Worker
from dispatch.qualification import HOME_CARE_QUALIFIED, TITLES, is_home_care_qualified
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from doorstep.models import User

log = logging.getLogger("doorstep.dispatch.workers")

KINDS = ("nurse", "courier")
MANAGERS = ("admin", "dispatcher")
MAX_CAPACITY = 100_000  # per dimension; keeps the optimiser's integer arithmetic far from overflow
SHIFT_YEARS = (2000, 2100)
MAX_ID = 2**31  # INTEGER primary keys on PostgreSQL
UPDATABLE = frozenset({"kind", "name", "skills", "districts", "home_lat", "home_lon", "shifts",
                       "capacity", "active", "title", "registration_number", "practice_began"})
# A nurse's professional record; couriers have none.
NURSE_RECORD = ("title", "registration_number", "practice_began")
EARLIEST_PRACTICE = date(1950, 1, 1)


class PreconditionFailed(DomainError):
    """``If-Match`` named a version that is no longer current: someone edited the worker meanwhile."""

    status, title, type_ = 412, "Precondition failed", "https://doorstep.dev/problems/precondition-failed"


def district_codes() -> tuple[str, ...]:
    from doorstep.geography import districts

    return districts().codes


def check_districts(districts: Iterable[str], field: str = "districts") -> dict[str, list[str]]:
    """``{"districts.1": ["Unknown district ..."]}`` for every code the index does not know."""
    codes = district_codes()
    return {f"{field}.{i}": [f"Unknown district {code!r}; one of: {', '.join(codes)}."]
            for i, code in enumerate(districts) if code not in codes}


def access_worker(actor: Actor | None, worker_id: int) -> Worker:
    """The worker, for managers (or the worker themself); ``NotFound`` otherwise, never 403."""
    # An id beyond the column's range exists nowhere (and would overflow the driver).
    worker = session.get(Worker, worker_id, options=[selectinload(Worker.shifts)]) if 0 < worker_id < MAX_ID else None
    allowed = actor is None or actor.has_role(*MANAGERS) or actor.worker_id == worker_id
    if worker is None or not allowed:
        raise NotFound(f"No worker {worker_id}.")
    return worker


def list_workers(actor: Actor | None, *, kind: str | None = None, active: bool | None = None,
                 district: str | None = None) -> Select[Any]:
    """Workers newest first, as a select the caller paginates.

    ``district`` matches the JSON text of the list (``"heping"`` with its quotes), which
    works on SQLite and PostgreSQL alike and keeps the filter in SQL, so pages stay exact.
    """
    _require_manager(actor)
    query = select(Worker).options(selectinload(Worker.shifts)).order_by(Worker.id.desc())
    if kind is not None:
        query = query.where(Worker.kind == kind)
    if active is not None:
        query = query.where(Worker.active.is_(active))
    if district is not None:
        query = query.where(cast(Worker.districts, String).like(f'%"{district}"%'))
    return query


def create_worker(actor: Actor | None, *, kind: str, name: str, skills: Sequence[str],
                  districts: Sequence[str], home_lat: float, home_lon: float,
                  shifts: Sequence[tuple[datetime, datetime]] = (),
                  capacity: dict[str, int] | None = None, active: bool = True, title: str | None = None,
                  registration_number: str | None = None, practice_began: date | None = None) -> Worker:
    """Add a nurse or a courier with their concrete shifts (a nurse with title, registration, practice start).

    Raises ``ValidationFailed`` (422) naming each bad field: unknown kind or
    district, a shift that ends before it starts or overlaps another, a naive
    time, a home that is not a coordinate, a negative capacity.
    """
    _require_manager(actor)
    registration_number = registration_number.strip() if registration_number else registration_number
    fields = {"kind": kind, "name": name, "skills": list(skills), "districts": list(districts), "home_lat": home_lat,
                  "home_lon": home_lon, "shifts": list(shifts), "capacity": capacity, "active": active,
                  "title": title, "registration_number": registration_number, "practice_began": practice_began}
    _validate(fields)
    _check_registration_free(registration_number, None)
    worker = Worker(kind=kind, name=name.strip(), skills=_unique(skills), districts=_unique(districts),
                    home_lat=home_lat, home_lon=home_lon, capacity=capacity or None, active=active,
                    title=title, registration_number=registration_number, practice_began=practice_began)
    worker.shifts = [Shift(start=start, end=end) for start, end in sorted(shifts)]
    session.add(worker)
    session.flush()
    record_access(actor, "create", "worker", worker.id, kind=kind)
    log.info("event=worker_created worker_id=%s kind=%s shifts=%d", worker.id, kind, len(worker.shifts))
    return worker


def update_worker(actor: Actor | None, worker_id: int, *, expected_version: int | None = None,
                  **changes: Any) -> Worker:
    """Replace the given fields (``shifts`` replaces the whole list); others stay as they are.

    ``expected_version`` (from ``If-Match``) guards against lost updates: a
    mismatch is a 412. A concurrent edit that slips between load and flush
    still fails on the row's version column (``StaleDataError`` → 409).
    """
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_worker() got unknown fields: {', '.join(sorted(unknown))}")
    _require_manager(actor)
    worker = access_worker(actor, worker_id)
    if expected_version is not None and expected_version != worker.version:
        raise PreconditionFailed(f"Worker {worker_id} is at version {worker.version}, not {expected_version}; "
                                 "reload it and apply your change again.")
    current = {"kind": worker.kind, "name": worker.name, "skills": worker.skills, "districts": worker.districts,
                   "home_lat": worker.home_lat, "home_lon": worker.home_lon, "capacity": worker.capacity,
                   "active": worker.active, "shifts": [(s.start, s.end) for s in worker.shifts],
                   "title": worker.title, "registration_number": worker.registration_number,
                   "practice_began": worker.practice_began}
    if changes.get("registration_number"):
        changes["registration_number"] = changes["registration_number"].strip()
    if "kind" in changes and changes["kind"] != worker.kind:
        _check_accounts_allow_kind(worker, changes["kind"])
    # A courier turning nurse (or back) is checked against the record it will have.
    _validate({**current, **changes}, only=set(changes) | ({"kind", *NURSE_RECORD} if "kind" in changes else set()))
    _check_registration_free(changes.get("registration_number"), worker.id)
    for key, value in changes.items():
        if key == "shifts":
            worker.shifts = [Shift(start=start, end=end) for start, end in sorted(value)]
        elif key in ("skills", "districts"):
            setattr(worker, key, _unique(value))
        elif key == "name":
            worker.name = value.strip()
        elif key == "capacity":
            worker.capacity = value or None
        else:
            setattr(worker, key, value)
    # A change of shifts alone touches only child rows; mark the worker itself so that its
    # version (the ETag) moves with every edit.
    flag_modified(worker, "name")
    session.flush()
    record_access(actor, "update", "worker", worker.id, fields=sorted(changes))
    log.info("event=worker_updated worker_id=%s fields=%s", worker.id, ",".join(sorted(changes)))
    return worker


def home_care_qualified(worker: Worker, on: date | None = None) -> bool:
    """Whether the hospital's rules let this worker make home visits on ``on`` (default: today, local).

    A nurse with a registration number, a title at least ``DOORSTEP_HOME_CARE_MIN_TITLE`` and
    at least ``DOORSTEP_HOME_CARE_MIN_YEARS`` of practice; a record missing any of them is not.
    """
    settings = current_app.config["SETTINGS"]
    if on is None:
        on = datetime.now(ZoneInfo(settings.timezone)).date()
    return (worker.kind == "nurse" and bool(worker.registration_number)
            and is_home_care_qualified(worker.title, worker.practice_began, on,
                                       settings.home_care_min_years, settings.home_care_min_title))


def _check_registration_free(number: str | None, worker_id: int | None) -> None:
    if not number:
        return
    holder = session.scalar(select(Worker.id).where(Worker.registration_number == number))
    if holder is not None and holder != worker_id:
        raise Conflict(f"Registration number {number!r} belongs to worker {holder}.",
                       {"registration_number": [f"Already on worker {holder}."]})


def _require_manager(actor: Actor | None) -> None:
    if actor is not None and not actor.has_role(*MANAGERS):
        raise Forbidden("Only admins and dispatchers manage workers.")


def _check_accounts_allow_kind(worker: Worker, kind: str) -> None:
    roles = set(session.scalars(select(User.role).where(User.worker_id == worker.id)))
    if roles - {kind}:
        raise Conflict(f"Worker {worker.id} has a {', '.join(sorted(roles))} account; "
                       f"it cannot become a {kind}.")


def _validate(f: dict[str, Any], only: set[str] | None = None) -> None:
    """Collect every fault at once, keyed by the HTTP body's field paths."""
    def wanted(*names: str) -> bool:
        return only is None or bool(only & set(names))

    errors: dict[str, list[str]] = {}
    if wanted("kind") and f["kind"] not in KINDS:
        errors["kind"] = [f"One of: {', '.join(KINDS)}."]
    if wanted("name") and not (isinstance(f["name"], str) and 0 < len(f["name"].strip()) <= 100):
        errors["name"] = ["Between 1 and 100 characters."]
    if wanted("skills"):
        errors.update({f"skills.{i}": ["A skill code of 1 to 40 characters."]
                       for i, s in enumerate(f["skills"]) if not (isinstance(s, str) and 0 < len(s) <= 40)})
        by_hand = f"{HOME_CARE_QUALIFIED} follows from title and practice_began; it is not set by hand."
        errors.update({f"skills.{i}": [by_hand]
                       for i, s in enumerate(f["skills"]) if s == HOME_CARE_QUALIFIED})
    errors.update(_nurse_record_errors(f, wanted))
    if wanted("districts"):
        if not f["districts"]:
            errors["districts"] = ["At least one district: a worker outside every district is never planned."]
        errors.update(check_districts(f["districts"]))
    if wanted("home_lat", "home_lon"):
        if not (_finite(f["home_lat"]) and -90 <= f["home_lat"] <= 90):
            errors["home.lat"] = ["Degrees between -90 and 90."]
        if not (_finite(f["home_lon"]) and -180 <= f["home_lon"] <= 180):
            errors["home.lon"] = ["Degrees between -180 and 180."]
    if wanted("capacity") and f["capacity"]:
        errors.update({f"capacity.{k}": [f"A whole number from 0 to {MAX_CAPACITY}."]
                       for k, v in f["capacity"].items()
                       if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_CAPACITY})
    if wanted("shifts"):
        errors.update(_shift_errors(f["shifts"]))
    if errors:
        raise ValidationFailed("Some fields of the worker are not valid: " + ", ".join(sorted(errors)), errors)


def _nurse_record_errors(f: dict[str, Any], wanted: Any) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if f["kind"] != "nurse":
        return {name: ["Only nurses have a title, registration number and practice start."]
                for name in NURSE_RECORD if wanted(name, "kind") and f.get(name) is not None}
    if wanted("title") and f["title"] is not None and f["title"] not in TITLES:
        errors["title"] = [f"One of: {', '.join(TITLES)}."]
    number = f["registration_number"]
    if wanted("registration_number") and number is not None and not (isinstance(number, str)
                                                                     and 0 < len(number.strip()) <= 40):
        errors["registration_number"] = ["The practising certificate number (护士执业证书编号), 1 to 40 characters."]
    began = f["practice_began"]
    if wanted("practice_began") and began is not None:
        today = datetime.now(ZoneInfo(current_app.config["SETTINGS"].timezone)).date()
        if not EARLIEST_PRACTICE <= began <= today:
            errors["practice_began"] = [f"A date from {EARLIEST_PRACTICE.year} to today."]
    return errors


def _shift_errors(shifts: Sequence[tuple[datetime, datetime]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for i, (start, end) in enumerate(shifts):
        for name, value in (("start", start), ("end", end)):
            if value.tzinfo is None:
                errors[f"shifts.{i}.{name}"] = ["A time with its UTC offset, e.g. 2026-11-23T08:00:00+08:00."]
            elif not SHIFT_YEARS[0] <= value.year < SHIFT_YEARS[1]:
                errors[f"shifts.{i}.{name}"] = [f"A time between {SHIFT_YEARS[0]} and {SHIFT_YEARS[1]}."]
        if f"shifts.{i}.start" not in errors and f"shifts.{i}.end" not in errors and end <= start:
            errors[f"shifts.{i}.end"] = ["Must be after the shift's start."]
    if not errors:
        ordered = sorted(range(len(shifts)), key=lambda i: shifts[i][0])
        for before, after in itertools.pairwise(ordered):
            if shifts[after][0] < shifts[before][1]:
                errors[f"shifts.{after}"] = [f"Overlaps shift {before}."]
    return errors


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _unique(values: Iterable[str]) -> list[str]:
    """Keep the first of each, in the given order (so the API echoes what was sent)."""
    return list(dict.fromkeys(values))
