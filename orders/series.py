"""Recurring care visits, and the limit on a patient's open care orders.

A series (e.g. PICC maintenance weekly for six weeks) is booked in one request:
one care order per occurrence, at the same local time of day, written together
or not at all. Each occurrence passes the booking rules (``orders.booking``),
except that the booking horizon applies to the first only: it says how far
ahead a patient may start booking, and a weekly course booked within it may run
beyond it. Triage happens once, on the first occurrence (``orders.triage``).

A patient has at most ``Settings.max_open_care_orders`` open care orders (not in
a final status); a series counts as one, whatever its length. Going over is a
409, not a 422: the request is well formed and would succeed once an open order
ends — it conflicts with the patient's current orders, not with its own content.
The patient's row is locked while counting (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite serialises writers), so two bookings at once cannot both
take the last place.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, distinct, func, select

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import insert_now, session, utcnow
from doorstep.errors import Conflict, Forbidden, NotFound, ValidationFailed
from orders.access import AnyOrder, access_me, find_patient_address, is_triage_nurse, visible_orders
from orders.booking import BookingRules, booking_errors, occurrence_windows, open_orders_error
from orders.catalogue import active_item, booking_terms
from orders.clinical import patient_facts
from orders.lifecycle import change_status, record_creation
from orders.models import CareOrder, CareSeries, Patient
from orders.states import CARE_ORDER

log = logging.getLogger("doorstep.orders.series")

MAX_SPAN = timedelta(days=366)  # a series covers at most a year
NOT_STARTED = frozenset({"requested", "awaiting_patient", "accepted", "scheduled"})
OPEN = CARE_ORDER.states - CARE_ORDER.terminal


def booking_rules() -> BookingRules:
    return BookingRules.from_settings(current_app.config["SETTINGS"])


def open_care_orders(patient_id: int) -> int:
    """The patient's open care orders, each series counting once."""
    return session.execute(_OPEN_CARE_ORDERS, {"patient_id": patient_id}).scalar_one()


# Counted by the database (orders alone, plus series once each) with a statement built once: every
# booking runs it, and the rows themselves are of no use here. The open statuses are parameters of
# their own: an IN list of one expanding parameter is rewritten at every execution.
_OPEN_CARE_ORDERS = (
    select(func.count().filter(CareOrder.series_id.is_(None)) + func.count(distinct(CareOrder.series_id)))
    .where(CareOrder.patient_id == bindparam("patient_id"),
           CareOrder.status.in_([bindparam(f"open_{n}", status) for n, status in enumerate(sorted(OPEN))])))


def check_open_order_limit(patient_id: int, *, locked: bool = False) -> None:
    """409 naming the limit when the patient may not open another care order (or series).

    ``locked``: the caller read the patient with ``access_me_at`` (which locks it) in this
    transaction, which saves a round trip; otherwise the row is locked here.
    """
    if not locked:
        session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    limit = current_app.config["SETTINGS"].max_open_care_orders
    count = open_care_orders(patient_id)
    reason = open_orders_error(count, limit)
    if reason:
        raise Conflict(reason, {"open_care_orders": [f"At most {limit} open at once; you have {count}."]})


def insert_within_open_order_limit(order: CareOrder) -> None:
    """Write a new care order unless its patient is at the open-order limit: 409 as
    ``check_open_order_limit``. The caller has locked the patient (``access_me_at``).

    The count is the INSERT's own condition (``doorstep.db.insert_now``): on PostgreSQL one
    round trip for both, and the statement starts after the lock is held, so it sees every
    booking committed before.
    """
    limit = current_app.config["SETTINGS"].max_open_care_orders
    if insert_now(order, only_if=_UNDER_LIMIT, params={"patient_id": order.patient_id, "limit": limit}) is None:
        check_open_order_limit(order.patient_id, locked=True)  # the 409 with the count
        insert_now(order)  # under the limit after all: one of theirs ended in between


_UNDER_LIMIT = _OPEN_CARE_ORDERS.scalar_subquery() < bindparam("limit")


