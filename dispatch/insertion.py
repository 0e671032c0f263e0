"""Cheapest feasible insertion of one task into routes already planned. Pure: no Flask, no database.

An urgent order, accepted after the day's plan, goes into the current routes at
once; a full re-plan polishes the result later. The routes keep their order: the
task's stops are slotted between existing stops, never reshuffling them, so what
a worker was told stays in the order they were told it.

Candidates (worker, positions) that the task's kind, skills, district, pin,
``max_tasks`` and load allow are sorted by the travel they add, read from the
problem's matrix; the first whose route :mod:`dispatch.plan` can time by the
contract's rules (shift, windows, breaks, ``max_ride``, ``end``) wins. So the
answer is the cheapest feasible insertion, found after timing only as many
routes as are cheaper but infeasible.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from dispatch.plan import Route, _render, _time_route
from dispatch.problem import Problem, Task, Worker

RouteStops = Sequence[tuple[str, str, int]]
"""A route as ``(type, task id, planned start in epoch s)`` per task stop, in order
(types ``visit``, ``pickup``, ``dropoff``; start and end stops are implied)."""


@dataclass(frozen=True)
class Insertion:
    """Where the task goes: the worker, its re-timed route, and the travel added (s)."""

    worker: str
    route: Route
    added_travel_s: int


def cheapest_insertion(problem: Problem, routes: Mapping[str, RouteStops], task_id: str,
                       *, workers: Sequence[str] | None = None) -> Insertion | None:
    """The cheapest feasible way to add task ``task_id`` to ``routes``, or None.

    Parameters
    ----------
    problem
        A validated problem holding the task, every task named in ``routes`` and
        their workers (``en_route`` when the day has begun).
    routes
        Each worker's current task stops, in order; a worker without a route may
        be absent or map to an empty sequence.
    task_id
        The task to insert; it must be in no route.
    workers
        Only these workers are tried (default: all of the problem's).

    Returns
    -------
    Insertion or None
        None when no worker can take the task without breaking a rule.

    Raises
    ------
    KeyError
        When ``task_id`` or a task in ``routes`` is not in the problem.
    """
    tasks = {t.id: t for t in problem.tasks}
    task = tasks[task_id]
    wanted = set(workers) if workers is not None else None
    candidates: list[tuple[int, int, Worker, list[tuple[str, Task, int]]]] = []
    for n, worker in enumerate(problem.workers):
        if (wanted is not None and worker.id not in wanted) or not worker.may_serve(task):
            continue
        current = [(typ, tasks[tid], start) for typ, tid, start in routes.get(worker.id, ())]
        if worker.max_tasks is not None and len({id(t) for _, t, _ in current}) + 1 > worker.max_tasks:
            continue
        for added, stops in _placements(problem, worker, current, task):
            if _load_fits(worker, stops):
                candidates.append((added, n, worker, stops))
    candidates.sort(key=lambda c: (c[0], c[1]))
    for added, _, worker, stops in candidates:
        visits = [(typ, t, dict(t.stops)[typ], hint) for typ, t, hint in stops]
        breaks = [(b, b.window.start) for b in worker.breaks]
        timed = _time_route(problem, worker, visits, breaks)
        if timed is not None:
            return Insertion(worker.id, _render(problem, worker, *timed), added)
    return None


def _placements(problem: Problem, worker: Worker, current: list[tuple[str, Task, int]],
                task: Task) -> Iterator[tuple[int, list[tuple[str, Task, int]]]]:
    """Every way to slot the task's stops into ``current``, with the travel each adds (s)."""
    idx = problem.location_index
    m = problem.matrix_for(worker).durations
    places = [idx[worker.origin], *(idx[dict(t.stops)[typ].location] for typ, t, _ in current)]
    end = idx[worker.end] if worker.end else None

    def leg(a: int | None, b: int | None) -> int:
        return 0 if a is None or b is None else int(m[a, b])

    def added_at(pos: int, loc: int) -> int:
        before = places[pos]
        after = places[pos + 1] if pos + 1 < len(places) else end
        return leg(before, loc) + leg(loc, after) - leg(before, after)

    def hint(pos: int) -> int:
        return current[pos - 1][2] if pos > 0 else 0

    parts = task.stops
    if len(parts) == 1:
        typ, stop = parts[0]
        loc = idx[stop.location]
        for pos in range(len(current) + 1):
            yield added_at(pos, loc), [*current[:pos], (typ, task, hint(pos)), *current[pos:]]
        return
    (_, pickup), (_, dropoff) = parts
    p_loc, d_loc = idx[pickup.location], idx[dropoff.location]
    for i in range(len(current) + 1):
        for j in range(i, len(current) + 1):
            if i == j:  # straight from the pharmacy to the door
                before = places[i]
                after = places[i + 1] if i + 1 < len(places) else end
                added = leg(before, p_loc) + leg(p_loc, d_loc) + leg(d_loc, after) - leg(before, after)
            else:
                added = added_at(i, p_loc) + added_at(j, d_loc)
            stops = [*current[:i], ("pickup", task, hint(i)), *current[i:j], ("dropoff", task, hint(j)),
                     *current[j:]]
            yield added, stops


def _load_fits(worker: Worker, stops: list[tuple[str, Task, int]]) -> bool:
    """Every named load within capacity all along the route (parcels without pickup leave loaded)."""
    load: dict[str, int] = {}
    for task in {id(t): t for _, t, _ in stops}.values():
        if task.kind == "delivery" and task.pickup is None:
            for name, v in task.load.items():
                load[name] = load.get(name, 0) + v
    if any(v > worker.capacity.get(name, 0) for name, v in load.items()):
        return False
    for typ, task, _ in stops:
        sign = 1 if typ == "pickup" else -1 if typ == "dropoff" else 0
        for name, v in task.load.items():
            load[name] = load.get(name, 0) + sign * v
            if load[name] > worker.capacity.get(name, 0):
                return False
    return True
