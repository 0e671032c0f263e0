"""Where is my nurse, where is my parcel: status, ETA, and the worker's position while on the way.

The ETA is the planned arrival at this order's stop in the latest plan that has
one. While the worker is on the way (``en_route``, ``out_for_delivery``) and has
reported a position, the ETA is re-estimated from that position along the
remaining stops (``routing.eta.estimate_arrivals``, the plan's travel model), so
it follows the worker rather than the morning's plan; a position older than
``DOORSTEP_LIVE_ETA_MAX_AGE_MINUTES`` leaves the planned arrival. ``live_arrivals``
does this for a whole route: the workers' app shows it as each stop's ``live_eta``.

The patient sees the worker's first name and, only while on the way, their
position: from departure towards this patient until arrival at the door (not
before departure, not once the stop is ``arrived`` though the order may still read
``en_route``). The last position comes from ``mobile_api.positions`` (the one
store of positions; pings are kept only on shift). The public view by tracking
code shows status and ETA, nothing else.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from dispatch.models import Plan, Route, Stop
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import NotFound
from mobile_api.positions import Ping, last_position
from orders.access import access_own_order
from orders.models import DeliveryOrder, Order

log = logging.getLogger("doorstep.orders.tracking")

# Statuses in which a planned arrival is still ahead of the patient.
ETA_STATUSES = frozenset({"scheduled", "en_route", "picked_up", "out_for_delivery"})
# Statuses in which the worker is on the way to this patient: live position and live ETA.
LIVE_STATUSES = frozenset({"en_route", "out_for_delivery"})
# Statuses in which a worker is (or was) assigned, so their first name may be shown.
ASSIGNED_STATUSES = ETA_STATUSES | {"in_progress", "completed", "delivered", "failed", "returned"}
# Stops a worker has not yet reached, so still ahead on the route.
PENDING_STOP_STATUSES = ("planned", "departed")
TRAVEL_MODE = {"nurse": "car", "courier": "ebike"}


def order_tracking(actor: Actor, order_id: int) -> dict[str, Any]:
    """Tracking of the caller's own order (patients only; others' ids are 404); audited."""
    order = access_own_order(actor, order_id)
    record_access(actor, "read", "order_tracking", order.id)
    stop = latest_stop(order.id)
    route = stop.route if stop is not None else None
    position = last_position(route.worker_id) if route and on_the_way(order, stop) else None
    return {
        "order_id": order.id,
        "status": order.status,
        "eta": estimate_eta(order, stop, position),
        "worker_first_name": route.worker.first_name if route and order.status in ASSIGNED_STATUSES else None,
        "position": {"lat": position.lat, "lon": position.lon, "at": position.at} if position else None,
    }


def public_tracking(tracking_code: str) -> dict[str, Any]:
    """A parcel's status and ETA by its tracking code, for anyone holding the code."""
    code = tracking_code.strip().upper()
    order = session.scalar(select(DeliveryOrder).where(DeliveryOrder.tracking_code == code))
    if order is None:
        raise NotFound("No parcel has this tracking code.")
    stop = latest_stop(order.id)
    position = last_position(stop.route.worker_id) if stop is not None and on_the_way(order, stop) else None
    return {"tracking_code": order.tracking_code, "status": order.status,
            "eta": estimate_eta(order, stop, position)}


def latest_stop(order_id: int) -> Stop | None:
    """This order's last stop (the drop-off, for a parcel) in the newest plan that has one."""
    return session.scalar(
        select(Stop).join(Route, Stop.route_id == Route.id).join(Plan, Route.plan_id == Plan.id)
        .where(Stop.order_id == order_id).order_by(Plan.id.desc(), Stop.sequence.desc()).limit(1))


def on_the_way(order: Order, stop: Stop | None) -> bool:
    """The worker has set off towards this order's stop and has not reached it yet."""
    return stop is not None and order.status in LIVE_STATUSES and stop.status in PENDING_STOP_STATUSES


