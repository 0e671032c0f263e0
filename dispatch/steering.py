"""A dispatcher steers the current plan by hand: pin a task to a worker, move it, unassign it.

Each is one change to the plan's routes as they stand, through the same rules as
live re-planning (``dispatch.replan``): the district's day is read from the plan
(``dispatch.live_state``: fixed stops stay, workers start where they are), the task
goes into the chosen worker's route at its cheapest feasible place
(``dispatch.insertion``: kind, skills, district, shift, windows, breaks, capacity),
the re-timed routes pass ``dispatch.feasibility`` and are written as the plan's
next revision (``PlanVersion``: the diff, ``plan.changed`` on the outbox, the live
feed's ``plan_version``, the phones' route ETag). A place no rule allows is a 422
naming ``worker_id``; nothing changes.

- **move**: onto another worker's route (or onto one, if it was unassigned). Later
  re-plans keep it there unless the plan allows reassignment.
- **pin**: the same, and the pin is kept on the plan (``summary.pins``): re-plans keep
  the task with that worker even when the plan allows reassignment.
- **unassign**: off its route, back to ``accepted`` (or ``ready``), listed in the plan's
  unassigned tasks with the reason ``unassigned_by_dispatcher`` (its pin, if any, dropped).
  The next re-plan of the district may plan it again, like any order waiting.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dispatch.feasibility import breaches
from dispatch.insertion import cheapest_insertion
from dispatch.live_state import TASK_STOPS, DistrictDay, current_plan, read_district_day
from dispatch.locks import Busy, district_lock
from dispatch.models import Plan, PlanVersion, Worker
from dispatch.plan import _render, _time_route
from dispatch.replan import LiveStale, _apply  # the re-plan's writer: revision, diff, outbox, feed
from dispatch.workers import MAX_ID
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, NotFound, ValidationFailed
from orders.models import Order

log = logging.getLogger("doorstep.dispatch.steering")

READERS = ("dispatcher", "admin")
UNASSIGNED_BY_DISPATCHER = "unassigned_by_dispatcher"


def pin_task(actor: Actor, plan_id: int, order_id: int, *, worker_id: int,
             now: datetime | None = None) -> PlanVersion:
    """Put the order on ``worker_id``'s route and keep it with them through later re-plans."""
    return _steer(actor, plan_id, order_id, "pin", worker_id=worker_id, now=now)


def move_task(actor: Actor, plan_id: int, order_id: int, *, worker_id: int,
              now: datetime | None = None) -> PlanVersion:
    """Put the order on ``worker_id``'s route, at its cheapest feasible place."""
    return _steer(actor, plan_id, order_id, "move", worker_id=worker_id, now=now)


def unassign_task(actor: Actor, plan_id: int, order_id: int, *, now: datetime | None = None) -> PlanVersion:
    """Take the order off its route: it waits again (``accepted`` or ``ready``), listed as unassigned."""
    return _steer(actor, plan_id, order_id, "unassign", worker_id=None, now=now)


def plan_pins(plan: Plan) -> dict[int, int]:
    """``{order_id: worker_id}`` pinned by dispatchers on this plan."""
    pins = (plan.summary or {}).get("pins") or {}
    return {int(k): int(v) for k, v in pins.items()}


# --- the one path ---------------------------------------------------------------------------------

def _steer(actor: Actor, plan_id: int, order_id: int, action: str, *, worker_id: int | None,
           now: datetime | None) -> PlanVersion:
    plan, order = _access(actor, plan_id, order_id)
    worker = _worker(worker_id) if worker_id is not None else None
    district, day = order.district, plan.date
    trigger = f"board.{action}:{order_id}:{worker_id or 0}:{plan.revision}"
    session.commit()  # the district lock's lease row commits on its own
    try:
        with district_lock(district, day, ttl_s=30, wait_s=2):
            plan = _current(plan_id, day, district)
            state = read_district_day(plan, district, now or utcnow(), allow_reassign=True)
            task_id = state.task_id(order_id)
            if task_id is None:
                raise Conflict(f"Order {order_id} is not waiting to be served on {day}: nothing to change.")
            in_hand = {t.id for t in state.problem.tasks if t.id == task_id and t.kind == "delivery"
                       and t.pickup is None}
            if in_hand:
                raise Conflict("This parcel is in its courier's bag already: it stays with them.")
            source = next((pw for pw, stops in state.routes.items() if any(s[1] == task_id for s in stops)), None)
            routes = {pw: [s for s in stops if s[1] != task_id] for pw, stops in state.routes.items()}
            changed: dict[str, dict[str, Any]] = {}
            if source is not None:
                changed[source] = _timed(state, source, routes[source])
            unassigned: list[dict[str, Any]] = []
            if action == "unassign":
                if source is None:
                    raise Conflict(f"Order {order_id} is on no route of plan {plan.id}.")
                unassigned.append({"task": task_id, "reason": UNASSIGNED_BY_DISPATCHER,
                                   "detail": "taken off the route by a dispatcher"})
            else:
                assert worker is not None
                target = _problem_worker(state, worker)
                if target == source and action == "move":
                    raise Conflict(f"Order {order_id} is on that worker's route already.")
                found = cheapest_insertion(state.problem, {target: routes.get(target, [])}, task_id,
                                           workers=[target])
                if found is None:
                    raise ValidationFailed(f"{worker.name} cannot take order {order_id} (skills, district, "
                                           "shift, windows or capacity).",
                                           {"worker_id": ["No feasible place on this worker's route."]})
                changed[target] = found.route.to_json()
            if _breaches(state, changed):
                raise ValidationFailed("The changed routes would break a rule.",
                                       {"worker_id": ["The routes would not be feasible."]})
            version = _apply(state, changed, set(changed), unassigned, trigger, "steering")
            # The plan row last (dispatch.locks: orders, stops, then the plan).
            _keep_pin(plan, order_id, worker.id if action == "pin" and worker else None, action)
            record_access(actor, action, "plan", plan.id, order_ids=[order_id], revision=plan.revision,
                          **({"worker_id": worker.id} if worker else {}))
            session.commit()
    except Busy:
        session.rollback()
        raise Conflict("The district is being re-planned right now; try again in a moment.") from None
    except LiveStale:
        session.rollback()
        raise Conflict("A stop was reported while changing the route; reload and try again.") from None
    except Exception:
        session.rollback()
        raise
    log.info("event=plan_steered action=%s plan_id=%s order_id=%s revision=%s", action, plan_id, order_id,
             version.revision)
    return version


