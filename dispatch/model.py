"""The OR-Tools routing model of a Problem: one vehicle per worker, one node per stop.

Nodes are, in order: each worker's start and end (an open end, with no
location and zero travel in, when the worker has no ``end``), then each modelled
task's stops (a visit; or a pickup, if any, and a drop-off). Times in the model
are seconds after ``t0``, the earliest departure of any worker.

Objective (all in seconds of travel, the unit of the arc costs):

* arc cost = travel time in the worker's kind's matrix;
* :data:`PREFERENCE_COST_S` when a task with ``preferred_workers`` is served by
  someone else (a span cost on the ``preference`` dimension, once per task);
* leaving a task out costs ``big * (1 + priority)``, where ``big`` exceeds the
  cost of any set of routes, so serving more priority always wins over saving
  travel; a pinned task costs far more still, so it is dropped only when it
  cannot be served at all.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp

from dispatch.diagnose import candidate_workers
from dispatch.problem import Break, Problem, TimeWindow, Worker

PREFERENCE_COST_S = 600
"""Soft cost of a non-preferred worker: worth ten minutes of travel, never a dropped task."""


@dataclass(frozen=True)
class Node:
    """A place in the model. ``location`` indexes ``problem.locations``; -1 is an open end."""

    type: str  # start, end, visit, pickup, dropoff
    location: int
    duration_s: int = 0
    windows: tuple[TimeWindow, ...] = ()
    task: int = -1  # index into problem.tasks; -1 for starts and ends


@dataclass
class Model:
    """The built model and what is needed to read a solution back."""

    problem: Problem
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    nodes: list[Node]
    t0: int
    candidates: dict[int, list[int]]  # task index -> worker indices the model may use
    idle_ok: list[bool]  # per worker: can it stay idle within its shift (see _can_go_home)
    task_nodes: dict[int, list[int]] = field(default_factory=dict)  # task index -> routing indices
    breaks: dict[int, list[tuple[Break, pywrapcp.IntervalVar]]] = field(default_factory=dict)
    transits: list[int] = field(default_factory=list)  # per worker: its time transit callback
    penalties: dict[int, int] = field(default_factory=dict)  # task index -> cost of leaving it out
    driven: pywrapcp.RoutingDimension | None = None  # see _driven
    travel: dict[str, np.ndarray] = field(default_factory=dict)  # per kind, node to node seconds


def build_model(problem: Problem, *, seed: int = 0) -> Model:
    """Build the routing model of ``problem``.

    Parameters
    ----------
    problem
        A validated problem.
    seed
        0 keeps the tasks in document order; another value shuffles the order of
        the task nodes, which changes the heuristics' tie-breaking.

    Returns
    -------
    Model
        Tasks that no worker can serve alone are left out of the model (see
        :func:`dispatch.diagnose.candidate_workers`).
    """
    workers = problem.workers
    index_of = {w.id: v for v, w in enumerate(workers)}
    order = list(range(len(problem.tasks)))
    if seed:
        random.Random(seed).shuffle(order)
    idle_ok = [_can_go_home(problem, w) for w in workers]
    candidates = {}
    for ti in order:
        allowed = [
            index_of[w.id]
            for w in candidate_workers(problem, problem.tasks[ti])
            if idle_ok[index_of[w.id]]
        ]
        if allowed:
            candidates[ti] = allowed

    loc = problem.location_index
    nodes = [Node("start", loc[w.origin]) for w in workers]
    nodes += [
        Node("end", loc[w.end] if w.end and idle_ok[v] else -1) for v, w in enumerate(workers)
    ]
    for ti in candidates:
        for typ, stop in problem.tasks[ti].stops:
            nodes.append(Node(typ, loc[stop.location], stop.duration_s, stop.windows, ti))
    n_workers = len(workers)
    manager = pywrapcp.RoutingIndexManager(
        len(nodes), n_workers, list(range(n_workers)), list(range(n_workers, 2 * n_workers))
    )
    routing = pywrapcp.RoutingModel(manager)
    t0 = min(w.earliest_departure for w in workers)
    model = Model(problem, manager, routing, None, nodes, t0, candidates, idle_ok)  # type: ignore[arg-type]
    for n, node in enumerate(nodes):
        if node.task >= 0:
            model.task_nodes.setdefault(node.task, []).append(manager.NodeToIndex(n))

    travel = model.travel = _travel_tables(problem, nodes)
    service = np.array([n.duration_s for n in nodes], dtype=np.int64)
    _add_arc_costs(model, travel)
    _add_preferences(model)
    horizon = max(w.shift.end for w in workers) - t0
    transit = {
        k: routing.RegisterTransitMatrix((service[:, None] + t).tolist()) for k, t in travel.items()
    }
    model.transits = [transit[w.kind] for w in workers]
    routing.AddDimensionWithVehicleTransits(model.transits, horizon, horizon, False, "time")
    model.time = routing.GetDimensionOrDie("time")
    _add_time_windows(model, horizon)
    _add_capacities(model)
    _add_tasks(model, travel, horizon)
    _add_breaks(model, service)
    return model


def _can_go_home(problem: Problem, worker: Worker) -> bool:
    """Can an idle worker take its breaks at its origin, then reach its end, within the shift?

    If not, the worker serves nothing and gets an open end and no breaks, which keeps its
    empty route feasible (OR-Tools requires every route, even an empty one, to be).
    """
    t = worker.earliest_departure
    for b in sorted(worker.breaks, key=lambda b: b.window.start):
        t = max(t, b.window.start)
        if t > b.window.end:
            return False
        t += b.duration_s
    if worker.end is None:
        return t <= worker.shift.end
    m = problem.matrix_for(worker).durations
    idx = problem.location_index
    return t + int(m[idx[worker.origin], idx[worker.end]]) <= worker.shift.end


def _travel_tables(problem: Problem, nodes: list[Node]) -> dict[str, np.ndarray]:
    """Per worker kind, node-to-node travel seconds; zero into and out of open ends."""
    locs = np.array([n.location for n in nodes])
    open_end = locs < 0
    safe = np.where(open_end, 0, locs)
    out = {}
    for kind, matrix in problem.matrices.items():
        t = matrix.durations[np.ix_(safe, safe)].copy()
        t[open_end, :] = 0
        t[:, open_end] = 0
        out[kind] = t
    return out


def _add_arc_costs(model: Model, travel: dict[str, np.ndarray]) -> None:
    """Arc cost = travel time in the worker's kind's matrix: one matrix per kind, shared."""
    routing = model.routing
    registered = {kind: routing.RegisterTransitMatrix(t.tolist()) for kind, t in travel.items()}
    for v, w in enumerate(model.problem.workers):
        routing.SetArcCostEvaluatorOfVehicle(registered[w.kind], v)


def _add_preferences(model: Model) -> None:
    """:data:`PREFERENCE_COST_S` for each task served by a worker it does not prefer.

    A dimension whose transit leaving a task's visit or drop-off is the cost for that
    worker, its span cost counted once in the objective. Workers who are penalised on
    the same tasks share one vector, so the memory grows with the number of tasks, not
    with workers x locations squared as one arc-cost matrix per worker would.
    """
    problem, routing = model.problem, model.routing
    preferring = [
        (n, set(problem.tasks[node.task].preferred_workers))
        for n, node in enumerate(model.nodes)
        if node.type in ("visit", "dropoff") and problem.tasks[node.task].preferred_workers
    ]
    if not preferring:
        return
    registered: dict[tuple[int, ...], int] = {}
    evaluators = []
    for w in problem.workers:
        penalised = tuple(n for n, who in preferring if w.id not in who)
        if penalised not in registered:
            cost = [0] * len(model.nodes)
            for n in penalised:
                cost[n] = PREFERENCE_COST_S
            registered[penalised] = routing.RegisterUnaryTransitVector(cost)
        evaluators.append(registered[penalised])
    ceiling = PREFERENCE_COST_S * (len(preferring) + 1)
    routing.AddDimensionWithVehicleTransits(evaluators, 0, ceiling, True, "preference")
    routing.GetDimensionOrDie("preference").SetSpanCostCoefficientForAllVehicles(1)


def _add_time_windows(model: Model, horizon: int) -> None:
    """Shifts on the start and end cumuls; each stop's windows as a domain with holes."""
    routing, time, t0 = model.routing, model.time, model.t0
    for v, w in enumerate(model.problem.workers):
        time.CumulVar(routing.Start(v)).SetRange(w.earliest_departure - t0, w.shift.end - t0)
        time.CumulVar(routing.End(v)).SetRange(w.earliest_departure - t0, w.shift.end - t0)
    for n, node in enumerate(model.nodes):
        if node.task < 0 or not node.windows:
            continue
        spans = [(max(0, a.start - t0), min(horizon, a.end - t0)) for a in node.windows]
        spans = [(a, b) for a, b in spans if a <= b]
        cumul = time.CumulVar(model.manager.NodeToIndex(n))
        if not spans:  # cannot happen for a candidate task; be safe anyway
            routing.ActiveVar(model.manager.NodeToIndex(n)).SetValue(0)
            continue
        cumul.SetRange(spans[0][0], spans[-1][1])
        for (_, b), (a, _) in itertools.pairwise(spans):
            if a > b + 1:
                cumul.RemoveInterval(b + 1, a - 1)


