"""A solved plan: routes of stops, the unassigned tasks with their reasons, a summary.

Times are epoch seconds here; :meth:`Plan.to_json` renders them as ISO 8601 in
each worker's own UTC offset (that of the shift start), per format v1.

:func:`build_route` times a route exactly as the contract reads it: a break is
taken where the worker is, after one stop and before driving to the next; a
parcel's ride runs from the end of its pickup (or from leaving the start) to the
start of its drop-off. Times are the earliest that satisfy every rule.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from dispatch.problem import Break, Problem, Task, TaskStop, TimeWindow, Worker

# Reasons a task is unassigned (``unassigned[].reason``), checked in this order.
NO_WORKER_OF_KIND = "no_worker_of_kind"
NO_WORKER_WITH_SKILLS = "no_worker_with_skills"
NO_WORKER_IN_DISTRICT = "no_worker_in_district"
SHIFT_TOO_SHORT = "shift_too_short"
TIME_WINDOW_UNREACHABLE = "time_window_unreachable"
CAPACITY = "capacity"
NOT_WORTH_SERVING = "not_worth_serving"
REASONS = (
    NO_WORKER_OF_KIND,
    NO_WORKER_WITH_SKILLS,
    NO_WORKER_IN_DISTRICT,
    TIME_WINDOW_UNREACHABLE,
    SHIFT_TOO_SHORT,
    CAPACITY,
    NOT_WORTH_SERVING,
)

STOP_TYPES = ("start", "visit", "break", "pickup", "dropoff", "end")


@dataclass(frozen=True)
class Stop:
    """One stop of a route; times are epoch seconds, None where the type has none.

    ``start`` stops have ``departure``; task stops ``arrival``, ``start`` and ``end``;
    breaks ``start`` and ``end``; ``end`` stops ``arrival``.
    """

    type: str
    location: str | None = None
    task: str | None = None
    break_id: str | None = None
    arrival: int | None = None
    start: int | None = None
    end: int | None = None
    departure: int | None = None

    def to_json(self, utc_offset_s: int) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.break_id is not None:
            out["break"] = self.break_id
        if self.task is not None:
            out["task"] = self.task
        if self.location is not None:
            out["location"] = self.location
        for key in ("arrival", "start", "end", "departure"):
            value = getattr(self, key)
            if value is not None:
                out[key] = iso(value, utc_offset_s)
        return out


@dataclass(frozen=True)
class Route:
    """A worker's day: stops in order and totals (seconds, metres)."""

    worker: str
    stops: tuple[Stop, ...]
    travel_time_s: int
    distance_m: int
    service_time_s: int
    waiting_time_s: int
    utc_offset_s: int = 0

    @property
    def task_ids(self) -> list[str]:
        """Tasks served, each once, in the order their service ends."""
        seen = {s.task: None for s in self.stops if s.type in ("visit", "dropoff")}
        return list(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "stops": [s.to_json(self.utc_offset_s) for s in self.stops],
            "travel_time": self.travel_time_s,
            "distance": self.distance_m,
            "service_time": self.service_time_s,
            "waiting_time": self.waiting_time_s,
        }


@dataclass(frozen=True)
class Unassigned:
    """A task in no route: ``reason`` is one of :data:`REASONS`, ``detail`` plain words."""

    task: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"task": self.task, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Plan:
    """The optimiser's answer. ``objective`` is the engine's own cost (lower is better)."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    objective: int = 0
    solve_seconds: float = 0.0
    engine: str = "ortools"
    stats: dict[str, Any] = field(default_factory=dict, compare=False)

    def summary(self) -> dict[str, Any]:
        """Counts and totals, as in the plan's ``summary`` (seconds, metres)."""
        return {
            "assigned": sum(len(r.task_ids) for r in self.routes),
            "unassigned": len(self.unassigned),
            "travel_time": sum(r.travel_time_s for r in self.routes),
            "distance": sum(r.distance_m for r in self.routes),
            "objective": self.objective,
            "solve_seconds": round(self.solve_seconds, 2),
            "engine": self.engine,
        }

    def to_json(self) -> dict[str, Any]:
        """The plan document of format v1 (``status: solved``)."""
        return {
            "version": 1,
            "status": "solved",
            "routes": [r.to_json() for r in self.routes],
            "unassigned": [u.to_json() for u in self.unassigned],
            "summary": self.summary(),
        }


