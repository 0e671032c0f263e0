"""A day cut into parts that can be solved apart: by who could serve what, then by place.

First the exact cut: the connected components of the graph linking each worker
to the tasks it could serve by kind, skills, district and pin (the static half
of :func:`dispatch.diagnose.candidate_workers`; the timing half only ever rules
out more). Visits and deliveries always fall apart; so do districts that no
worker spans. Pins and preferences follow the candidates, so they stay inside.

A component still too large to plan well in the time (more than
:data:`MAX_PART_STOPS` stops) is then cut by district, and a district still too
large by area: sectors around its middle with equal numbers of stops. Each
worker goes to one group: first one qualified worker for every kind of task in
every group (the rarest skills first, the nearest worker), then the rest, each
to the group with most stops per worker, the nearest first. These cuts take
choices away (a worker covering two districts now serves one), so they are used
only where one model would plan worse in the time: on the generated 650-task
day at 30 s, component parts served 242 tasks and district parts 641
(``bench/large.py``, when ``max_ride`` still made first plans slow).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from dispatch.problem import Matrix, Problem, Task, Worker

MAX_PART_STOPS = 300
"""Stops above which a part is cut further. Measured once ``max_ride`` no longer slowed the
first plan (seed 1, 2 cores): on the generated 2,500-task day at 60 s, parts of at most
120 stops served 2,403 tasks (95.0 % of priority), of at most 250 stops 2,444 (96.8 %);
on the 650-task day at 30 s, travel fell by 2-4 % for the same tasks served. With the string
search on every part (2026-12-02), 300 keeps the generated cities' nurses whole (260 visits):
cut by district, ``city:medium:2`` left 3 visits out that only a nurse of the next district
could take (636 served, 266,752 s; whole: 640 and 646 served, 253,739 and 258,803 s, seeds 1
and 2); ``bench.large`` served 2,477 tasks (98.6 % of priority) against 2,466 (98.0 %)."""


@dataclass(frozen=True)
class Part:
    """Indices into ``problem.workers`` and ``problem.tasks`` of one independent part."""

    workers: tuple[int, ...]
    tasks: tuple[int, ...]

    def size(self, problem: Problem) -> int:
        """Stops to route (a visit, or a pickup and a drop-off)."""
        return sum(len(problem.tasks[t].stops) for t in self.tasks)

    def effort(self, problem: Problem) -> float:
        """What a part's share of the time follows: its stops.

        Until 2026-12-02 it was stops x the square root of the workers (a first solution
        for 127 visits and 20 nurses took 1.0 s, for 120 stops and 4 couriers 0.4 s), but
        the string search, which takes most of the time now, improves a part at a pace set
        by its stops; that weight gave a whole 260-visit nurse part a core of its own and
        left six courier parts to share the other.
        """
        return float(self.size(problem))


def split_problem(
    problem: Problem, *, max_part_stops: int | None = MAX_PART_STOPS
) -> tuple[list[Part], list[int]]:
    """Parts of ``problem`` to solve apart, and the tasks no worker could serve.

    Parameters
    ----------
    problem
        A validated problem.
    max_part_stops
        Components with more stops are cut by district, then by area; None keeps
        the components whole.

    Returns
    -------
    parts : list of Part
        Each with at least one task and one worker, ordered by their first task.
    orphans : list of int
        Indices of tasks with no worker of the right kind, skills and district (or
        whose pinned worker is not one), unassigned whatever the plan; and, rarely,
        tasks of a group that got no worker when a component was cut.
    """
    parts, orphans = _components(problem)
    if max_part_stops is None:
        return parts, orphans
    out = []
    for part in parts:
        if part.size(problem) <= max_part_stops:
            out.append(part)
            continue
        by_district: dict[str, list[int]] = {}
        for ti in part.tasks:
            by_district.setdefault(problem.tasks[ti].district, []).append(ti)
        cut, stranded = _share_out(problem, part, list(by_district.values()))
        orphans += stranded
        for p in cut:
            size = p.size(problem)
            if size <= max_part_stops:
                out.append(p)
                continue
            sectors = _sectors(problem, p.tasks, math.ceil(size / max_part_stops))
            cut_again, stranded = _share_out(problem, p, sectors)
            out += cut_again
            orphans += stranded
    out.sort(key=lambda p: p.tasks[0])
    return out, sorted(orphans)


def _components(problem: Problem) -> tuple[list[Part], list[int]]:
    n_workers = len(problem.workers)
    parent = list(range(n_workers))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    able: dict[tuple[str, str], list[int]] = {}
    for v, w in enumerate(problem.workers):
        for d in w.districts:
            able.setdefault((w.kind, d), []).append(v)
    first_worker: dict[int, int] = {}
    orphans = []
    for ti, task in enumerate(problem.tasks):
        key = (task.worker_kind, task.district)
        linked = [v for v in able.get(key, ()) if problem.workers[v].may_serve(task)]
        if not linked:
            orphans.append(ti)
            continue
        first_worker[ti] = linked[0]
        for v in linked[1:]:
            parent[root(v)] = root(linked[0])
    groups: dict[int, list[int]] = {}
    for ti, v in first_worker.items():
        groups.setdefault(root(v), []).append(ti)
    parts = [
        Part(tuple(v for v in range(n_workers) if root(v) == r), tuple(tasks))
        for r, tasks in groups.items()
    ]
    return sorted(parts, key=lambda p: p.tasks[0]), orphans


def _share_out(
    problem: Problem, part: Part, groups: list[list[int]]
) -> tuple[list[Part], list[int]]:
    """Give each of the part's workers to one group of its tasks; pinned tasks follow their worker.

    Returns the new parts and the tasks of groups that got no worker.
    """
    where = _places(problem)
    task_xy = [np.mean([where[_last(problem.tasks[t])] for t in g], axis=0) for g in groups]
    stops = [sum(len(problem.tasks[t].stops) for t in g) for g in groups]
    staff: list[list[int]] = [[] for _ in groups]
    free = list(part.workers)

    def nearest(g: int, able: list[int]) -> int:
        def away(v: int) -> float:
            return float(np.hypot(*(where[problem.workers[v].origin] - task_xy[g])))

        return min(able, key=lambda v: (away(v), v))

    # One qualified worker for every kind of task in every group, rarest first.
    for g, tasks in enumerate(groups):
        needs = {(problem.tasks[t].district, problem.tasks[t].skills) for t in tasks}
        rarest_first = sorted(needs, key=lambda n: (_count(problem, free, n), n[0], sorted(n[1])))
        for district, skills in rarest_first:
            if any(_covers(problem.workers[v], district, skills) for v in staff[g]):
                continue
            able = [v for v in free if _covers(problem.workers[v], district, skills)]
            if able:
                v = nearest(g, able)
                staff[g].append(v)
                free.remove(v)
    # The rest where they are needed most: the most stops per worker, the nearest first.
    serves = {
        v: [
            g
            for g, ts in enumerate(groups)
            if any(problem.workers[v].may_serve(problem.tasks[t]) for t in ts)
        ]
        for v in free
    }
    free = [v for v in free if serves[v]]
    while free:
        g = max(
            (g for g in range(len(groups)) if any(g in serves[v] for v in free)),
            key=lambda g: (stops[g] / (len(staff[g]) + 1), -g),
        )
        v = nearest(g, [v for v in free if g in serves[v]])
        staff[g].append(v)
        free.remove(v)
    group_of = {v: g for g, vs in enumerate(staff) for v in vs}
    ids = {problem.workers[v].id: v for v in part.workers}
    tasks_of: list[list[int]] = [[] for _ in groups]
    for g, tasks in enumerate(groups):
        for t in tasks:
            pin = problem.tasks[t].pinned_worker
            tasks_of[group_of[ids[pin]] if pin is not None else g].append(t)
    parts = [
        Part(tuple(sorted(staff[g])), tuple(sorted(tasks_of[g])))
        for g in range(len(groups))
        if tasks_of[g] and staff[g]
    ]
    stranded = [t for g in range(len(groups)) if not staff[g] for t in tasks_of[g]]
    return parts, stranded


def _covers(worker: Worker, district: str, skills: frozenset[str]) -> bool:
    return district in worker.districts and skills <= worker.skills


def _count(problem: Problem, workers: list[int], need: tuple[str, frozenset[str]]) -> int:
    return sum(1 for v in workers if _covers(problem.workers[v], *need))


def _sectors(problem: Problem, tasks: tuple[int, ...], k: int) -> list[list[int]]:
    """``k`` sectors around the tasks' middle, each with about the same number of stops.

    The sweep starts after the widest empty angle, so that a cluster of addresses is
    not cut in two at an arbitrary bearing.
    """
    where = _places(problem)
    xy = np.array([where[_last(problem.tasks[t])] for t in tasks])
    angle = np.arctan2(*(xy - xy.mean(axis=0)).T[::-1])
    order = np.argsort(angle, kind="stable")
    gaps = np.diff(np.append(angle[order], angle[order[0]] + 2 * np.pi))
    order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    weights = [len(problem.tasks[tasks[i]].stops) for i in order]
    total, sectors, run = sum(weights), [[] for _ in range(k)], 0
    for i, wgt in zip(order, weights, strict=True):
        sectors[min(k - 1, run * k // total)].append(tasks[i])
        run += wgt
    return [s for s in sectors if s]


def _last(task: Task) -> str:
    """Where the task is, for the map: the visit's address or the parcel's drop-off."""
    return (task.visit or task.dropoff).location


def _places(problem: Problem) -> dict[str, np.ndarray]:
    """Each location as (x, y) in km on a local flat map: close enough within a city."""
    lat0 = math.radians(np.mean([loc.lat for loc in problem.locations]))
    return {
        loc.id: np.array([loc.lon * 111.32 * math.cos(lat0), loc.lat * 110.57])
        for loc in problem.locations
    }


def sub_problem(problem: Problem, part: Part) -> Problem:
    """The part as a problem of its own, its matrices sliced to the places it visits.

    Only the kinds of worker in the part keep a matrix; ids, times and options are
    unchanged, so the part's plan reads as the whole problem's would.
    """
    workers = tuple(problem.workers[v] for v in part.workers)
    tasks = tuple(problem.tasks[t] for t in part.tasks)
    index = problem.location_index
    used: set[int] = set()
    for w in workers:
        used.update(index[x] for x in (w.start, w.end, w.origin) if x is not None)
    for task in tasks:
        used.update(index[stop.location] for _, stop in task.stops)
    keep = sorted(used)
    rows = np.ix_(keep, keep)
    matrices = {}
    for kind in sorted({w.kind for w in workers}):
        m = problem.matrices[kind]
        durations, distances = m.durations[rows], m.distances[rows]
        durations.flags.writeable = False
        distances.flags.writeable = False
        matrices[kind] = Matrix(durations, distances)
    locations = tuple(problem.locations[i] for i in keep)
    return replace(
        problem,
        locations=locations,
        workers=workers,
        tasks=tasks,
        matrices=matrices,
        location_index={loc.id: k for k, loc in enumerate(locations)},
    )
