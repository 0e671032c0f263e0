"""What nurses and couriers do from their phones: read the day's route, report stops, position, SOS.

Stop reports go through one mechanism: the stop's own state machine
(``orders.states.STOP``) and, for the order, ``orders.lifecycle.change_status``.
``EVENT_RULES`` says, per stop type, which report moves the stop where and the
order where; anything the tables do not allow is a 409 and changes nothing.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload, with_polymorphic

from dispatch import alarms
from dispatch.alarms import Raised
from dispatch.locks import lock_orders, lock_route_stops
from dispatch.models import Route, Stop, StopEvent, Worker
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import InvalidTransition, NotFound, ValidationFailed
from mobile_api import evv, records
from mobile_api import proof as proof_rules
from mobile_api.access import access_my_stop, find_my_route, my_worker_id
from mobile_api.positions import last_position
from orders.lifecycle import change_status
from orders.models import CareOrder, CatalogueItem, DeliveryOrder, Order
from orders.service import local_tz
from orders.states import BY_KIND, STOP
from orders.tracking import live_arrivals

log = logging.getLogger("doorstep.mobile")

EVENT_TYPES = ("depart", "arrive", "start", "complete", "pickup", "deliver", "fail")


@dataclass(frozen=True)
class Rule:
    """One report at one kind of stop: the stop's next status and the order's.

    ``order_only_from`` makes the order step conditional: an ``arrive`` also
    moves the order on when ``depart`` was skipped (the stop machine allows
    planned→arrived), which would otherwise leave the order stuck behind.
    ``stop_via`` is a status the stop passes through when it cannot go straight
    to ``stop_to``: scanning a parcel at the pharmacy says the courier arrived.
    """

    stop_to: str
    order_to: str | None = None
    order_only_from: frozenset[str] | None = None
    stop_via: str | None = None


EVENT_RULES: dict[str, dict[str, Rule]] = {
    "visit": {
        "depart": Rule("departed", "en_route"),
        "arrive": Rule("arrived", "en_route", frozenset({"scheduled"})),
        "start": Rule("started", "in_progress"),
        "complete": Rule("done", "completed"),
        "fail": Rule("failed", "failed"),
    },
    "pickup": {
        "depart": Rule("departed"),
        "arrive": Rule("arrived"),
        "pickup": Rule("done", "picked_up", stop_via="arrived"),
        "fail": Rule("failed", "failed"),
    },
    "dropoff": {
        "depart": Rule("departed", "out_for_delivery"),
        "arrive": Rule("arrived", "out_for_delivery", frozenset({"picked_up"})),
        "deliver": Rule("done", "delivered"),
        "fail": Rule("failed", "failed"),
    },
}

# Order statuses in which field work is under way; any other (cancelled, completed, ...) takes no reports.
ACTIVE_ORDER = {"care": {"scheduled", "en_route", "in_progress"},
                "delivery": {"scheduled", "picked_up", "out_for_delivery"}}


# --- the day's route -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Place:
    line: str
    district: str
    access_notes: str | None = None


@dataclass(frozen=True)
class VisitTask:
    service_code: str
    service_name: str | None
    service_name_zh: str | None
    duration_minutes: int
    notes: str | None
    patient_first_name: str
    address: Place
    window: Window
    preparation_notes: str | None = None  # the catalogue item's instructions
    preparation_notes_zh: str | None = None


@dataclass(frozen=True)
class PickupTask:
    """At the pharmacy: no patient details beyond what the parcel itself says."""

    tracking_code: str
    items: list[dict[str, Any]]
    cold_chain: bool
    pharmacy_name: str
    window: Window  # the patient's delivery window: the deadline the parcel works to


@dataclass(frozen=True)
class DropoffTask:
    tracking_code: str
    items: list[dict[str, Any]]
    cold_chain: bool
    patient_first_name: str
    address: Place
    window: Window


@dataclass(frozen=True)
class StopCard:
    """One stop as the phone shows it. ``eta`` is the planned arrival until the worker is there;
    ``live_eta`` re-estimates it from the worker's last position (None without a recent one).
    Both are None once the worker has reached the stop."""

    id: int
    sequence: int
    type: str
    status: str
    order_id: int | None
    arrival: datetime | None
    start: datetime | None
    end: datetime | None
    eta: datetime | None
    live_eta: datetime | None
    location: dict[str, float | None]
    task: VisitTask | PickupTask | DropoffTask | None

    @classmethod
    def of(cls, stop: Stop, task: VisitTask | PickupTask | DropoffTask | None,
           live_eta: datetime | None = None) -> StopCard:
        eta = stop.arrival if stop.status in ("planned", "departed") else None
        return cls(stop.id, stop.sequence, stop.type, stop.status, stop.order_id, stop.arrival, stop.start,
                   stop.end, eta, live_eta, {"lat": stop.lat, "lon": stop.lon}, task)


@dataclass(frozen=True)
class DayRoute:
    date: date
    worker: Worker
    plan_id: int | None
    route_id: int | None
    version: str
    unchanged: bool = False
    stops: list[StopCard] = field(default_factory=list)


def my_route(actor: Actor, day: date, *, known_versions: Collection[str] = ()) -> DayRoute:
    """My stops of ``day`` in order, with what each task needs; cancelled orders' stops are hidden.

    ``version`` changes whenever a shown stop or its order changes (or a stop
    appears or disappears). When it is in ``known_versions`` the caller already
    has this route: ``unchanged`` is set, no stops are built and nothing is
    audited, so a phone polling with If-None-Match costs little and logs nothing.
    Live ETAs are not part of the version (they would change with every ping): each
    full answer computes them afresh.
    """
    worker = session.get(Worker, my_worker_id(actor))
    route = find_my_route(actor, day)
    if route is None:
        version = f"none-{day.isoformat()}"
        return DayRoute(day, worker, None, None, version, unchanged=version in known_versions)
    orders = _load_orders(route.stops)
    shown = [s for s in route.stops if s.order_id is None or orders[s.order_id].status != "cancelled"]
    version = _route_version(route, shown, orders)
    if version in known_versions:
        return DayRoute(day, worker, route.plan_id, route.id, version, unchanged=True)
    names = _catalogue_names(o.service_code for o in orders.values() if isinstance(o, CareOrder))
    live = _live_etas(route, day)
    cards = [StopCard.of(s, _task(s, orders.get(s.order_id) if s.order_id else None, names), live.get(s.id))
             for s in shown]
    record_access(actor, "read", "route", route.id, plan_id=route.plan_id,
                  order_ids=sorted({s.order_id for s in shown if s.order_id}))
    return DayRoute(day, worker, route.plan_id, route.id, version, stops=cards)


def _live_etas(route: Route, day: date) -> dict[int, datetime]:
    """The stops ahead re-estimated from my last position, the way the patients' tracking does;
    none without a recent position of that day (``live_arrivals`` says how recent)."""
    position = last_position(route.worker_id)
    if position is None or position.at.astimezone(local_tz()).date() != day:
        return {}
    try:
        return live_arrivals(route, position)
    except ValueError:
        log.warning("event=live_eta_failed route_id=%s", route.id)
        return {}


def _load_orders(stops: list[Stop]) -> dict[int, Order]:
    ids = {s.order_id for s in stops if s.order_id is not None}
    if not ids:
        return {}
    any_order = with_polymorphic(Order, [CareOrder, DeliveryOrder])
    rows = session.scalars(
        select(any_order).where(any_order.id.in_(ids)).options(
            selectinload(any_order.patient), selectinload(any_order.address),
            selectinload(any_order.DeliveryOrder.items), selectinload(any_order.DeliveryOrder.pharmacy))
    )
    return {order.id: order for order in rows}


def _route_version(route: Route, shown: list[Stop], orders: dict[int, Order]) -> str:
    parts = [f"{s.id}.{s.version}.{orders[s.order_id].version if s.order_id else 0}" for s in shown]
    digest = hashlib.sha256(f"{route.id}|{';'.join(parts)}".encode()).hexdigest()[:16]
    return f"{route.id}-{digest}"


def _catalogue_names(codes: Any) -> dict[str, CatalogueItem]:
    wanted = set(codes)
    if not wanted:
        return {}
    return {item.code: item for item in session.scalars(select(CatalogueItem).where(CatalogueItem.code.in_(wanted)))}


def _task(stop: Stop, order: Order | None, catalogue: dict[str, CatalogueItem]) -> Any:
    if order is None:
        return None
    window = Window(order.window_start, order.window_end)
    place = Place(order.address.line, order.address.district, order.address.access_notes)
    if isinstance(order, CareOrder) and stop.type == "visit":
        item = catalogue.get(order.service_code)
        return VisitTask(order.service_code, item.name if item else None, item.name_zh if item else None,
                         order.duration_minutes, order.notes, order.patient.first_name, place, window,
                         item.preparation_notes if item else None, item.preparation_notes_zh if item else None)
    if isinstance(order, DeliveryOrder):
        items = [{"name": i.name, "quantity": i.quantity, "unit": i.unit} for i in order.items]
        if stop.type == "pickup":
            return PickupTask(order.tracking_code, items, order.cold_chain, order.pharmacy.name, window)
        if stop.type == "dropoff":
            return DropoffTask(order.tracking_code, items, order.cold_chain, order.patient.first_name, place, window)
    return None


# --- reports from a stop ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StopReport:
    stop: Stop
    order: Order | None
    event: StopEvent
    created: bool


def record_stop_event(actor: Actor, stop_id: int, *, type: str, at: datetime, lat: float, lon: float,
                      note: str | None = None, reason: str | None = None,
                      proof: dict[str, Any] | None = None, crs: str = "wgs84", event_id: str | None = None,
                      record: dict[str, Any] | None = None, seal_code: str | None = None) -> StopReport:
    """Apply one report from the field to a stop of mine and to its order, with history and audit.

    The position is stored in WGS-84, converted from ``crs`` (see ``routing.crs``).

    The same (stop, type) again, or the same ``event_id`` of mine, returns the
    stored event and changes nothing, so a phone may resend after a lost answer.
    Raises ``NotFound`` (not my stop), ``ValidationFailed`` (type not for this
    stop, fail without reason, proof outside deliver or incomplete, a record
    outside a visit's complete, an event_id of another report) and
    ``InvalidTransition`` (out of order; nothing changed). Where the report was
    made is checked by ``mobile_api.evv`` (accepted, flagged for the office).
    """
    stop = access_my_stop(actor, stop_id)
    stored = _stored_report(actor, stop, type, event_id)
    if stored is not None:
        order = session.get(Order, stop.order_id) if stop.order_id is not None else None
        return StopReport(stop, order, stored, created=False)
    order = _lock_for_report(stop)

    rule = _rule_for(stop, type)
    if type == "fail" and not (reason and reason.strip()):
        raise ValidationFailed("A failed stop needs a reason.", {"reason": ["Required when type is fail."]})
    if proof and type != "deliver":
        raise ValidationFailed("Only a deliver report carries proof.", {"proof": ["Only with type deliver."]})
    if record is not None and not (type == "complete" and stop.type == "visit"):
        raise ValidationFailed("A visit record comes with a visit's complete.", {"record": ["Only with complete."]})
    if type == "pickup":
        proof_rules.check_seal_at_pickup(order, seal_code)
    elif seal_code is not None:
        raise ValidationFailed("The seal is scanned at pickup.", {"seal_code": ["Only with type pickup."]})
    order_to = _order_step(order, rule)
    _stop_path(stop.status, rule)  # both checks before any change: a 409 leaves everything as it was
    lat, lon = _wgs84(lat, lon, crs)
    # Last check, before any write: a wrong delivery code is counted in its own transaction.
    delivery = proof_rules.check_delivery(stop, order, proof) if type == "deliver" else None

    was_planned = stop.status == "planned"
    stop.status = rule.stop_to
    if was_planned:
        _record_in_the_order_done(stop)
    if order is not None and order_to is not None:
        change_status(order, order_to, actor, reason=reason if type == "fail" else None)
    # Stored and answered in UTC, so a replay reads exactly like the first answer.
    event = StopEvent(stop_id=stop.id, type=type, at=at.astimezone(UTC), lat=lat, lon=lon, note=note, reason=reason,
                      recorded_by=actor.user_id, client_event_id=event_id, flags=[])
    session.add(event)
    session.flush()
    evv.check_position(actor, stop, event)
    if isinstance(order, DeliveryOrder):
        if type == "pickup":
            order.seal_code = proof_rules.normalise_seal(seal_code or "")
        if order_to == "out_for_delivery":
            proof_rules.issue_code(order)
        if delivery is not None:
            proof_rules.apply_delivery(actor, stop, order, event, delivery)
    if record is not None and order is not None:
        records.save_record(actor, stop, order, record)
    if order is not None:
        record_access(actor, "update", "order", order.id, stop_id=stop.id, event=type)
    log.info("event=stop_event stop_id=%s type=%s order_id=%s worker_id=%s stop_status=%s",
             stop.id, type, stop.order_id, actor.worker_id, stop.status)
    return StopReport(stop, order, event, created=True)


def _lock_for_report(stop: Stop) -> Order | None:
    """Lock the stop's order, then its route's stops, in ``dispatch.locks``' order, and read them again.

    A re-plan writing this route meanwhile is waited for, not deadlocked with; what
    follows sees what it committed. ``NotFound`` when it took this stop off the route.
    """
    orders = lock_orders([stop.order_id] if stop.order_id is not None else [])
    if stop not in lock_route_stops([stop.route_id]):
        raise NotFound("No such stop on your routes.")
    return orders.get(stop.order_id) if stop.order_id is not None else None


def _stored_report(actor: Actor, stop: Stop, type: str, event_id: str | None) -> StopEvent | None:
    """The report this one repeats: same ``event_id`` of mine (which must be this stop and type),
    else the same (stop, type)."""
    if event_id is not None:
        stored = session.scalar(select(StopEvent).where(StopEvent.recorded_by == actor.user_id,
                                                        StopEvent.client_event_id == event_id))
        if stored is not None and (stored.stop_id, stored.type) != (stop.id, type):
            raise ValidationFailed("This event_id was used for another report.",
                                   {"event_id": ["Already used for another stop or type; use a new one."]})
        if stored is not None:
            return stored
    return session.scalar(select(StopEvent).where(StopEvent.stop_id == stop.id, StopEvent.type == type))


def _record_in_the_order_done(stop: Stop) -> None:
    """A stop the worker takes up ahead of the plan's order moves to where it was done: right after
    the route's stops already under way or done, before those still planned.

    Workers may take stops out of order (two parcels at one pharmacy, a patient who opens early), and
    a re-plan keeps the stops under way or done in their order on the route: that order must be the
    order they happened in, or the record of the day, and the next re-plan, would put a stop done
    later before one done earlier. The route's version changes with it, so phones refresh.
    """
    stops = sorted(stop.route.stops, key=lambda s: s.sequence)
    ahead = [s for s in stops if s.sequence < stop.sequence and s.type != "start"]
    if all(s.status != "planned" for s in ahead):
        return  # in plan order: nothing moves
    head = [s for s in stops if s.type == "start"]
    begun = [s for s in stops if s.type != "start" and s.status != "planned" and s is not stop]
    planned = [s for s in stops if s.type != "start" and s.status == "planned"]
    for n, row in enumerate([*head, *begun, stop, *planned]):
        row.sequence = n


def _rule_for(stop: Stop, type: str) -> Rule:
    rules = EVENT_RULES.get(stop.type, {})
    if type not in rules:
        allowed = ", ".join(rules) or "none"
        raise ValidationFailed(f"A {stop.type} stop does not take '{type}'.",
                               {"type": [f"A {stop.type} stop takes: {allowed}."]})
    return rules[type]


def _stop_path(current: str, rule: Rule) -> None:
    """Check the stop's move in ``STOP``, directly or through ``rule.stop_via``; raise 409 if neither."""
    if rule.stop_via is not None and not STOP.allows(current, rule.stop_to) and STOP.allows(current, rule.stop_via):
        STOP.check(rule.stop_via, rule.stop_to)
        return
    STOP.check(current, rule.stop_to)


def _order_step(order: Order | None, rule: Rule) -> str | None:
    """The order's next status for this report (None: it stays), checked against its table now."""
    if order is None:
        return None
    if order.status not in ACTIVE_ORDER[order.kind]:
        raise InvalidTransition(f"The order is {order.status}; there is nothing to report at this stop.")
    if rule.order_to is None:
        return None
    if rule.order_only_from is not None and order.status not in rule.order_only_from:
        return None
    BY_KIND[order.kind].check(order.status, rule.order_to)
    return rule.order_to


# --- SOS ------------------------------------------------------------------------------------------
# Position pings live in mobile_api/positions.py (Redis, no SQL transaction per ping).

def raise_alarm(actor: Actor, *, lat: float, lon: float, note: str | None = None, crs: str = "wgs84") -> Raised:
    """A one-key SOS (in WGS-84): a committed alarm, on the live feed at once (``dispatch.alarms``)."""
    lat, lon = _wgs84(lat, lon, crs)
    return alarms.raise_alarm(my_worker_id(actor), lat=lat, lon=lon, note=note)


def _wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """A phone's point in WGS-84; an unknown ``crs`` (callers other than the API) is a 422 naming it."""
    from routing.crs import to_wgs84

    try:
        return to_wgs84(lat, lon, crs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"crs": [str(exc)]}) from exc