def create_series(actor: Actor, *, service_code: str, address_id: int, first_start: datetime,
                  first_end: datetime, every_days: int, count: int, notes: str | None = None,
                  now: datetime | None = None) -> CareSeries:
    """A patient books ``count`` visits ``every_days`` apart; each waits for triage.

    Field errors name the body's fields (``first_window.start``, ``count``); a
    later occurrence that breaks a rule is named ``occurrences.<n>.window.start``
    (n from 1 for the first). Raises ``ValidationFailed`` (422), or ``Conflict``
    (409) at the open-order limit; nothing is written then.
    """
    if actor.role != "patient":
        raise Forbidden("Only a patient books visits.")
    now = now or utcnow()
    rules = booking_rules()
    patient = access_me(actor)
    errors: dict[str, list[str]] = {}
    item = active_item(service_code)
    if item is None:
        errors["service_code"] = ["No such service in the catalogue."]
    address = find_patient_address(patient.id, address_id)
    if address is None:
        errors["address_id"] = ["No such address of yours."]
    if timedelta(days=every_days * (count - 1)) > MAX_SPAN:
        errors["count"] = [f"A series spans at most {MAX_SPAN.days} days: every_days × (count - 1)."]
    duration = item.duration_minutes if item is not None else None
    first = booking_errors(first_start, first_end, rules=rules, now=now, duration_minutes=duration,
                           field="first_window")
    errors.update(first)
    windows: list[tuple[datetime, datetime]] = []
    if not first and "count" not in errors:
        windows = occurrence_windows(first_start, first_end, every_days=every_days, count=count, tz=rules.tz)
        for n, (start, end) in enumerate(windows[1:], start=2):
            errors.update(booking_errors(start, end, rules=rules, now=now, duration_minutes=duration,
                                         field=f"occurrences.{n}.window", check_horizon=False))
    if errors:
        raise ValidationFailed("The series cannot be booked.", errors)
    assert item is not None and address is not None
    terms = booking_terms(item, patient_facts(patient), now, now.astimezone(rules.tz).date())
    check_open_order_limit(patient.id)
    series = CareSeries(patient_id=patient.id, service_code=item.code, every_days=every_days, count=count,
                        created_by=actor.user_id)
    session.add(series)
    session.flush()
    for n, (start, end) in enumerate(windows, start=1):
        order = CareOrder(status=CARE_ORDER.initial, patient_id=patient.id, address_id=address.id,
                          district=address.district, window_start=start, window_end=end,
                          service_date=start.astimezone(rules.tz).date().isoformat(), created_by=actor.user_id,
                          service_code=item.code, skills=list(item.skills), duration_minutes=item.duration_minutes,
                          price_fen=terms.price_fen, notes=notes, series_id=series.id, series_sequence=n)
        session.add(order)
        session.flush()
        record_creation(order, actor)
        record_access(actor, "create", "care_order", order.id, patient_id=patient.id, series_id=series.id)
    record_access(actor, "create", "care_series", series.id, patient_id=patient.id, count=count)
    session.flush()
    session.refresh(series, ["orders"])
    log.info("event=care_series_booked series_id=%s service_code=%s count=%s every_days=%s district=%s",
             series.id, item.code, count, every_days, address.district)
    return series


def access_series(actor: Actor, series_id: int) -> CareSeries:
    """The series for its patient, dispatchers and admins, and triage nurses who may see one of its
    orders; ``NotFound`` otherwise (missing and not-yours alike)."""
    series = session.get(CareSeries, series_id)
    if series is None:
        raise NotFound(f"No series {series_id}.")
    if actor.role in ("dispatcher", "admin"):
        return series
    if actor.role == "patient" and actor.patient_id == series.patient_id:
        return series
    if is_triage_nurse(actor) and session.scalar(
            visible_orders(actor).where(AnyOrder.CareOrder.series_id == series_id).limit(1)) is not None:
        return series
    raise NotFound(f"No series {series_id}.")


def get_series(actor: Actor, series_id: int) -> CareSeries:
    """One series with its orders; the read is audited."""
    series = access_series(actor, series_id)
    record_access(actor, "read", "care_series", series.id)
    return series


@dataclass(frozen=True)
class SeriesCancellation:
    series: CareSeries
    cancelled: list[int]
    left: list[CareOrder]  # started (en_route or later) or already final: untouched


def cancel_series(actor: Actor, series_id: int, reason: str | None = None) -> SeriesCancellation:
    """Cancel every occurrence that has not started (before ``en_route``), each through the state
    machine and the cancellation rules of ``orders.cancellation``, each with its history row; the
    rest are left as they are and listed."""
    from dispatch.locks import lock_orders
    from dispatch.withdraw import withdraw_order
    from orders.cancellation import check_cancel

    if actor.role not in ("patient", "dispatcher"):
        raise Forbidden("Only the patient or a dispatcher cancels a series.")
    series = access_series(actor, series_id)
    if actor.role == "patient" and actor.patient_id != series.patient_id:
        raise NotFound(f"No series {series_id}.")
    lock_orders([o.id for o in series.orders if o.status in NOT_STARTED])  # every order before any stop
    cancelled: list[int] = []
    left: list[CareOrder] = []
    for order in series.orders:
        if order.status not in NOT_STARTED:
            left.append(order)
            continue
        check_cancel(actor.role, "care", order.status, reason)
        change_status(order, "cancelled", actor, reason)
        withdraw_order(order.id, order.kind)
        cancelled.append(order.id)
    record_access(actor, "update", "care_series", series.id, change="cancel", cancelled=len(cancelled))
    log.info("event=care_series_cancelled series_id=%s cancelled=%s left=%s", series.id, len(cancelled), len(left))
    return SeriesCancellation(series, cancelled, left)