def _add_capacities(model: Model) -> None:
    """One dimension per load name; a worker without that name has capacity 0.

    A parcel without pickup is loaded at the start: its drop-off has demand
    ``-load`` and the start cumul is left free in ``[0, capacity]``. As every cumul
    must stay in ``[0, capacity]``, the start load is at least the sum of such
    parcels on the route, and the smallest feasible start load is exactly that sum,
    so the cumuls are then the true loads along the route.
    """
    problem, routing = model.problem, model.routing
    names = sorted({k for ti in model.candidates for k in problem.tasks[ti].load})
    for name in names:
        demand = [0] * len(model.nodes)
        for n, node in enumerate(model.nodes):
            if node.type in ("pickup", "dropoff"):
                amount = problem.tasks[node.task].load.get(name, 0)
                demand[n] = amount if node.type == "pickup" else -amount
        caps = [w.capacity.get(name, 0) for w in problem.workers]
        loaded_only = all(d <= 0 for d in demand)
        if loaded_only:  # the load is largest at the start: count what is delivered instead
            demand = [-d for d in demand]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand), 0, caps, loaded_only, f"load:{name}"
        )
    if any(w.max_tasks is not None for w in problem.workers):
        counts = [1 if node.type in ("visit", "dropoff") else 0 for node in model.nodes]
        caps = [len(problem.tasks) if w.max_tasks is None else w.max_tasks for w in problem.workers]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(counts), 0, caps, True, "tasks"
        )


