"""Live re-planning and urgent insertion: plans that follow the day as it happens.

``replan_district`` (a Celery task's one call) re-optimises one district's day
of the current plan from ``dispatch.live_state``: fixed stops stay, workers start
where they are, promised windows stay, scheduled tasks stay with their worker
unless the plan allows reassignment. ``insert_order`` puts an order accepted
after the plan into the routes at once (``dispatch.insertion``, checked by
``dispatch.feasibility``) and queues the re-plan that polishes it. Both hold the
district's lock (``dispatch.locks``), write a new revision of the plan with its
diff (``PlanVersion``), tell the order's subscribers (outbox ``plan.changed``)
and the dispatchers' live feed, and change the routes' stops so phones refresh.
Each is idempotent on (district, day, trigger).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from dispatch.feasibility import breaches
from dispatch.insertion import cheapest_insertion
from dispatch.live_state import TASK_STOPS, DistrictDay, current_plan, read_district_day
from dispatch.locks import district_lock, lock_orders, lock_route_stops
from dispatch.meanwhile import Meanwhile, planned_now, routes_holding
from dispatch.models import Plan, PlanVersion, Route, Stop
from dispatch.service import _solve, _time, _tz
from doorstep.audit import record_access
from doorstep.db import enqueue_after_commit, session, utcnow
from orders.lifecycle import change_status
from orders.models import Order
from orders.outbox import PLAN_CHANGED, record_event
from orders.states import PLANNABLE

log = logging.getLogger("doorstep.dispatch.replan")


class LiveStale(Exception):
    """A stop changed under the re-plan (a report came in): read the day again and retry."""


# --- use cases ---------------------------------------------------------------------------------

def replan_district(district: str, day: str, trigger: str, *, now: datetime | None = None) -> PlanVersion | None:
    """Re-optimise ``district`` on ``day`` after ``trigger``; commits. None when there is no plan yet.

    A trigger already handled returns its version untouched. Raises ``Busy``
    (another re-plan holds the district) and ``LiveStale`` for the task to retry.
    """
    done = _version(day, district, trigger)
    if done is not None:
        return done
    session.commit()
    settings = current_app.config["SETTINGS"]
    with district_lock(district, day, ttl_s=settings.task_time_limit_s):
        plan = current_plan(day, district)
        if plan is None or _version(day, district, trigger) is not None:
            session.rollback()
            return _version(day, district, trigger)
        state = read_district_day(plan, district, now or utcnow(), allow_reassign=plan.allow_reassign)
        result = _solve(state.doc, lambda f, m: None)
        routes = {r["worker"]: r for r in result["routes"]}
        touched = {w.id for w in state.problem.workers}
        version = _apply(state, routes, touched, result["unassigned"], trigger, "replan")
        session.commit()
    log.info("event=replanned plan_id=%s district=%s revision=%s trigger=%s", plan.id, district,
             version.revision, trigger.split(":")[0])
    return version


def insert_order(order_id: int, *, now: datetime | None = None) -> PlanVersion | None:
    """Insert an order accepted after its day's plan into the current routes, then queue the re-plan.

    None when the order is no longer waiting for a plan, its day has no plan, or
    no route takes it as it stands (the re-plan is queued either way).
    """
    order = session.get(Order, order_id, populate_existing=True)
    if order is None or order.status != PLANNABLE[order.kind] or not order.service_date:
        return None
    day, district, trigger = order.service_date, order.district, f"insert:{order_id}"
    done = _version(day, district, trigger)
    if done is not None:
        return done
    session.commit()
    version = None
    with district_lock(district, day, ttl_s=30, wait_s=2):
        plan = current_plan(day, district)
        if plan is not None:
            state = read_district_day(plan, district, now or utcnow(), allow_reassign=plan.allow_reassign)
            task_id = state.task_id(order_id)
            found = cheapest_insertion(state.problem, state.routes, task_id) if task_id else None
            if found is not None and not _route_breaches(state, found.route.to_json()):
                version = _apply(state, {found.worker: found.route.to_json()}, {found.worker}, [], trigger, "insertion")
        session.commit()
    queue_replan(district, day, f"order.accepted:{order_id}")
    session.commit()
    log.info("event=urgent_insertion order_id=%s inserted=%s", order_id, version is not None)
    return version


def queue_replan(district: str, day: str, trigger: str) -> None:
    """Send the re-plan task once the caller's transaction commits."""
    def send() -> None:
        from dispatch.tasks import replan

        try:
            replan.delay(district, day, trigger)
        except Exception:
            log.exception("event=replan_enqueue_failed district=%s day=%s", district, day)

    enqueue_after_commit(session, send)


