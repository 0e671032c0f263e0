"""A district's day as it stands, as a problem document: what live re-planning and insertion start from.

Read from the current plan (the newest finished plan of the day that covers the
district): stops already under way or finished (``departed`` ... ``done``,
``failed``) are fixed and stay out of the problem; each worker starts where
their last fixed stop ends, or at home, no earlier than now (``en_route``);
every scheduled order still to be served is a task again, keeping its window
(a promise), with the highest priority so it is the last to be left out, and
pinned to its worker unless the plan allows reassignment. A parcel already
picked up is a delivery without pickup, always pinned: it is in that courier's bag.
If its window can no longer be kept it loses it (late beats not at all), and if
its courier is past the end of their shift it is no task at all: the drop-off
stays on their route as it is (``dispatch.replan`` never drops or moves it).

Where an order is planned (``before``) counts only its stops still to be done: a
parcel delivered again after a failed attempt keeps that attempt's stops as the
record of the day, and its new attempt is planned like any order waiting.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.models import Plan, Route, Stop, Worker
from dispatch.problem import Problem, parse_problem
from dispatch.service import ProblemIndex, _tz, add_matrices, build_day_problem
from doorstep.db import session
from orders.models import Order

PROMISED_PRIORITY = 100
TASK_STOPS = ("visit", "pickup", "dropoff")
# Orders whose planned stops are re-planned; a parcel picked up keeps only its drop-off.
REPLANNED = {"scheduled", "picked_up", "out_for_delivery"}
CLOSED_STOP = ("done", "failed")  # an attempt's stop that is over: the record, never re-planned


@dataclass
class DistrictDay:
    plan: Plan
    district: str
    day: str
    doc: dict[str, Any]
    index: ProblemIndex
    problem: Problem
    routes: dict[str, list[tuple[str, str, int]]] = field(default_factory=dict)  # problem worker -> stops
    route_of: dict[str, Route] = field(default_factory=dict)  # problem worker -> its route row
    scope: list[Route] = field(default_factory=list)  # the plan's routes of the district's workers
    before: dict[int, int] = field(default_factory=dict)  # order id -> worker id of its stops still to do
    promised: set[int] = field(default_factory=set)  # scheduled orders re-planned here
    in_hand: dict[int, int] = field(default_factory=dict)  # parcel picked up -> its route's id
    where: dict[int, int] = field(default_factory=dict)  # order id -> route id of its stops still to do
    planned_stops: set[int] = field(default_factory=set)  # ids of the scope's task stops planned when read
    past_shift: list[Route] = field(default_factory=list)  # routes of workers whose shift is over

    def task_id(self, order_id: int) -> str | None:
        return next((t for t, o in self.index.orders.items() if o == order_id), None)


def current_plan(day: str, district: str) -> Plan | None:
    """The newest finished plan of ``day`` that covers ``district`` (None before the day is planned)."""
    for plan in session.scalars(select(Plan).where(Plan.date == day, Plan.status == "done")
                                .order_by(Plan.created_at.desc(), Plan.id.desc())
                                .execution_options(populate_existing=True)):
        if not plan.districts or district in plan.districts:
            return plan
    return None


def read_district_day(plan: Plan, district: str, now: datetime, *, allow_reassign: bool = False,
                      extra_tasks: list[dict[str, Any]] | None = None,
                      extra_locations: list[dict[str, Any]] | None = None) -> DistrictDay:
    """The district's day from ``plan`` at ``now`` as a validated problem (``extra_tasks`` appended,
    at ``extra_locations`` not yet in it)."""
    tz = _tz()
    routes = session.scalars(
        select(Route).where(Route.plan_id == plan.id).options(selectinload(Route.stops), selectinload(Route.worker))
        .order_by(Route.id).execution_options(populate_existing=True)).all()
    scope = [r for r in routes if district in (r.worker.districts or [])]
    order_ids = {s.order_id for r in scope for s in r.stops if s.order_id is not None}
    orders = {o.id: o for o in session.scalars(select(Order).where(Order.id.in_(sorted(order_ids))))}
    replanned: dict[int, Order] = {}
    in_hand: dict[int, int] = {}
    before: dict[int, int] = {}
    where: dict[int, int] = {}
    planned_stops: set[int] = set()
    for route in scope:
        for stop in route.stops:
            order = orders.get(stop.order_id) if stop.order_id else None
            if order is None or stop.type not in TASK_STOPS or order.status == "cancelled":
                continue
            if stop.status in CLOSED_STOP:
                continue  # a finished attempt's stop (a re-delivered parcel's failed one): not where it is planned
            before[order.id], where[order.id] = route.worker_id, route.id
            if stop.status == "planned":
                planned_stops.add(stop.id)
            if stop.status == "planned" and order.status in REPLANNED:
                replanned[order.id] = order
                if order.status != "scheduled":
                    in_hand[order.id] = route.id
    doc, index = build_day_problem(plan.date, [district], extra_orders=list(replanned.values()), matrices=False)
    shifts = {w["id"]: (datetime.fromisoformat(w["shift"][0]), datetime.fromisoformat(w["shift"][1]))
              for w in doc["workers"]}
    of_worker: dict[int, list[str]] = {}
    for pw, wid in index.workers.items():
        of_worker.setdefault(wid, []).append(pw)

    def problem_worker(worker_id: int, moment: datetime | None) -> str | None:
        ids = of_worker.get(worker_id, [])
        return next((pw for pw in ids if moment and shifts[pw][0] <= moment <= shifts[pw][1]), ids[0] if ids else None)

    state = DistrictDay(plan, district, plan.date, doc, index, problem=None,  # type: ignore[arg-type]
                        scope=scope, before=before, promised=set(replanned), in_hand=in_hand, where=where,
                        planned_stops=planned_stops)
    # Where each worker is: the end of their last fixed stop, or home; never before now.
    gone: set[str] = set()
    for route in scope:
        fixed = [s for s in route.stops if s.status != "planned" and s.type in TASK_STOPS]
        pw = problem_worker(route.worker_id, fixed[-1].start if fixed else now)
        if pw is None:
            continue
        state.route_of.setdefault(pw, route)
    for w in doc["workers"]:
        start, end = shifts[w["id"]]
        route = state.route_of.get(w["id"])
        fixed = [s for s in route.stops if s.status != "planned" and s.type in TASK_STOPS] if route else []
        if fixed:
            last = fixed[-1]
            location = f"stop-{last.id}"
            doc["locations"].append({"id": location, "lat": last.lat, "lon": last.lon})
            index.points[location] = (last.lat, last.lon)
            at = max(now, last.end or now)
        elif now > start:
            location, at = w["start"], now
        else:
            continue
        if at >= end:
            gone.add(w["id"])
            continue
        w["en_route"] = {"location": location, "time": at.astimezone(tz).replace(microsecond=0).isoformat()}
    doc["workers"] = [w for w in doc["workers"] if w["id"] not in gone]
    # A route whose worker's shift is over is not re-planned: what it still holds may move to
    # someone on shift, else stays (``dispatch.replan``); parcels in that courier's bag always stay.
    state.past_shift = [r for pw, r in state.route_of.items() if pw in gone]
    state.route_of = {pw: r for pw, r in state.route_of.items() if pw not in gone}
    pins = {int(k): int(v) for k, v in ((plan.summary or {}).get("pins") or {}).items()}  # dispatch/steering.py
    left_with_courier: set[str] = set()
    for task in doc["tasks"]:
        order_id = index.orders[task["id"]]
        if order_id not in replanned:
            continue
        task["priority"] = PROMISED_PRIORITY
        pw = next((p for p, r in state.route_of.items() if r.worker_id == before[order_id]), None)
        if order_id in in_hand:
            if pw is None:  # the courier is off or past their shift: the drop-off stays as it is
                left_with_courier.add(task["id"])
                continue
            task.pop("pickup", None)
            task.pop("max_ride", None)  # the ride began at the pharmacy; the courier delivers it as soon as they can
        pinned = pins.get(order_id) == before[order_id]  # a dispatcher pinned it to this worker
        if pw is not None and (order_id in in_hand or not allow_reassign or pinned):
            task["pinned_worker"] = pw
    doc["tasks"] = [t for t in doc["tasks"] if t["id"] not in left_with_courier]
    for task_id in left_with_courier:
        index.orders.pop(task_id)
    doc["tasks"].extend(extra_tasks or [])
    for loc in extra_locations or []:
        if loc["id"] not in index.points:
            index.points[loc["id"]] = (loc["lat"], loc["lon"])
            doc["locations"].append(loc)
    add_matrices(doc)
    _late_parcels_lose_their_window(doc, index, set(in_hand))
    state.problem = parse_problem(doc)
    known = {t.id for t in state.problem.tasks}
    for pw, route in state.route_of.items():
        stops = []
        for s in route.stops:
            if s.status != "planned" or s.type not in TASK_STOPS or s.order_id not in replanned:
                continue
            tid = state.task_id(s.order_id)
            if tid in known and not (s.type == "pickup" and s.order_id in in_hand):
                stops.append((s.type, tid, int(s.start.timestamp()) if s.start else 0))
        state.routes[pw] = stops
    return state


def _late_parcels_lose_their_window(doc: dict[str, Any], index: ProblemIndex, in_hand: set[int]) -> None:
    """A parcel in a courier's bag whose window ends before the courier could reach the door from
    where they are (now) may be delivered any time in the shift: otherwise no route keeps it."""
    workers = {w["id"]: w for w in doc["workers"]}
    at = {loc["id"]: n for n, loc in enumerate(doc["locations"])}
    for task in doc["tasks"]:
        worker = workers.get(task.get("pinned_worker") or "")
        dropoff = task.get("dropoff") or {}
        if index.orders.get(task["id"]) not in in_hand or worker is None or not dropoff.get("windows"):
            continue
        where = worker.get("en_route") or {"location": worker["start"], "time": worker["shift"][0]}
        travel_s = doc["matrices"][worker["kind"]]["durations"][at[where["location"]]][at[dropoff["location"]]]
        soonest = datetime.fromisoformat(where["time"]).timestamp() + float(travel_s)
        if all(datetime.fromisoformat(end).timestamp() < soonest for _start, end in dropoff["windows"]):
            dropoff.pop("windows")


def worker_ids(state: DistrictDay) -> dict[str, int]:
    """Problem worker id -> worker id, for the workers in the problem."""
    return {w.id: state.index.workers[w.id] for w in state.problem.workers}


def workers_by_id(ids: set[int]) -> dict[int, Worker]:
    return {w.id: w for w in session.scalars(select(Worker).where(Worker.id.in_(sorted(ids))))}


__all__ = ["DistrictDay", "Stop", "current_plan", "read_district_day", "worker_ids"]
