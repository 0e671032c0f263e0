"""Benchmark peers: the same problem document solved by VROOM and by PyVRP, as our plans.

Each adapter reads OUR problem (format v1, through :func:`dispatch.problem.parse_problem`,
so the matrices are exactly the ones our optimiser uses), builds the peer's model,
solves it with the same time budget, and writes the peer's routes back as a plan
document (format v1) that ``tests/dispatch/check_plan.py`` can judge.

Peers keep their own *order* of stops; times are re-derived by
:func:`dispatch.plan.build_route`, the renderer our own optimiser's routes go
through, so all engines are timed by one reading of the contract (a break is taken
where the worker is, before driving on; a parcel's ride is kept short by leaving
later when the windows allow). When a peer's order cannot be timed without breaking
a rule (VROOM ignores ``max_ride``), the route is written as the peer planned it,
earliest times and all, and the checker reports the breach: nothing is repaired
or dropped on a peer's behalf.

What the peers cannot model, and what we do about it:

* Breaks: VROOM drives to the next stop and then takes the break there; our contract
  takes it where the worker is, before driving. A VROOM route that only works its way
  is written as planned and the checker reports the late stop.
* ``preferred_workers``: ignored by both (a soft wish; our optimiser honours it).
* ``max_ride``: ignored by both; breaches show up in the checker's count.
* VROOM counts a pickup and its drop-off as two tasks against ``max_tasks``: a
  courier's limit is doubled when the problem has pickups (looser, never stricter
  than ours; the checker counts any overrun).
* PyVRP has no breaks, skills, districts, ``max_tasks``, ride limits or several
  windows per stop: it runs only on problems without them (e.g. Solomon's), and
  :func:`pyvrp_misfit` says why otherwise. Tasks are optional with prizes; PyVRP 0.14
  sometimes leaves an optional pickup-and-drop-off pair out although it fits (seen on
  ``tests/data/pickup_before_dropoff.json``): that is the peer's result, reported as is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from dispatch.diagnose import diagnose
from dispatch.plan import Plan, Route, Stop, Visit, build_route
from dispatch.problem import Break, Problem, Task, TaskStop, TimeWindow, Worker, parse_problem

VROOM_EXPLORATION = 5
COURIER_KIND = "courier"


@dataclass(frozen=True)
class PeerRun:
    """One engine's answer: the plan document, or None with ``note`` when the model does not fit."""

    engine: str
    plan: dict[str, Any] | None
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class Sequence:
    """One route as a peer ordered it: stops and breaks with the peer's start times (epoch s)."""

    worker: Worker
    visits: list[Visit]
    breaks: list[tuple[Break, int]]


# --- VROOM ---------------------------------------------------------------------------------


def solve_vroom(doc: dict[str, Any], *, time_limit_s: float, threads: int = 2) -> PeerRun:
    """Solve with VROOM (pyvroom) at exploration level 5, stopped at ``time_limit_s``.

    Raises
    ------
    dispatch.problem.InvalidProblem
        When the document is malformed.
    """

    problem = parse_problem(doc)
    t0 = _origin_time(problem)
    began = time.monotonic()
    problem_input, impossible = vroom_input(problem, t0)
    solution = problem_input.solve(
        exploration_level=VROOM_EXPLORATION,
        nb_threads=threads,
        timeout=timedelta(seconds=time_limit_s),
    )
    seconds = time.monotonic() - began
    sequences = read_vroom(problem, t0, solution.to_dict())
    note = f"{len(impossible)} tasks had no window left after t0" if impossible else ""
    return PeerRun("vroom", to_plan(problem, sequences, seconds, "vroom"), seconds, note)