def _add_tasks(model: Model, travel: dict[str, np.ndarray], horizon: int) -> None:
    """Allowed workers, pickup-before-drop-off pairs, ``max_ride`` and drop penalties."""
    problem, routing, time = model.problem, model.routing, model.time
    solver = routing.solver()
    # Any route set costs less than `big`: every node leaves by one arc, at most its dearest one.
    big = int(sum(t.max(axis=1).sum() for t in travel.values()))
    big += PREFERENCE_COST_S * len(problem.tasks) + 1
    pinned_penalty = big * 101 * (len(problem.tasks) + 1)
    for ti, allowed in model.candidates.items():
        task = problem.tasks[ti]
        idx = model.task_nodes[ti]
        penalty = pinned_penalty if task.pinned_worker else big * (1 + task.priority)
        model.penalties[ti] = penalty
        # -1 is "unperformed". (SetAllowedVehiclesForIndex's Span binding is broken in 9.15.)
        if len(allowed) < len(problem.workers):
            for i in idx:
                routing.VehicleVar(i).SetValues([-1, *allowed])
        if len(idx) == 2:
            p, d = idx
            routing.AddPickupAndDelivery(p, d)
            solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
            solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
            solver.Add(time.CumulVar(p) <= time.CumulVar(d))
            routing.AddDisjunction([p], 0)
            routing.AddDisjunction([d], penalty)
            if task.max_ride_s is not None:  # from the end of pickup to the start of drop-off
                # cumul(p) >= cumul(d) - (ride + pickup service), when both are performed: a
                # node precedence, which OR-Tools' filters check. The same rule as a CP
                # constraint was measured 13x slower to a first plan (650-task city).
                time.AddNodePrecedence(d, p, -(task.max_ride_s + task.pickup.duration_s))
        else:
            (d,) = idx
            routing.AddDisjunction([d], penalty)
            if task.max_ride_s is not None and task.kind == "delivery":  # rides from the start
                _driven(model, horizon).CumulVar(d).SetMax(task.max_ride_s)


def _driven(model: Model, horizon: int) -> pywrapcp.RoutingDimension:
    """Travel and service since leaving the start, without waiting: the ``driven`` dimension.

    A parcel loaded at the start rides from the departure to its drop-off. The
    exact rule (drop-off time minus the route's start time, on whichever route
    serves it) is a constraint OR-Tools' filters cannot see; posted as one, it made
    the first plan of a 650-task city 10x slower. Capping this dimension instead is
    a lower bound on the ride that the filters do check; the exact timing in
    :func:`dispatch.plan.build_route` delays the departure to shorten rides and, in
    the rare case where waiting still breaks the limit, leaves the parcel out.
    """
    if model.driven is None:
        routing = model.routing
        routing.AddDimensionWithVehicleTransits(model.transits, 0, horizon, True, "driven")
        model.driven = routing.GetDimensionOrDie("driven")
    return model.driven


def _add_breaks(model: Model, service: np.ndarray) -> None:
    """Each break once, inside its window, with OR-Tools' own break rule.

    OR-Tools may put a break anywhere in the gap between two stops, travel
    included, whereas the contract takes it where the worker is, before driving
    on. The two differ only when a break window opens after the worker is free
    and the next stop cannot wait; the exact timing in :mod:`dispatch.plan` then
    moves the break to another gap (or, rarely, leaves a task out). Modelling the
    contract's rule in the CP model with reified constraints was tried and made
    OR-Tools' cumul finalizer thrash for seconds on small instances.
    """
    problem, routing, time, t0 = model.problem, model.routing, model.time, model.t0
    solver = routing.solver()
    manager = model.manager
    size = routing.Size() + len(problem.workers)
    visit_transits = [int(service[manager.IndexToNode(i)]) for i in range(size)]
    for v, w in enumerate(problem.workers):
        if not w.breaks or not model.idle_ok[v]:
            continue  # no breaks, or a worker who cannot work (see _can_go_home)
        intervals = []
        for b in w.breaks:
            lo = max(b.window.start, w.earliest_departure) - t0
            hi = min(b.window.end, w.shift.end - b.duration_s) - t0
            intervals.append(
                solver.FixedDurationIntervalVar(lo, hi, b.duration_s, False, f"{w.id}/{b.id}")
            )
        time.SetBreakIntervalsOfVehicle(intervals, v, visit_transits)
        if len(intervals) > 1:
            solver.Add(solver.DisjunctiveConstraint(intervals, f"{w.id}/breaks"))
        model.breaks[v] = list(zip(w.breaks, intervals, strict=True))
