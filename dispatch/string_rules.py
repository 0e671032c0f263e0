"""The rules of a day beyond single stops in one window, for the string search's arrays.

:mod:`dispatch.strings` prices a stop at every gap of every route in one numpy pass,
from each route's earliest and latest times. That is exact for single stops with one
window each; with breaks, several windows, pickups, loads that rise and fall along the
route, ride limits and preferred workers it is only a filter. Here a route is timed
exactly, the way :mod:`dispatch.plan` reads the contract, and the search keeps a
change only if this timing says the route still holds:

* a break is taken where the worker is, after one stop and before driving on: at the
  first gap where it costs no time (the worker would wait anyway), or at the last gap
  before its window closes;
* a stop starts in the first of its windows it can still reach;
* a parcel's ride runs from the end of its pickup, or from leaving the start, to the
  start of its drop-off; when the earliest times break a limit, the pickup (or the
  departure) waits instead of the parcel, and the route is timed again, at most
  :data:`RIDE_PASSES` times;
* loads: parcels loaded at the start ride from the start, the others from their
  pickup; no load name may exceed the worker's capacity anywhere on the route;
* a worker a task does not prefer costs :data:`dispatch.model.PREFERENCE_COST_S`.

The timing errs on the strict side (one placement of the breaks, not every one), so a
route it accepts is one OR-Tools and :func:`dispatch.plan.build_route` accept too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.model import PREFERENCE_COST_S, Model

RIDE_PASSES = 4
"""Times are raised at most this many times for ride limits (a pickup or the departure
later, then the rest again); a route still breaking one after that is refused."""


@dataclass(frozen=True)
class Rules:
    """Per node and per worker, what the exact timing needs, in model seconds."""

    windows: list[list[tuple[int, int]]]  # per node: its windows, in order (starts: departure)
    breaks: list[list[tuple[int, int, int, int]]]  # per worker: (earliest start, latest start,
    # length, index in the worker's breaks), by window
    partner: dict[int, int]  # a pickup's drop-off and a drop-off's pickup
    ride: dict[int, int]  # drop-off -> most seconds from its origin's start to its own
    delta: np.ndarray  # (nodes, load names): load added at each node
    loaded: np.ndarray  # (nodes, load names): load a drop-off puts on the van at the start
    capacity: np.ndarray  # (workers, load names)
    preference: np.ndarray | None  # (nodes, workers): soft cost of that worker at that stop

    @classmethod
    def of(cls, model: Model, horizon: int) -> Rules:
        problem, nodes, t0 = model.problem, model.nodes, model.t0
        v_count = len(problem.workers)
        windows: list[list[tuple[int, int]]] = []
        for i, node in enumerate(nodes):
            if i < v_count:
                w = problem.workers[i]
                windows.append([(w.earliest_departure - t0, w.shift.end - t0)])
            elif i < 2 * v_count:
                windows.append([(0, problem.workers[i - v_count].shift.end - t0)])
            elif node.windows:
                spans = [(max(0, w.start - t0), min(horizon, w.end - t0)) for w in node.windows]
                windows.append([(a, b) for a, b in spans if a <= b])
            else:
                windows.append([(0, horizon)])
        breaks = []
        for v, w in enumerate(problem.workers):
            if v not in model.breaks:
                breaks.append([])
                continue
            breaks.append(
                sorted(
                    (
                        max(b.window.start, w.earliest_departure) - t0,
                        min(b.window.end, w.shift.end - b.duration_s) - t0,
                        b.duration_s,
                        j,
                    )
                    for j, (b, _) in enumerate(model.breaks[v])
                )
            )
        names = sorted({k for ti in model.candidates for k in problem.tasks[ti].load})
        delta = np.zeros((len(nodes), len(names)), dtype=np.int64)
        loaded = np.zeros_like(delta)
        partner, ride = {}, {}
        for ti in model.candidates:
            task = problem.tasks[ti]
            at = [model.manager.IndexToNode(i) for i in model.task_nodes[ti]]
            load = [task.load.get(name, 0) for name in names]
            d = at[-1]
            if task.kind == "delivery":
                delta[d] = [-q for q in load]
            if len(at) == 2:
                p = at[0]
                partner[p], partner[d] = d, p
                delta[p] = load
                if task.max_ride_s is not None:
                    ride[d] = task.max_ride_s + task.pickup.duration_s
            elif task.kind == "delivery":
                loaded[d] = load
                if task.max_ride_s is not None:
                    ride[d] = task.max_ride_s
        capacity = np.array(
            [[w.capacity.get(name, 0) for name in names] for w in problem.workers], dtype=np.int64
        ).reshape(v_count, len(names))
        preference = None
        if any(problem.tasks[ti].preferred_workers for ti in model.candidates):
            preference = np.zeros((len(nodes), v_count), dtype=np.int64)
            ids = [w.id for w in problem.workers]
            for i, node in enumerate(nodes):
                task = problem.tasks[node.task] if node.task >= 0 else None
                if task and task.preferred_workers and node.type in ("visit", "dropoff"):
                    preference[i] = [
                        0 if who in task.preferred_workers else PREFERENCE_COST_S for who in ids
                    ]
        return cls(windows, breaks, partner, ride, delta, loaded, capacity, preference)

    def holds(self, vehicle: int, seq: list[int], travel: list[list[int]], service: list[int]):
        """``(times, breaks)``: the earliest start at each node of ``seq`` (the worker's start,
        stops, end) and each break's start, in the worker's order; None if none is found.

        None when no timing found here meets the windows, breaks and ride limits, or when a
        load exceeds the capacity somewhere on the route.
        """
        if self.delta.shape[1]:
            profile = self.loaded[seq].sum(axis=0) + np.cumsum(self.delta[seq], axis=0)
            if (profile > self.capacity[vehicle]).any():
                return None
        floors: dict[int, int] = {}
        for _ in range(RIDE_PASSES):
            times, placed, leave = self._earliest(vehicle, seq, travel, service, floors)
            if times is None:
                return None
            later = self._origins_too_early(seq, times, leave) if self.ride else {}
            if not later:
                return times, self._in_order(vehicle, placed)
            for k, at in later.items():
                floors[k] = max(floors.get(k, 0), at)
        return None

    def _earliest(self, vehicle, seq, travel, service, floors):
        """Earliest times, none before its floor, breaks placed on the way; and the breaks'
        starts, in window order."""
        windows, pending = self.windows, self.breaks[vehicle]
        departure = _start(windows[seq[0]], floors.get(0, 0))
        if departure is None:
            return None, [], 0
        times = [departure]
        free, taken, placed, last = departure, 0, [], len(seq) - 1
        n_breaks = len(pending)
        for k in range(1, len(seq)):
            a, b = seq[k - 1], seq[k]
            leg = travel[a][b]
            floor = floors.get(k, 0) if floors else 0
            arrival = free + leg
            if floor > arrival:
                arrival = floor
            opens, closes = windows[b][0]  # inlined _start: most stops have one window
            if arrival <= closes:
                start = opens if opens > arrival else arrival
            else:
                start = _start(windows[b], arrival)
            while taken < n_breaks:
                lo, hi, length, _ = pending[taken]
                at = free if free > lo else lo
                must = k == last or start is None or start + service[b] > hi
                if not must and at + length + leg > start:
                    break  # it would cost time here; a later gap can still take it
                if at > hi:
                    return None, placed, 0
                free = at + length
                start = _start(windows[b], max(free + leg, floor))
                placed.append(at)
                taken += 1
            if start is None:
                return None, placed, 0
            if k == 1:  # leave so as to arrive just in time, as the plan does: shorter rides
                leave = start - leg if not placed and start - leg > departure else departure
            times.append(start)
            free = start + service[b]
        return times, placed, leave

    def _origins_too_early(self, seq: list[int], times: list[int], leave: int) -> dict[int, int]:
        """Pickups (or the departure) that must start later for their parcels' rides to keep
        their limits: position -> the least start that would."""
        position = {node: k for k, node in enumerate(seq)}
        later: dict[int, int] = {}
        for k, node in enumerate(seq):
            limit = self.ride.get(node)
            if limit is not None:
                origin = position.get(self.partner.get(node, -1), 0)
                if times[k] - (times[origin] if origin else leave) > limit:
                    later[origin] = max(later.get(origin, 0), times[k] - limit)
        return later

    def _in_order(self, vehicle: int, starts: list[int]) -> tuple[int, ...]:
        """Break starts, from window order to the order of the worker's breaks."""
        out = [0] * len(starts)
        for (_, _, _, j), at in zip(self.breaks[vehicle], starts, strict=True):
            out[j] = at
        return tuple(out)


def _start(windows: list[tuple[int, int]], arrival: int) -> int | None:
    """Start of service for an arrival: in the first window not yet closed; None if all are."""
    for opens, closes in windows:
        if arrival <= closes:
            return max(arrival, opens)
    return None