def vroom_input(problem: Problem, t0: int) -> tuple[Any, list[Task]]:
    """A ``vroom.Input`` for ``problem``, times in seconds after ``t0``.

    Kinds, districts, skills and pins are all VROOM skills (integers): a worker has
    its kind, its districts, its skills and its own pin; a task requires its
    worker kind, its district, its skills and its pin if any. One VROOM profile per
    worker kind carries that kind's matrix.

    Returns
    -------
    input : vroom.Input
    impossible : list of Task
        Tasks left out of the input because every window closed before ``t0``.
    """
    import vroom

    codes: dict[str, int] = {}
    dims = _dimensions(problem)
    with_pickups = any(t.pickup for t in problem.tasks)
    problem_input = vroom.Input()
    for kind in sorted({w.kind for w in problem.workers}):
        m = problem.matrices[kind]
        problem_input.set_durations_matrix(kind, m.durations.astype(np.uint32))
        problem_input.set_distances_matrix(kind, m.distances.astype(np.uint32))
    for v, w in enumerate(problem.workers):
        problem_input.add_vehicle(_vroom_vehicle(problem, v, w, t0, dims, codes, with_pickups))
    impossible = []
    for i, task in enumerate(problem.tasks):
        windows = {typ: _vroom_windows(stop, t0) for typ, stop in task.stops}
        if any(ws == [] for ws in windows.values()):
            impossible.append(task)
            continue
        _add_vroom_task(problem_input, problem, i, task, windows, dims, codes)
    return problem_input, impossible


def _vroom_vehicle(
    problem: Problem,
    v: int,
    w: Worker,
    t0: int,
    dims: list[str],
    codes: dict[str, int],
    with_pickups: bool,
) -> Any:
    import vroom

    idx = problem.location_index
    skills = {_code(codes, f"kind:{w.kind}"), _code(codes, f"pin:{w.id}")}
    skills |= {_code(codes, f"district:{d}") for d in w.districts}
    skills |= {_code(codes, f"skill:{s}") for s in w.skills}
    max_tasks = w.max_tasks
    if max_tasks is not None and with_pickups and w.kind == COURIER_KIND:
        max_tasks *= 2  # VROOM counts a pickup and its drop-off as two tasks
    extra = {} if max_tasks is None else {"max_tasks": max_tasks}
    return vroom.Vehicle(
        id=v,
        start=idx[w.origin],
        end=idx[w.end] if w.end else None,
        profile=w.kind,
        capacity=[w.capacity.get(d, 0) for d in dims],
        skills=skills,
        time_window=vroom.TimeWindow(w.earliest_departure - t0, w.shift.end - t0),
        breaks=[
            vroom.Break(
                k,
                [vroom.TimeWindow(b.window.start - t0, b.window.end - t0)],
                service=b.duration_s,
            )
            for k, b in enumerate(w.breaks)
        ],
        **extra,
    )


def _add_vroom_task(
    problem_input: Any,
    problem: Problem,
    i: int,
    task: Task,
    windows: dict[str, Any],
    dims: list[str],
    codes: dict[str, int],
) -> None:
    """A visit or a pickup-less delivery is a job; a delivery with a pickup is a shipment."""
    import vroom

    idx = problem.location_index
    skills = {_code(codes, f"kind:{task.worker_kind}"), _code(codes, f"district:{task.district}")}
    skills |= {_code(codes, f"skill:{s}") for s in task.skills}
    if task.pinned_worker:
        skills.add(_code(codes, f"pin:{task.pinned_worker}"))
    amount = vroom.Amount([task.load.get(d, 0) for d in dims])
    if task.pickup is None:
        typ, stop = task.stops[0]
        problem_input.add_job(
            vroom.Job(
                id=i,
                location=idx[stop.location],
                default_service=stop.duration_s,
                delivery=amount,
                skills=skills,
                priority=task.priority,
                time_windows=windows[typ],
            )
        )
        return
    steps = [
        vroom.ShipmentStep(
            id=i,
            location=idx[stop.location],
            default_service=stop.duration_s,
            time_windows=windows[typ],
        )
        for typ, stop in task.stops
    ]
    problem_input.add_shipment(*steps, amount=amount, skills=skills, priority=task.priority)


def _vroom_windows(stop: TaskStop, t0: int) -> list[Any] | tuple[()]:
    """The stop's windows after ``t0``; () for no window, [] when every window closed."""
    import vroom

    if not stop.windows:
        return ()
    return [vroom.TimeWindow(max(w.start - t0, 0), w.end - t0) for w in stop.windows if w.end >= t0]