def iso(t: int, utc_offset_s: int) -> str:
    """Epoch seconds as ISO 8601 with the given UTC offset, e.g. ``2026-11-23T08:00:00+08:00``."""
    return datetime.fromtimestamp(t, timezone(timedelta(seconds=utc_offset_s))).isoformat()


Visit = tuple[str, Task, TaskStop, int]
"""``(type, task, stop, start)``: ``type`` is visit, pickup or dropoff; start in epoch s."""


def build_route(
    problem: Problem, worker: Worker, visits: list[Visit], breaks: list[tuple[Break, int]]
) -> tuple[Route | None, list[Task]]:
    """Time one worker's stops, in the solver's order, by the contract's rules.

    Parameters
    ----------
    problem
        The problem solved, for its travel matrices.
    worker
        Whose route this is.
    visits
        The stops in route order, with the solver's service start (epoch s), used
        to pick each stop's window.
    breaks
        ``(break, start)`` from the solver (epoch s), used to pick the gap each
        break goes in; other gaps are tried, nearest first, if that one does not work.

    Returns
    -------
    route : Route or None
        None when no task is left. Arrival = previous departure (after any
        break) + travel; waiting = start - arrival; the departure from the origin
        is delayed so as not to wait at the first stop when no break comes first.
    dropped : list of Task
        Tasks left out because no placement of the breaks fitted, or waiting broke the
        ``max_ride`` of a parcel loaded at the start (rare: the solver's rules for
        both are looser than the contract's); lowest priority first.
    """
    dropped: list[Task] = []
    while True:
        timed = _time_route(problem, worker, visits, breaks)
        if timed is not None or not visits:
            break
        # Leave out the least valuable task that makes the route work; else the least valuable.
        tasks = sorted({id(v[1]): v[1] for v in visits}.values(), key=lambda t: t.priority)
        for task in tasks:
            rest = [v for v in visits if v[1] is not task]
            if _time_route(problem, worker, rest, breaks) is not None:
                break
        visits = [v for v in visits if v[1] is not task]
        dropped.append(task)
    if not visits:
        return None, dropped
    return _render(problem, worker, *timed), dropped


def serves_alone(problem: Problem, worker: Worker, task: Task) -> bool:
    """Can ``worker`` serve ``task`` and nothing else, breaks included, by the contract's rules?

    Parameters
    ----------
    problem
        The problem, for its travel matrices.
    worker, task
        One worker and one task of ``problem``; kind, skills, district and load are
        not looked at here, only time: the shift, windows, ``max_ride``, breaks, ``end``.

    Returns
    -------
    bool
        True when some placement of the breaks gives a schedule.
    """
    visits = [(typ, task, stop, 0) for typ, stop in task.stops]
    breaks = [(b, b.window.start) for b in worker.breaks]
    return _time_route(problem, worker, visits, breaks) is not None


@dataclass
class _Item:
    """One element of the timed chain: the start, a stop, a break, the end."""

    kind: str
    location: int | None  # None: where the worker already is (a break, an open end)
    duration: int
    windows: tuple[TimeWindow, ...]
    ref: Any = None


def _time_route(
    problem: Problem, worker: Worker, visits: list[Visit], breaks: list[tuple[Break, int]]
) -> tuple[list[_Item], list[int]] | None:
    """Earliest times for the first placement of the breaks that works, or None."""
    idx = problem.location_index
    shift = worker.shift
    start = _Item(
        "start", idx[worker.origin], 0, (TimeWindow(worker.earliest_departure, shift.end),)
    )
    stops = [
        _Item(
            typ,
            idx[stop.location],
            stop.duration_s,
            _windows_near(stop.windows, shift, hint),
            (typ, task, stop),
        )
        for typ, task, stop, hint in visits
    ]
    end = _Item("end", idx[worker.end] if worker.end else None, 0, (shift,))
    ordered = sorted(breaks, key=lambda b: (b[1], b[0].window.start))
    preferred = [sum(1 for v in visits if v[3] <= at) for _, at in ordered]
    gaps = range(len(stops) + 1)
    choices = [sorted(gaps, key=lambda g, p=p: (abs(g - p), g)) for p in preferred]
    combos = sorted(
        (c for c in itertools.product(*choices) if list(c) == sorted(c)),
        key=lambda c: sum(abs(g - p) for g, p in zip(c, preferred, strict=True)),
    )
    for combo in combos:
        items = [start]
        for g, stop in enumerate([*stops, None]):
            items += [
                _Item("break", None, b.duration_s, (b.window,), b)
                for (b, _), at in zip(ordered, combo, strict=True)
                if at == g
            ]
            if stop is not None:
                items.append(stop)
        items.append(end)
        times = _earliest(problem, worker, items)
        if times is not None:
            return items, times
    return None