def _access(actor: Actor, plan_id: int, order_id: int) -> tuple[Plan, Order]:
    """The plan and the order, both ``NotFound`` for a missing id (and for anyone but the office)."""
    plan = session.get(Plan, plan_id) if 0 < plan_id < MAX_ID and actor.has_role(*READERS) else None
    if plan is None:
        raise NotFound(f"No plan {plan_id}.")
    order = session.get(Order, order_id) if 0 < order_id < MAX_ID else None
    if order is None or order.service_date != plan.date or (plan.districts and order.district not in plan.districts):
        raise NotFound(f"No order {order_id} in plan {plan_id}.")
    if plan.status != "done":
        raise Conflict(f"Plan {plan_id} is {plan.status}: steer a finished plan.")
    return plan, order


def _current(plan_id: int, day: str, district: str) -> Plan:
    plan = current_plan(day, district)
    if plan is None or plan.id != plan_id:
        raise Conflict(f"Plan {plan_id} is no longer the current plan of {district} on {day}; reload the board.")
    return plan


def _worker(worker_id: int) -> Worker:
    worker = session.get(Worker, worker_id) if 0 < worker_id < MAX_ID else None
    if worker is None or not worker.active:
        raise ValidationFailed(f"No active worker {worker_id}.", {"worker_id": ["No such active worker."]})
    return worker


def _problem_worker(state: DistrictDay, worker: Worker) -> str:
    """The worker's shift in the district's day (the one their route uses, else the first)."""
    ids = [pw for pw, wid in state.index.workers.items() if wid == worker.id
           and any(w.id == pw for w in state.problem.workers)]
    if not ids:
        raise ValidationFailed(f"{worker.name} is not working in this district for the rest of the day "
                               "(district, shift or day off).",
                               {"worker_id": ["Not on shift in this order's district."]})
    on_route = [pw for pw in ids if pw in state.route_of]
    return (on_route or ids)[0]


def _timed(state: DistrictDay, pw: str, stops: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
    """The worker's route with ``stops`` (a task taken off), re-timed by the plan's rules."""
    tasks = {t.id: t for t in state.problem.tasks}
    worker = next(w for w in state.problem.workers if w.id == pw)
    visits = [(typ, tasks[tid], dict(tasks[tid].stops)[typ], hint) for typ, tid, hint in stops]
    timed = _time_route(state.problem, worker, visits, [(b, b.window.start) for b in worker.breaks])
    if timed is None:
        raise Conflict("The route left behind could not be timed; re-plan the district instead.")
    return _render(state.problem, worker, *timed).to_json()


def _breaches(state: DistrictDay, changed: dict[str, dict[str, Any]]) -> list[Any]:
    """The feasibility checker on the changed routes (every other task listed as not on them)."""
    on = {s.get("task") for r in changed.values() for s in r["stops"]}
    doc = {"version": 1, "status": "solved", "routes": list(changed.values()),
           "unassigned": [{"task": t.id, "reason": "not_worth_serving", "detail": "on another route"}
                          for t in state.problem.tasks if t.id not in on]}
    found = breaches(state.problem, doc)
    if found:
        log.warning("event=steering_refused breaches=%d first=%s", len(found), found[0].path)
    return found


def _keep_pin(plan: Plan, order_id: int, worker_id: int | None, action: str) -> None:
    pins = {str(k): v for k, v in plan_pins(plan).items()}
    if action == "pin" and worker_id is not None:
        pins[str(order_id)] = worker_id
    else:
        pins.pop(str(order_id), None)
    plan.summary = {**(plan.summary or {}), "pins": pins}


__all__ = ["TASK_STOPS", "UNASSIGNED_BY_DISPATCHER", "move_task", "pin_task", "plan_pins", "unassign_task"]