def read_vroom(problem: Problem, t0: int, solution: dict[str, Any]) -> list[Sequence]:
    """VROOM's routes (its JSON output) as sequences; service starts at arrival + waiting."""
    step_types = {"job": None, "pickup": "pickup", "delivery": "dropoff"}
    sequences = []
    for r in solution.get("routes", []):
        worker = problem.workers[r["vehicle"]]
        visits: list[Visit] = []
        breaks: list[tuple[Break, int]] = []
        for step in r["steps"]:
            begins = t0 + step["arrival"] + step.get("waiting_time", 0)
            if step["type"] == "break":
                breaks.append((worker.breaks[step["id"]], begins))
            elif step["type"] in step_types:
                task = problem.tasks[step["id"]]
                typ = step_types[step["type"]] or task.stops[0][0]
                visits.append((typ, task, _stop_of(task, typ), begins))
        sequences.append(Sequence(worker, visits, breaks))
    return sequences


# --- PyVRP ---------------------------------------------------------------------------------


def pyvrp_misfit(problem: Problem) -> list[str]:
    """What in ``problem`` PyVRP cannot model faithfully; empty when it fits."""
    why = []
    if any(w.breaks for w in problem.workers):
        why.append("breaks")
    if any(w.max_tasks is not None for w in problem.workers):
        why.append("max_tasks")
    if any(t.max_ride_s is not None for t in problem.tasks):
        why.append("max_ride")
    if any(len(stop.windows) > 1 for t in problem.tasks for _, stop in t.stops):
        why.append("several windows")
    if any(
        0 < sum(w.may_serve(t) for w in problem.workers) < len(problem.workers)
        for t in problem.tasks
    ):
        why.append("skills/districts/kinds/pins")
    return why


def solve_pyvrp(doc: dict[str, Any], *, time_limit_s: float, seed: int = 1) -> PeerRun:
    """Solve with PyVRP (MaxRuntime ``time_limit_s``), or say why the model does not fit.

    Every task is optional with a prize of ``big * (1 + priority)``, ``big`` above any
    route's travel, as our optimiser prices a dropped task; the cost is travel time.
    """
    import pyvrp
    from pyvrp import PenaltyParams, SolveParams
    from pyvrp.stop import MaxRuntime

    problem = parse_problem(doc)
    misfit = pyvrp_misfit(problem)
    if misfit:
        return PeerRun("pyvrp", None, 0.0, "n/a (model does not fit: " + ", ".join(misfit) + ")")
    t0 = _origin_time(problem)
    began = time.monotonic()
    data, refs = pyvrp_data(problem, t0)
    # Penalties must be able to outgrow the prizes, or serving more tasks than fit pays.
    top_prize = _big(problem) * 101
    params = SolveParams(penalty=PenaltyParams(max_penalty=max(100_000.0, 10.0 * top_prize)))
    result = pyvrp.solve(
        data, stop=MaxRuntime(time_limit_s), seed=seed, collect_stats=False, params=params
    )
    seconds = time.monotonic() - began
    sequences = read_pyvrp(problem, t0, result.best, refs)
    note = "" if result.is_feasible() else "best solution infeasible"
    return PeerRun("pyvrp", to_plan(problem, sequences, seconds, "pyvrp"), seconds, note)