def _windows_near(
    windows: tuple[TimeWindow, ...], shift: TimeWindow, hint: int
) -> tuple[TimeWindow, ...]:
    """A stop's windows (the shift when none), from the one the solver used onwards."""
    ws = windows or (shift,)
    first = next((k for k, w in enumerate(ws) if hint <= w.end), 0)
    return ws[first:]


def _earliest(problem: Problem, worker: Worker, items: list[_Item]) -> list[int] | None:
    """Least start times of ``items`` meeting travel, windows and max_ride; None if none exist.

    A fixpoint of lower bounds (Bellman-Ford on difference constraints): each item
    starts no earlier than the previous one's end plus travel; a ride limit is a
    lower bound on its pickup's (or departure's) time; a time that falls between
    windows moves to the next window. An upper bound still exceeded means no schedule.
    """
    m = problem.matrix_for(worker).durations
    gap, here = [], items[0].location
    for a, b in itertools.pairwise(items):
        step = 0 if b.location is None else int(m[here, b.location])
        gap.append(a.duration + step)
        here = here if b.location is None else b.location
    rides = []  # (earlier, later, limit): times[later] - times[earlier] <= limit
    first_of = {}
    for k, it in enumerate(items):
        if it.kind in ("pickup", "dropoff"):
            task = it.ref[1]
            if it.kind == "pickup":
                first_of[id(task)] = k
            elif task.max_ride_s is not None:
                p = first_of.get(id(task))
                rides.append(
                    (p, k, task.max_ride_s + items[p].duration)
                    if p is not None
                    else (0, k, task.max_ride_s)
                )
    windows = [list(it.windows) for it in items]
    times = [ws[0].start for ws in windows]
    stable_passes = 0
    while stable_passes <= len(items) + 1:
        changed = moved = False
        for k in range(1, len(items)):
            if times[k - 1] + gap[k - 1] > times[k]:
                times[k], changed = times[k - 1] + gap[k - 1], True
        for a, b, limit in rides:
            if times[b] - limit > times[a]:
                times[a], changed = times[b] - limit, True
        for k, ws in enumerate(windows):
            while ws and times[k] > ws[0].end:
                ws.pop(0)
                moved = True
            if not ws:
                return None
            if times[k] < ws[0].start:
                times[k], changed = ws[0].start, True
        if not changed:
            return times
        stable_passes = 0 if moved else stable_passes + 1
    return None  # still rising: a ride limit that no waiting can meet


def _render(problem: Problem, worker: Worker, items: list[_Item], times: list[int]) -> Route:
    m = problem.matrix_for(worker)
    first = next(k for k, it in enumerate(items) if it.kind not in ("start", "break"))
    departure = times[0]
    if first == 1:  # no break before the first stop: leave so as to arrive just in time
        departure = times[1] - int(m.durations[items[0].location, items[1].location])
    stops = [Stop("start", location=worker.origin, departure=departure)]
    here, t = items[0].location, departure
    travel = distance = service = waiting = 0
    for it, at in zip(items[1:], times[1:], strict=True):
        if it.kind == "break":
            stops.append(Stop("break", break_id=it.ref.id, start=at, end=at + it.duration))
            t = at + it.duration
            continue
        if it.location is None:  # an open end: the route ends at its last stop
            continue
        arrival = t + int(m.durations[here, it.location])
        travel += int(m.durations[here, it.location])
        distance += int(m.distances[here, it.location])
        here = it.location
        if it.kind == "end":
            stops.append(Stop("end", location=worker.end, arrival=arrival))
            continue
        typ, task, stop = it.ref
        waiting += at - arrival
        service += it.duration
        stops.append(
            Stop(
                typ,
                location=stop.location,
                task=task.id,
                arrival=arrival,
                start=at,
                end=at + it.duration,
            )
        )
        t = at + it.duration
    return Route(worker.id, tuple(stops), travel, distance, service, waiting, worker.utc_offset_s)