def queue_insertion(order_id: int) -> None:
    def send() -> None:
        from dispatch.tasks import insert_urgent

        try:
            insert_urgent.apply_async((order_id,), queue="default")
        except Exception:
            log.exception("event=insertion_enqueue_failed order_id=%s", order_id)

    enqueue_after_commit(session, send)


def order_changed(order: Order, from_status: str | None, to_status: str) -> None:
    """Called for every status change (``orders.lifecycle``): reality changed, the plan may have to follow.

    Only for a day that already has a finished plan: an order accepted (or a parcel
    ready) after it is inserted at once; a cancelled or failed one re-plans its district.
    """
    if not order.service_date or not order.district:
        return
    planned = session.scalar(select(Plan.id).where(Plan.date == order.service_date, Plan.status == "done").limit(1))
    if planned is None:
        return
    if to_status == PLANNABLE[order.kind] and from_status not in ("scheduled", None):
        queue_insertion(order.id)
    elif to_status == "cancelled" and from_status not in ("requested", "awaiting_patient", "awaiting_review"):
        queue_replan(order.district, order.service_date, f"order.cancelled:{order.id}")
    elif to_status == "failed":
        queue_replan(order.district, order.service_date, f"stop.failed:{order.id}")


# --- writing a revision --------------------------------------------------------------------------

def _apply(state: DistrictDay, routes: dict[str, dict[str, Any]], touched: set[str],
           unassigned: list[dict[str, Any]], trigger: str, kind: str) -> PlanVersion:
    """Write the routes of the ``touched`` problem workers (plan documents' routes) as the plan's next
    revision: fixed stops kept, planned stops reused where the same stop stays on the same route.

    The day is read again under the row locks of ``dispatch.locks`` (orders, then the
    scope's stops): the field may have reported stops while the optimiser ran, and
    what it reported wins over the solution (``dispatch.meanwhile``).
    """
    plan, tz = state.plan, _tz()
    wid_of = state.index.workers
    orders = lock_orders(set(state.before) | set(state.index.orders.values()))
    field = Meanwhile.read(state, orders, lock_route_stops([r.id for r in state.scope]))
    changed_workers: set[int] = set()
    for pw in touched:
        new = routes.get(pw)
        route = state.route_of.get(pw)
        if route is None:
            if new is None or not any(s.get("task") for s in new["stops"]):
                continue
            route = Route(plan_id=plan.id, worker_id=wid_of[pw])
            session.add(route)
            plan.routes.append(route)
        changed_workers |= _rewrite(route, new, state, field, tz)
    # Promised orders whose stops sit on a route no longer in the problem: the worker is off (they
    # move or drop), or past their shift (they stay unless placed on another route now); a stop
    # under way with that worker (a parcel in the bag) always stays.
    session.flush()
    placed = routes_holding(plan.id, state.promised)
    for route in state.scope:
        if route in state.route_of.values():
            continue
        late = route in state.past_shift
        for stop in list(route.stops):
            if stop.status == "planned" and stop.order_id in state.promised and not field.keeps(stop) \
                    and (not late or placed.get(stop.order_id, set()) - {route.id}):
                _check_planned(stop)
                route.stops.remove(stop)
                changed_workers.add(route.worker_id)
    session.flush()
    after = planned_now(plan.id)
    diff = _diff(state, after, unassigned, orders, field.changed)
    for order_id in sorted(after):
        order = orders.get(order_id)
        if order is not None and order.status == PLANNABLE[order.kind]:  # added, or a new attempt
            change_status(order, "scheduled", actor=None, reason=f"plan {plan.id} revision {plan.revision + 1}")
    for entry in diff["dropped"]:
        order = orders[entry["order_id"]]
        if order.status == "scheduled":  # back to waiting: the next re-plan tries again
            change_status(order, PLANNABLE[order.kind], actor=None, reason=f"plan {plan.id}: {entry['reason']}")
    plan.revision += 1
    _update_unassigned(plan, state, after, diff)
    version = PlanVersion(plan_id=plan.id, revision=plan.revision, date=state.day, district=state.district,
                          trigger=trigger, kind=kind, diff=diff,
                          summary={"workers": sorted(changed_workers), "routes": len(plan.routes)})
    session.add(version)
    session.flush()
    at = utcnow()
    for key in ("added", "moved", "dropped"):
        for entry in diff[key]:
            order = orders[entry["order_id"]]
            record_event(order, PLAN_CHANGED, order.status, order.status, at)
    record_access(None, kind, "plan", plan.id, revision=plan.revision, district=state.district,
                  order_ids=sorted({e["order_id"] for k in ("added", "moved", "dropped") for e in diff[k]}))
    _publish(version, changed_workers)
    return version