def pyvrp_data(problem: Problem, t0: int) -> tuple[Any, dict[str, list[Task]]]:
    """``pyvrp.ProblemData`` with one vehicle type per worker and one profile per kind.

    Depots are the workers' origins and ends; a worker without an end finishes at an
    extra "anywhere" location that every place reaches in no time. Distances handed
    to PyVRP are travel *durations*, so that its cost is travel time, as for VROOM.

    Returns
    -------
    data : pyvrp.ProblemData
    refs : dict
        ``clients`` and ``shipments``: the Task behind each PyVRP index.
    """
    import pyvrp

    n = len(problem.locations)
    locations = [pyvrp.Location(x=loc.lon, y=loc.lat) for loc in problem.locations]
    locations.append(pyvrp.Location(x=0.0, y=0.0))  # "anywhere": the open end
    idx = problem.location_index
    depot_of: dict[int, int] = {}
    depots: list[Any] = []

    def depot(loc: int) -> int:
        if loc not in depot_of:
            depot_of[loc] = len(depots)
            depots.append(pyvrp.Depot(location=loc))
        return depot_of[loc]

    dims = _dimensions(problem)
    kinds = sorted(problem.matrices)
    big = _big(problem)
    vehicle_types = [
        pyvrp.VehicleType(
            capacity=[w.capacity.get(d, 0) for d in dims],
            start_depot=depot(idx[w.origin]),
            end_depot=depot(idx[w.end] if w.end else n),
            tw_early=w.earliest_departure - t0,
            tw_late=w.shift.end - t0,
            profile=kinds.index(w.kind),
            unit_distance_cost=1,
            name=w.id,
        )
        for w in problem.workers
    ]
    clients, shipments, refs = [], [], {"clients": [], "shipments": []}
    for task in problem.tasks:
        if not _servable(problem, task):
            continue  # an unservable optional client misleads PyVRP's search
        prize = big * (1 + task.priority)
        amount = [task.load.get(d, 0) for d in dims]
        if task.pickup is None:
            stop = task.stops[0][1]
            early, late = _pyvrp_window(stop, t0)
            clients.append(
                pyvrp.Client(
                    location=idx[stop.location],
                    delivery=amount,
                    pickup=[0] * len(dims),
                    service_duration=stop.duration_s,
                    tw_early=early,
                    tw_late=late,
                    prize=prize,
                    required=False,
                    name=task.id,
                )
            )
            refs["clients"].append(task)
        else:
            (p_early, p_late), (d_early, d_late) = (
                _pyvrp_window(task.pickup, t0),
                _pyvrp_window(task.dropoff, t0),
            )
            shipments.append(
                pyvrp.Shipment(
                    idx[task.pickup.location],
                    idx[task.dropoff.location],
                    p_early,
                    p_late,
                    task.pickup.duration_s,
                    d_early,
                    d_late,
                    task.dropoff.duration_s,
                    amount=amount,
                    prize=prize,
                    required=False,
                    name=task.id,
                )
            )
            refs["shipments"].append(task)
    durations = [_with_anywhere(problem.matrices[k].durations) for k in kinds]
    data = pyvrp.ProblemData(
        locations, clients, depots, vehicle_types, durations, durations, [], shipments
    )
    return data, refs


def _pyvrp_window(stop: TaskStop, t0: int) -> tuple[int, int]:
    if not stop.windows:
        return 0, np.iinfo(np.int64).max
    w = stop.windows[0]
    return max(w.start - t0, 0), max(w.end - t0, 0)


def _with_anywhere(m: np.ndarray) -> np.ndarray:
    """The matrix with one more location, "anywhere", reached from everywhere in 0 s."""
    n = m.shape[0]
    out = np.zeros((n + 1, n + 1), dtype=np.int64)
    out[:n, :n] = m
    out[n, :n] = int(m.max()) if n else 0  # never left: it is only ever an end
    return out


def _big(problem: Problem) -> int:
    """More than serving any one task can add to travel (four legs of the longest edge).

    Our optimiser uses more (any set of routes' travel); PyVRP's penalty search copes
    badly with prizes far above its penalties, so the prize is kept as small as still
    says "a served task beats the travel it saves", and priority still dominates.
    """
    longest = max((int(m.durations.max()) for m in problem.matrices.values()), default=0)
    return 4 * max(longest, 1) + 1


def _servable(problem: Problem, task: Task) -> bool:
    """Could any worker take ``task`` at all (eligibility and load)? PyVRP is spared the rest."""
    return any(
        w.may_serve(task) and all(v <= w.capacity.get(k, 0) for k, v in task.load.items())
        for w in problem.workers
    )


