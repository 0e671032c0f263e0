"""What the live feed learns without anyone calling it: failed stops and late workers.

- A stop that becomes ``failed`` (whoever fails it: a worker's report, a re-plan) is announced
  as ``stop_failed`` once the transaction that failed it commits.
- ``detect_late_workers`` (a beat task, every minute) looks at each worker's next stop in
  today's newest finished plan: a worker whose estimated arrival there is past the patient's
  window, or ``late_after_minutes`` behind the planned arrival, is announced as
  ``worker_late``, once per stop. The estimate starts from the worker's last position
  (``mobile_api.positions``) along the deployment's travel times; without a position, a
  worker who has not reached a stop whose planned arrival has passed is behind by that much.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import event, func, select

from dispatch.models import Plan, Route, Stop
from doorstep.db import session, utcnow
from doorstep.feed import publish_event

log = logging.getLogger("doorstep.live")

WORK_STOPS = ("visit", "pickup", "dropoff")
PENDING = ("planned", "departed")
LATE_CLAIM_S = 12 * 3600  # one worker_late event per stop and day


@event.listens_for(Stop.status, "set")
def _announce_failed_stop(stop: Stop, value: str, old: Any, _initiator: Any) -> None:
    if value != "failed" or old == "failed" or stop.id is None or not has_app_context():
        return
    worker_id = stop.route.worker_id if stop.route is not None else None
    publish_event("stop_failed", {"stop_id": stop.id, "order_id": stop.order_id, "worker_id": worker_id,
                                  "route_id": stop.route_id})


@dataclass(frozen=True)
class Late:
    worker_id: int
    stop_id: int
    order_id: int | None
    eta: datetime
    minutes_behind: int
    past_window: bool


def detect_late_workers(now: datetime | None = None) -> list[Late]:
    """Announce each worker newly late at their next stop; returns every worker late now."""
    settings = current_app.config["SETTINGS"]
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    late = [x for x in (_lateness(route, now, settings.late_after_minutes) for route in _todays_routes(today)) if x]
    from mobile_api.positions import store

    for x in late:
        if store().claim(f"late:{x.stop_id}", LATE_CLAIM_S):
            publish_event("worker_late", {"worker_id": x.worker_id, "stop_id": x.stop_id, "order_id": x.order_id,
                                          "eta": x.eta.isoformat(), "minutes_behind": x.minutes_behind,
                                          "past_window": x.past_window}, on_commit=False)
            log.info("event=worker_late worker_id=%s stop_id=%s minutes_behind=%s", x.worker_id, x.stop_id,
                     x.minutes_behind)
    return late


def _todays_routes(day: str) -> list[Route]:
    """Each worker's route in the newest finished plan of ``day`` that has one."""
    newest = (select(Route.worker_id, func.max(Route.id).label("route_id"))
              .join(Plan, Route.plan_id == Plan.id).where(Plan.date == day, Plan.status == "done")
              .group_by(Route.worker_id).subquery())
    return list(session.scalars(select(Route).join(newest, Route.id == newest.c.route_id)))


def _lateness(route: Route, now: datetime, late_after_minutes: int) -> Late | None:
    from orders.models import Order

    pending = [s for s in route.stops if s.status in PENDING and s.type in WORK_STOPS]
    if not pending or pending[0].arrival is None:
        return None
    stop = pending[0]
    order = session.get(Order, stop.order_id) if stop.order_id is not None else None
    if order is not None and order.status in ("cancelled", "completed", "delivered", "failed", "returned"):
        return None
    eta = _eta(route, stop, now)
    behind = int((eta - stop.arrival).total_seconds() // 60)
    window_end = order.window_end if order is not None and stop.type != "pickup" else None
    past_window = window_end is not None and eta > window_end
    if not past_window and behind < late_after_minutes:
        return None
    return Late(route.worker_id, stop.id, stop.order_id, eta, max(behind, 0), past_window)


def _eta(route: Route, stop: Stop, now: datetime) -> datetime:
    from doorstep.travel import travel
    from mobile_api.positions import last_position
    from orders.tracking import TRAVEL_MODE
    from routing.eta import estimate_arrivals

    position = last_position(route.worker_id)
    if position is None or stop.lat is None or stop.lon is None:
        return max(now, stop.arrival)
    try:
        mode = TRAVEL_MODE.get(route.worker.kind, "car")
        arrival = estimate_arrivals((position.lat, position.lon), int(position.at.timestamp()),
                                    [{"lat": stop.lat, "lon": stop.lon, "duration_s": 0}], mode, travel=travel())[0]
    except ValueError:
        return max(now, stop.arrival)
    return max(datetime.fromtimestamp(arrival, tz=UTC), now)