def estimate_eta(order: Order, stop: Stop | None, position: Ping | None) -> datetime | None:
    """Live estimate while on the way, else the planned arrival; None when nothing is ahead."""
    if stop is None or order.status not in ETA_STATUSES:
        return None
    planned = stop.arrival or stop.start
    if position is None or order.status not in LIVE_STATUSES:
        return planned
    try:
        live = _live_eta(stop, position)
    except ValueError:
        log.warning("event=live_eta_failed order_id=%s stop_id=%s", order.id, stop.id)
        return planned
    return live or planned


def _live_eta(target: Stop, position: Ping) -> datetime | None:
    """Re-estimate the arrival at ``target`` from the worker's last position, along the stops before it."""
    return live_arrivals(target.route, position, until=target).get(target.id)


def live_arrivals(route: Route, position: Ping, *, until: Stop | None = None) -> dict[int, datetime]:
    """Re-estimated arrival at each stop of ``route`` not yet reached (``planned``, ``departed``; up to
    ``until``), by stop id, from the worker's last position along the stops in order with their service
    durations and window starts, on the deployment's travel times (``routing.eta.estimate_arrivals``).

    Empty when the position is older than ``DOORSTEP_LIVE_ETA_MAX_AGE_MINUTES``: an old position
    predicts nothing. A worker still at a stop (``arrived``, ``started``) sets off once its service
    is due to end. Used by the patient's tracking and the worker's route alike.
    """
    from doorstep.travel import travel
    from routing.eta import estimate_arrivals

    max_age = timedelta(minutes=current_app.config["SETTINGS"].live_eta_max_age_minutes)
    now = utcnow().replace(microsecond=0)
    if now - position.at > max_age:
        return {}
    ahead = [s for s in route.stops
             if (until is None or s.sequence <= until.sequence) and s.status in PENDING_STOP_STATUSES
             and s.type != "start" and s.lat is not None and s.lon is not None]
    if not ahead or (until is not None and ahead[-1].id != until.id):
        return {}
    stops = [{"lat": s.lat, "lon": s.lon, "duration_s": _duration_s(s), "window_start_s": _window_start_s(s)}
             for s in ahead]
    mode = TRAVEL_MODE.get(route.worker.kind, "car")
    sets_off = max(position.at, _service_ends(route, before=ahead[0]) or position.at)
    arrivals = estimate_arrivals((position.lat, position.lon), int(sets_off.timestamp()), stops, mode,
                                 travel=travel())
    # A late worker's estimate may already be in the past: "now" is the best we can promise.
    return {s.id: max(datetime.fromtimestamp(a, tz=UTC), now) for s, a in zip(ahead, arrivals, strict=True)}


def _duration_s(stop: Stop) -> int:
    return int((stop.end - stop.start).total_seconds()) if stop.start and stop.end else 0


def _service_ends(route: Route, *, before: Stop) -> datetime | None:
    """When the stop the worker is at (arrived or started, before ``before``) is due to end: from the
    reported start (or arrival, waiting for the window) plus its planned duration; None if at none."""
    here = next((s for s in reversed(route.stops) if s.sequence < before.sequence
                 and s.status in ("arrived", "started")), None)
    if here is None:
        return None
    reported = {e.type: e.corrected_at or e.at for e in here.events}
    begins = reported.get("start")
    if begins is None and "arrive" in reported:
        window = _window_start_s(here)
        begins = max(reported["arrive"], datetime.fromtimestamp(window, tz=UTC)) if window else reported["arrive"]
    return begins + timedelta(seconds=_duration_s(here)) if begins is not None else None


def _window_start_s(stop: Stop) -> int | None:
    """An early worker waits at the door until the patient's window opens (not at a pharmacy)."""
    if stop.order_id is None or stop.type == "pickup":
        return None
    order = session.get(Order, stop.order_id)
    return int(order.window_start.timestamp()) if order is not None and order.window_start else None