def read_pyvrp(
    problem: Problem, t0: int, solution: Any, refs: dict[str, list[Task]]
) -> list[Sequence]:
    """PyVRP's routes as sequences, with the start times of its own schedule."""
    import pyvrp

    kinds = {pyvrp.ActivityType.CLIENT: None, pyvrp.ActivityType.PICKUP: "pickup"}
    kinds[pyvrp.ActivityType.DELIVERY] = "dropoff"
    sequences = []
    for route in solution.routes():
        worker = problem.workers[route.vehicle_type()]
        visits: list[Visit] = []
        for act in route.schedule():
            if act.type not in kinds:
                continue
            pool = refs["clients"] if act.type == pyvrp.ActivityType.CLIENT else refs["shipments"]
            task = pool[act.idx]  # clients and shipments each numbered from 0
            typ = kinds[act.type] or task.stops[0][0]
            visits.append((typ, task, _stop_of(task, typ), t0 + act.start_time))
        sequences.append(Sequence(worker, visits, []))
    return sequences


# --- back to our plan ------------------------------------------------------------------------


def to_plan(problem: Problem, sequences: list[Sequence], seconds: float, engine: str) -> dict:
    """A plan document from a peer's sequences; tasks in no route are diagnosed as ours are."""
    routes = [r for r in (_route(problem, s) for s in sequences) if r is not None]
    served = {tid for r in routes for tid in r.task_ids}
    unassigned = [diagnose(problem, t) for t in problem.tasks if t.id not in served]
    return Plan(tuple(routes), tuple(unassigned), 0, seconds, engine=engine).to_json()


def _route(problem: Problem, seq: Sequence) -> Route | None:
    """Timed as our routes are; as the peer planned it when that cannot keep every rule."""
    if not seq.visits:
        return None
    route, dropped = build_route(problem, seq.worker, seq.visits, seq.breaks)
    if not dropped:
        return route
    return _as_planned(problem, seq)


def _as_planned(problem: Problem, seq: Sequence) -> Route:
    """Earliest times in the peer's order with each break where the peer put it, rules or not."""
    w, m, idx = seq.worker, problem.matrix_for(seq.worker), problem.location_index
    items: list[tuple[int, Any]] = [(at, ("stop", v)) for v in seq.visits for at in [v[3]]]
    items += [(at, ("break", b)) for b, at in seq.breaks]
    items.sort(key=lambda x: (x[0], x[1][0] == "stop"))  # a break before a stop at the same time
    t = w.earliest_departure
    here = idx[w.origin]
    stops = [Stop("start", location=w.origin, departure=t)]
    travel = distance = service = waiting = 0
    for _, (what, ref) in items:
        if what == "break":
            start = max(t, ref.window.start)
            stops.append(Stop("break", break_id=ref.id, start=start, end=start + ref.duration_s))
            t = start + ref.duration_s
            continue
        typ, task, stop, _ = ref
        j = idx[stop.location]
        arrival = t + int(m.durations[here, j])
        travel, distance = travel + int(m.durations[here, j]), distance + int(m.distances[here, j])
        start = _first_start(stop.windows or (w.shift,), arrival)
        stops.append(
            Stop(
                typ,
                location=stop.location,
                task=task.id,
                arrival=arrival,
                start=start,
                end=start + stop.duration_s,
            )
        )
        waiting, service = waiting + start - arrival, service + stop.duration_s
        t, here = start + stop.duration_s, j
    if w.end:
        j = idx[w.end]
        travel, distance = travel + int(m.durations[here, j]), distance + int(m.distances[here, j])
        stops.append(Stop("end", location=w.end, arrival=t + int(m.durations[here, j])))
    return Route(w.id, tuple(stops), travel, distance, service, waiting, w.utc_offset_s)


def _first_start(windows: tuple[TimeWindow, ...], arrival: int) -> int:
    """The earliest start at or after ``arrival`` inside a window; ``arrival`` when none is left."""
    return next((max(arrival, w.start) for w in windows if arrival <= w.end), arrival)


# --- shared ----------------------------------------------------------------------------------


def _origin_time(problem: Problem) -> int:
    """Epoch seconds of the earliest departure: time zero for the peers' integer clocks."""
    return min((w.earliest_departure for w in problem.workers), default=0)


def _dimensions(problem: Problem) -> list[str]:
    names = {d for w in problem.workers for d in w.capacity}
    return sorted(names | {d for t in problem.tasks for d in t.load})


def _code(codes: dict[str, int], name: str) -> int:
    return codes.setdefault(name, len(codes))


def _stop_of(task: Task, typ: str) -> TaskStop:
    return dict(task.stops)[typ]