def _rewrite(route: Route, new: dict[str, Any] | None, state: DistrictDay, field: Meanwhile, tz: Any) -> set[int]:
    """Replace the planned part of ``route`` by ``new``'s stops; the worker's id if anything changed.

    Fixed stops keep their order (their sequence: the order they were done in). A planned
    stop the solution does not place here is deleted, unless ``field.keeps`` it (not this
    re-plan's to move, or under way with this worker): those stay, before the route's end.
    """
    stops = sorted(route.stops, key=lambda s: s.sequence)
    start_row = next((s for s in stops if s.type == "start"), None)
    fixed = [s for s in stops if s.status != "planned" and s is not start_row]
    planned: dict[tuple[str, int | None], list[Stop]] = {}
    for s in stops:
        if s.status == "planned" and s is not start_row:
            planned.setdefault((s.type, s.order_id), []).append(s)
    sequence: list[Stop] = []
    if start_row is not None:
        sequence.append(start_row)
    sequence += fixed
    changed = False
    for d in (new or {}).get("stops", []):
        if d["type"] == "start":
            if not fixed and start_row is not None and d.get("location") in state.index.points:
                lat, lon = state.index.points[d["location"]]
                changed |= _set(start_row, lat=lat, lon=lon, start=_time(d.get("departure"), tz),
                                end=_time(d.get("departure"), tz))
            continue
        order_id = state.index.orders.get(d.get("task") or "")
        if not field.may_plan(route, d["type"], order_id):
            continue
        reuse = planned.get((d["type"], order_id))
        stop = reuse.pop(0) if reuse else None
        lat, lon = state.index.points.get(d.get("location") or "", (None, None))
        fields = dict(type=d["type"], order_id=order_id, lat=lat, lon=lon, arrival=_time(d.get("arrival"), tz),
                      start=_time(d.get("start") or d.get("departure"), tz), end=_time(d.get("end"), tz))
        if stop is None:
            stop = Stop(sequence=0, **fields)
            route.stops.append(stop)
            changed = True
        else:
            changed |= _set(stop, **fields)
        sequence.append(stop)
    kept = []
    for rows in planned.values():
        for stop in rows:
            if field.keeps(stop):
                kept.append(stop)
                continue
            _check_planned(stop)
            route.stops.remove(stop)
            changed = True
    if kept:
        log.warning("event=planned_stops_kept route_id=%s stops=%s", route.id, ",".join(str(s.id) for s in kept))
        end = len(sequence) - 1 if sequence and sequence[-1].type == "end" else len(sequence)
        sequence[end:end] = kept
    for n, stop in enumerate(sequence):
        if stop.sequence != n:
            stop.sequence = n
            changed = True
    if new is not None:
        route.travel_time_s, route.distance_m = new.get("travel_time", 0), new.get("distance", 0)
        route.service_time_s, route.waiting_time_s = new.get("service_time", 0), new.get("waiting_time", 0)
    return {route.worker_id} if changed else set()


def _set(stop: Stop, **fields: Any) -> bool:
    changed = False
    for key, value in fields.items():
        if getattr(stop, key) != value:
            setattr(stop, key, value)
            changed = True
    return changed


def _check_planned(stop: Stop) -> None:
    if stop.status != "planned" or stop.events:
        raise LiveStale(f"stop {stop.id} was reported while re-planning")


def _diff(state: DistrictDay, after: dict[int, int], unassigned: list[dict[str, Any]],
          orders: dict[int, Order], elsewhere: set[int]) -> dict[str, list[dict[str, Any]]]:
    """What this revision changed; orders another writer changed meanwhile (``elsewhere``) are theirs to tell."""
    reasons = {state.index.orders.get(u["task"]): u for u in unassigned}
    added, moved, dropped = [], [], []
    for order_id, worker_id in sorted(after.items()):
        if order_id in elsewhere:
            continue
        was = state.before.get(order_id)
        if was is None and order_id in state.index.orders.values():
            added.append({"order_id": order_id, "to_worker_id": worker_id})
        elif was is not None and was != worker_id:
            moved.append({"order_id": order_id, "from_worker_id": was, "to_worker_id": worker_id})
    for order_id, was in sorted(state.before.items()):
        if order_id not in after and order_id in state.promised and order_id not in elsewhere:
            u = reasons.get(order_id, {})
            dropped.append({"order_id": order_id, "from_worker_id": was,
                            "reason": u.get("reason", "not_worth_serving"),
                            "detail": u.get("detail", "no route keeps its window now")})
    return {"added": added, "moved": moved, "dropped": dropped}


def _update_unassigned(plan: Plan, state: DistrictDay, after: dict[int, int], diff: dict[str, Any]) -> None:
    listed = [u for u in (plan.unassigned or []) if u.get("order_id") not in after]
    have = {u.get("order_id") for u in listed}
    for entry in diff["dropped"]:
        if entry["order_id"] not in have:
            listed.append({"order_id": entry["order_id"], "task": state.task_id(entry["order_id"]),
                           "reason": entry["reason"], "detail": entry["detail"]})
    plan.unassigned = listed
    plan.summary = {**(plan.summary or {}), "assigned": len(after), "unassigned": len(listed),
                    "routes": len(plan.routes), "revision": plan.revision}


