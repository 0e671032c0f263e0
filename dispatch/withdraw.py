"""A cancelled task leaves the plan: its stops come off the routes they are on.

Called in the cancelling transaction (``orders.service.cancel_order``). A stop
nobody has reported on yet is deleted and the route's remaining stops are
numbered again; one with reports (a nurse who set off) stays as the record of
what happened, and the phone hides it since its order is cancelled. Either way
the worker's route version changes (``mobile_api.service``), so phones polling
with ``If-None-Match`` fetch the new route. The plan lists the order among its
``unassigned`` with reason ``cancelled``, as a plan saved after a cancellation does.
Travel figures of the route stay as planned: the worker only gains slack; the
next re-plan recomputes them.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from dispatch.locks import lock_route_stops
from dispatch.models import Plan, Route, Stop, StopEvent
from doorstep.db import session

log = logging.getLogger("doorstep.dispatch.withdraw")


def withdraw_order(order_id: int, kind: str) -> int:
    """Take the stops of order ``order_id`` (``care``/``delivery``) off every route they are on;
    returns how many stops were deleted."""
    stops = session.scalars(select(Stop).where(Stop.order_id == order_id)).all()
    if not stops:
        return 0
    # The caller changed (so locked) the order first; the routes' stops second (dispatch.locks).
    stops = [stop for stop in lock_route_stops({stop.route_id for stop in stops}) if stop.order_id == order_id]
    reported = set(session.scalars(select(StopEvent.stop_id).where(StopEvent.stop_id.in_([s.id for s in stops]))))
    routes: dict[int, Route] = {}
    deleted = 0
    for stop in stops:
        routes[stop.route_id] = stop.route
        if stop.id not in reported and stop.status == "planned":
            stop.route.stops.remove(stop)  # delete-orphan: the row goes
            deleted += 1
    for route in routes.values():
        for sequence, stop in enumerate(route.stops):
            if stop.sequence != sequence:
                stop.sequence = sequence
        _list_as_cancelled(route.plan, order_id, kind)
    session.flush()
    log.info("event=order_withdrawn order_id=%s routes=%s stops_deleted=%s", order_id, len(routes), deleted)
    return deleted


def _list_as_cancelled(plan: Plan, order_id: int, kind: str) -> None:
    unassigned = list(plan.unassigned or [])
    if any(u.get("order_id") == order_id for u in unassigned):
        return
    unassigned.append({"order_id": order_id, "task": _task_id(order_id, kind), "reason": "cancelled",
                       "detail": "the order was cancelled after the plan was made"})
    plan.unassigned = unassigned
    summary = dict(plan.summary or {})
    if "assigned" in summary:
        summary["assigned"] = max(0, int(summary["assigned"]) - 1)
        summary["unassigned"] = len(unassigned)
    plan.summary = summary


def _task_id(order_id: int, kind: str) -> str:
    """The order's task id in the day's problem, as ``dispatch.service.build_day_problem`` names it."""
    return f"{'visit' if kind == 'care' else 'delivery'}-{order_id}"