def _route_breaches(state: DistrictDay, route: dict[str, Any]) -> list[Any]:
    """The feasibility checker on one re-timed route (every other task listed as not on it)."""
    on = {s.get("task") for s in route["stops"]}
    doc = {"version": 1, "status": "solved", "routes": [route],
           "unassigned": [{"task": t.id, "reason": "not_worth_serving", "detail": "on another route"}
                          for t in state.problem.tasks if t.id not in on]}
    found = breaches(state.problem, doc)
    if found:
        log.warning("event=insertion_refused breaches=%d first=%s", len(found), found[0].path)
    return found


def _version(day: str, district: str, trigger: str) -> PlanVersion | None:
    return session.scalar(select(PlanVersion).where(PlanVersion.date == day, PlanVersion.district == district,
                                                    PlanVersion.trigger == trigger))


def _publish(version: PlanVersion, workers: set[int]) -> None:
    """The dispatchers' live feed (``doorstep.feed``): ids only, after commit."""
    try:
        from doorstep.feed import publish_event
    except ImportError:  # the live feed is not part of this installation
        return
    diff = version.diff
    publish_event("plan_version", {
        "plan_id": version.plan_id, "revision": version.revision, "district": version.district,
        "date": version.date, "trigger": version.trigger.split(":")[0], "worker_ids": sorted(workers),
        "added": [e["order_id"] for e in diff["added"]], "moved": [e["order_id"] for e in diff["moved"]],
        "dropped": [e["order_id"] for e in diff["dropped"]]})


# --- triggers from the field and the office ------------------------------------------------------

def replan_late_workers(*, now: datetime | None = None) -> int:
    """Queue a re-plan for each worker whose next planned stop should have started more than
    ``late_after_minutes`` ago (keyed by that stop and its planned start: once per lateness)."""
    from datetime import timedelta

    from dispatch.models import Worker

    now = now or utcnow()
    settings = current_app.config["SETTINGS"]
    late = timedelta(minutes=getattr(settings, "late_after_minutes", 15))
    day = now.astimezone(_tz()).date().isoformat()
    queued = 0
    for plan in session.scalars(select(Plan).where(Plan.date == day, Plan.status == "done")):
        for route in plan.routes:
            nxt = next((s for s in route.stops if s.type in TASK_STOPS and s.status == "planned"), None)
            if nxt is None or nxt.start is None or nxt.start + late > now:
                continue
            worker = session.get(Worker, route.worker_id)
            order = session.get(Order, nxt.order_id) if nxt.order_id else None
            district = order.district if order is not None else (worker.districts or [None])[0]
            if district:
                queue_replan(district, day, f"worker.late:{route.worker_id}:{nxt.id}:{int(nxt.start.timestamp())}")
                queued += 1
    session.commit()
    return queued


def worker_off(actor: Any, worker_id: int, *, day: str, reason: str) -> Any:
    """Record that a worker is off on ``day`` and re-plan each of their districts (same answer on repeat)."""
    from dispatch.models import WorkerAbsence
    from dispatch.service import local_date
    from dispatch.workers import access_worker

    worker = access_worker(actor, worker_id)
    day = local_date(day)
    absence = session.scalar(select(WorkerAbsence).where(WorkerAbsence.worker_id == worker.id,
                                                         WorkerAbsence.date == day))
    if absence is not None:
        return absence
    absence = WorkerAbsence(worker_id=worker.id, date=day, reason=reason,
                            recorded_by=actor.user_id if actor else None)
    session.add(absence)
    session.flush()
    record_access(actor, "create", "worker_absence", absence.id, worker_id=worker.id, date=day)
    for district in worker.districts or []:
        queue_replan(district, day, f"worker.off:{worker.id}")
    log.info("event=worker_off worker_id=%s date=%s", worker.id, day)
    return absence


def request_replan(actor: Any, *, day: str, district: str, allow_reassign: bool | None = None) -> Plan:
    """A dispatcher's re-plan of one district's day (optionally allowing reassignment from now on)."""
    from dispatch.service import _districts, local_date
    from doorstep.errors import Conflict

    day = local_date(day)
    _districts([district])
    plan = current_plan(day, district)
    if plan is None:
        raise Conflict(f"No finished plan of {day} covers {district}: request a plan first.")
    if allow_reassign is not None and plan.allow_reassign != allow_reassign:
        plan.allow_reassign = allow_reassign
        session.flush()
    queue_replan(district, day, f"manual:{plan.id}.{plan.revision}.{int(plan.allow_reassign)}")
    record_access(actor, "replan", "plan", plan.id, district=district)
    return plan
