"""Slack induction by string removals (SISR), for days whose tasks are single stops.

Christiaens and Vanden Berghe (2020): remove a few strings of neighbouring
stops from a few routes, put every stop back at its cheapest place, skipping
each place with a small probability ("blinks"), and accept the result under
simulated annealing. Each step costs about a millisecond here, against 0.3 s for
a ruin-and-recreate step through OR-Tools' own descent (see
:mod:`dispatch.ruin`), so the search takes thousands of steps in the time
OR-Tools takes tens; that is what closes the last per cent on tightly
windowed days.

The steps work on plain arrays built from the OR-Tools model (same nodes, the
same travel tables, shifts, windows, capacities, allowed workers and drop
penalties), so the plan they reach is handed back to OR-Tools
(``RoutesToAssignment``), which polishes it with one descent. On days of single
stops, each in one window, the arrays' arithmetic is exact: one numpy pass prices
a stop at every gap. Days with breaks, pickups, ride limits, preferred workers or
second windows (:func:`ruled`) are searched under :mod:`dispatch.string_rules`:
the same pass filters places, the cheapest are timed exactly until one holds, and
a task with a pickup goes in and out whole. Only days too large for the arrays
(:data:`MAX_NODES`) keep OR-Tools' search alone.

On the generated 650-task city at 30 s (``bench.compare city:medium:1``, seeds 1
and 2, 2026-12-02) this took travel from 280,205-283,617 s (644 tasks served at
most) to 260,974-260,992 s (644 served), below VROOM's 265,832 s for 622.

Routes lost and found (2026-12-01): on Solomon's R2 and RC2 days (long routes,
wide windows) SISR alone sheds routes and never opens them again. From a 9-route start
on R201 (savings) it ends on 5 routes, 11,928 tenths, like the 5-route start of
cheapest insertion, where the best known uses 8 (11,432). Forcing the first stop
put back into an idle worker's route on a tenth of the steps changed nothing
(an experiment since removed); nor did a savings start in the whole search. Cutting
a route in two on one step in twenty (:func:`_cut`) did: from the same starts,
R201 11,784-11,906 (5-6 routes) against 11,853-11,944 (5), RC201 12,883-12,965
(6-8) against 13,092-13,672 (5-6), R205 9,620 against 9,870; on the 12 at 10 s,
seed 1 mean gap 1.13 % (worst 3.12) against 1.33 (2.98), seed 2 0.86 % (worst
1.97) against 1.30 (4.40, R201).

Everything is drawn from a generator seeded with the solve's seed, and the
cooling follows the step count, so a search that ends on its step budget gives
the same plan for a seed on any machine.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import time
from dataclasses import dataclass

import numpy as np
from ortools.constraint_solver import pywrapcp

from dispatch.model import Model
from dispatch.string_rules import Rules

log = logging.getLogger("dispatch.strings")

AVERAGE_REMOVED = 10
"""The paper's c-bar: stops removed per step on average."""
MAX_STRING = 10
"""The paper's L-max: the longest string taken from one route."""
SPLIT_RATE = 0.5
"""Share of removals that keep a piece of the string in place (a "split string")."""
BLINK_RATE = 0.01
"""Each place is skipped with this probability when putting a stop back."""
HOT, COLD = 3.0, 0.01
"""Annealing temperatures at the first and last step, in mean arcs of the starting plan. On
Solomon's 12 at 10 s (seeds 1 and 2) a hot start of 3 gave mean gaps of 1.33 and 1.30 %, one of
1 gave 1.41 and 1.55 %, one of 0.3 gave 1.01 and 1.78 % (worst 3.91 and 5.92 %, R205); from a
fixed start 30 found nothing better and 0.03 less than 0.3-1. Colder keeps more routes on R2
days (see above) but leaves R205 and RC105 worse: within this noise, no setting wins."""
CUT_RATE = 0.05
"""Share of steps that cut a route in two instead of removing strings (see :func:`_cut`)."""
STEPS_PER_TASK = 400
RULED_STEPS_PER_TASK = 50
"""The step budget: small days end on it, large ones on the time. Days with rules (see
:mod:`dispatch.string_rules`) time each place tried exactly, a few times dearer a step."""
PACE_STEPS = 50
"""Every this many steps, the steps the time affords are estimated again and the cooling spread
over them; once the budget is seen to fit with room to spare, it is kept, for determinism."""
MAX_NODES = 1500
"""Larger days keep OR-Tools' search alone: the travel tables as Python lists (for the
route arithmetic, far quicker than numpy scalars) would cost some 30 bytes a pair."""
INFEASIBLE = np.iinfo(np.int64).max // 4


def fits(model: Model) -> bool:
    """Do the arrays here describe every rule of the model's day?

    All of the contract's rules are held (see :mod:`dispatch.string_rules` for breaks,
    several windows, pickups, loads along the route, ride limits and preferences); only
    days too large for the arrays are left to OR-Tools.
    """
    return bool(model.candidates) and len(model.nodes) <= MAX_NODES


def ruled(model: Model) -> bool:
    """Does the day need :class:`dispatch.string_rules.Rules` (more than single stops, each
    in one window, without breaks, ride limits or preferences)?"""
    problem = model.problem
    if model.breaks or model.driven is not None:
        return True
    for ti in model.candidates:
        task = problem.tasks[ti]
        if len(model.task_nodes[ti]) != 1 or task.max_ride_s is not None or task.preferred_workers:
            return True
    return any(len(node.windows) > 1 for node in model.nodes)


TRIES = 12
"""On days with rules, the cheapest places the filter lets through are timed exactly, cheapest
first, until one holds; at most this many."""


@dataclass(frozen=True)
class _Route:
    """One worker's stops, with the times that say where another stop still fits."""

    vehicle: int
    seq: list[int]  # model node numbers: the worker's start, the stops, its end
    early: list[int]  # per node: the earliest start of service
    late: list[int]  # ...the latest start that keeps every later stop in its window
    cost: int
    load: np.ndarray  # per load name (days of single stops; see _Day.rules otherwise)
    tasks: int  # stops that are a task's visit or drop-off
    breaks: tuple[int, ...] = ()  # each break's start, in the worker's order

    @property
    def stops(self) -> list[int]:
        return self.seq[1:-1]


class _Day:
    """The model's day as arrays: the nodes, workers and their rules."""

    def __init__(self, model: Model):
        problem, nodes = model.problem, model.nodes
        self.model = model
        self.n_workers = v_count = len(problem.workers)
        t0 = model.t0
        horizon = max(w.shift.end for w in problem.workers) - t0
        kinds = sorted(model.travel)
        self.kind_of = np.array([kinds.index(w.kind) for w in problem.workers])
        self.travel = np.stack([model.travel[k] for k in kinds]).astype(np.int64)
        self.travel_rows = [t.tolist() for t in self.travel]
        n = len(nodes)
        self.service = [int(node.duration_s) for node in nodes]
        opens = [0] * n
        closes = [horizon] * n
        for i, node in enumerate(nodes):
            if node.windows:  # several windows: their hull, a filter that the rules refine
                first, last = node.windows[0], node.windows[-1]
                opens[i], closes[i] = max(0, first.start - t0), min(horizon, last.end - t0)
        for v, w in enumerate(problem.workers):
            opens[v] = w.earliest_departure - t0
            closes[v] = closes[v_count + v] = w.shift.end - t0
        self.opens, self.closes = opens, closes
        self.customers = [i for i, node in enumerate(nodes) if node.type in ("visit", "dropoff")]
        self.is_task = [node.type in ("visit", "dropoff") for node in nodes]
        self.rules = Rules.of(model, horizon) if ruled(model) else None
        names = sorted({k for ti in model.candidates for k in problem.tasks[ti].load})
        if self.rules is not None:
            names = []  # loads are the rules' (they rise at pickups)
        self.pickup_of = {d: p for d, p in (self.rules.partner.items() if self.rules else ()) if d > p}
        self.preference = self.rules.preference if self.rules else None
        self.preference_rows = None  # per worker, per node: as Python ints, for route costs
        if self.preference is not None:
            self.preference_rows = self.preference.T.tolist()
        self.is_pickup = [node.type == "pickup" for node in nodes]
        self.demand = np.zeros((n, len(names)), dtype=np.int64)
        self.no_load = np.zeros(len(names), dtype=np.int64)
        for i, node in enumerate(nodes):
            if node.type == "dropoff":
                load = problem.tasks[node.task].load
                self.demand[i] = [load.get(name, 0) for name in names]
        self.capacity = np.array(
            [[w.capacity.get(name, 0) for name in names] for w in problem.workers], dtype=np.int64
        ).reshape(v_count, len(names))
        self.max_stops = np.array(
            [n if w.max_tasks is None else w.max_tasks for w in problem.workers]
        )
        self.allowed = np.zeros((n, v_count), dtype=bool)
        self.penalty = [0] * n
        for ti, workers in model.candidates.items():
            at = [model.manager.IndexToNode(i) for i in model.task_nodes[ti]]
            for node in at:
                self.allowed[node, workers] = True
            self.penalty[at[-1]] = model.penalties[ti]
        depot = nodes[0].location
        home = self.travel[0][0]  # distance from the first worker's start, for "far" and "close"
        self.far = np.array([home[i] if depot >= 0 else 0 for i in range(n)])
        near = self.travel[0][np.ix_(self.customers, self.customers)]
        width = min(len(self.customers), 4 * MAX_STRING * 4)
        order = np.argsort(near, axis=1, kind="stable")[:, :width]
        ids = np.array(self.customers)
        self.neighbours = {c: ids[order[k]].tolist() for k, c in enumerate(self.customers)}
        self.one_kind = len(kinds) == 1
        self.travel_into = np.ascontiguousarray(self.travel[0].T)  # row c: travel into c
        self._blink_pool = np.random.default_rng(0).random(1 << 16) >= BLINK_RATE
        self.classes = self.vehicle_classes()

    def route(self, vehicle: int, stops: list[int]) -> _Route | None:
        """The route's times, or None if a stop misses its window (or, on days with
        :attr:`rules`, breaks any of them)."""
        if self.rules is not None:
            return self._ruled_route(vehicle, stops)
        seq = [vehicle, *stops, self.n_workers + vehicle]
        t = self.travel_rows[self.kind_of[vehicle]]
        opens, closes, service = self.opens, self.closes, self.service
        early = [opens[vehicle]]
        cost = 0
        for a, b in itertools.pairwise(seq):
            leg = t[a][b]
            cost += leg
            arrive = early[-1] + service[a] + leg
            if arrive > closes[b]:
                return None
            early.append(max(arrive, opens[b]))
        late = [closes[seq[-1]]] * len(seq)
        for k in range(len(seq) - 2, -1, -1):
            a = seq[k]
            late[k] = min(closes[a], late[k + 1] - service[a] - t[a][seq[k + 1]])
        return _Route(
            vehicle, seq, early, late, cost, self.demand[stops].sum(axis=0), len(stops)
        )

    def _ruled_route(self, vehicle: int, stops: list[int]) -> _Route | None:
        """A route timed by the rules; its latest times (breaks and rides aside) only filter."""
        tasks = len(stops) - sum(map(self.is_pickup.__getitem__, stops))
        if tasks > self.max_stops[vehicle]:
            return None
        seq = [vehicle, *stops, self.n_workers + vehicle]
        t = self.travel_rows[self.kind_of[vehicle]]
        timed = self.rules.holds(vehicle, seq, t, self.service)
        if timed is None:
            return None
        early, breaks = timed
        closes, service = self.closes, self.service
        late = [closes[seq[-1]]] * len(seq)
        cost = 0
        for k in range(len(seq) - 2, -1, -1):
            a = seq[k]
            leg = t[a][seq[k + 1]]
            cost += leg
            latest = late[k + 1] - service[a] - leg
            late[k] = min(latest, closes[a])
        if self.preference_rows is not None:
            cost += sum(map(self.preference_rows[vehicle].__getitem__, stops))
        return _Route(vehicle, seq, early, late, cost, self.no_load, tasks, breaks)

    def insert(self, route: _Route, at: int, c: int) -> _Route | None:
        """``route`` with ``c`` in gap ``at``: times recomputed only as far as they change."""
        if self.rules is not None:
            return self.route(route.vehicle, route.stops[:at] + [c] + route.stops[at:])
        old, seq = route.seq, route.seq[: at + 1] + [c] + route.seq[at + 1 :]
        t = self.travel_rows[self.kind_of[route.vehicle]]
        opens, closes, service = self.opens, self.closes, self.service
        early = route.early[: at + 1]
        e = early[-1]
        for k in range(at + 1, len(seq)):
            a, b = seq[k - 1], seq[k]
            arrive = e + service[a] + t[a][b]
            if arrive > closes[b]:
                return None
            e = max(arrive, opens[b])
            if k > at + 1 and e == route.early[k - 1]:  # from here on, as before
                early += route.early[k - 1 :]
                break
            early.append(e)
        late = route.late[: at + 1] + [0] + route.late[at + 1 :]
        for k in range(at + 1, -1, -1):
            a = seq[k]
            l_ = min(closes[a], late[k + 1] - service[a] - t[a][seq[k + 1]])
            if k <= at and l_ == late[k]:  # from here back, as before
                break
            late[k] = l_
        p, q = old[at], old[at + 1]
        cost = route.cost + t[p][c] + t[c][q] - t[p][q]
        return _Route(
            route.vehicle, seq, early, late, cost, route.load + self.demand[c], route.tasks + 1
        )

    def gaps(self, route: _Route) -> tuple[list[int], ...]:
        """Per gap: the node before, the node after, the earliest departure from the one
        before, the latest start at the one after, and the travel between them."""
        seq, service = route.seq, self.service
        t = self.travel_rows[self.kind_of[route.vehicle]]
        before, after = seq[:-1], seq[1:]
        return (
            before,
            after,
            [e + service[a] for e, a in zip(route.early, before)],
            route.late[1:],
            [t[a][b] for a, b in zip(before, after)],
        )

    def blinks(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Which of ``n`` places are looked at: a random window of a fixed random pool, one
        draw instead of ``n``."""
        pool = self._blink_pool
        if n >= len(pool):
            return rng.random(n) >= BLINK_RATE
        at = int(rng.integers(len(pool) - n))
        return pool[at : at + n]

    def vehicle_classes(self) -> np.ndarray:
        """Workers no task can tell apart (same kind, places, shift, capacity, permissions)."""
        v_count = self.n_workers
        keys = {}
        out = np.zeros(v_count, dtype=np.int64)
        for v in range(v_count):
            key = (
                int(self.kind_of[v]),
                self.model.nodes[v].location,
                self.model.nodes[v_count + v].location,
                self.opens[v],
                self.closes[v],
                self.capacity[v].tobytes(),
                int(self.max_stops[v]),
                self.allowed[:, v].tobytes(),
                tuple(self.rules.breaks[v]) if self.rules else (),
                self.rules.capacity[v].tobytes() if self.rules else b"",
                self.preference[:, v].tobytes() if self.preference is not None else b"",
            )
            out[v] = keys.setdefault(key, len(keys))
        return out


class _Plan:
    """Routes (one per worker, shared between plans until changed), the stops left out, and
    every route's gaps side by side, padded to one width, so one stop is priced everywhere at
    once and a changed route rewrites only its own row."""

    def __init__(self, day: _Day, routes: list[_Route], left_out: list[int]):
        self.day, self.routes, self.left_out = day, list(routes), list(left_out)
        self.loads = np.zeros((len(routes), day.demand.shape[1]), dtype=np.int64)
        self.counts = np.zeros(len(routes), dtype=np.int64)
        self._layout(max(len(r.seq) for r in routes))
        for k, r in enumerate(routes):
            self._write(k, r)

    @property
    def cost(self) -> int:
        return sum(r.cost for r in self.routes) + sum(self.day.penalty[c] for c in self.left_out)

    def copy(self) -> _Plan:
        twin = object.__new__(_Plan)
        twin.day, twin.routes, twin.left_out = self.day, list(self.routes), list(self.left_out)
        twin.loads, twin.counts = self.loads.copy(), self.counts.copy()
        twin.gaps = self.gaps.copy()
        twin.width = self.width
        return twin

    def replace(self, k: int, route: _Route) -> None:
        self.routes[k] = route
        if len(route.seq) - 1 > self.width:
            self._layout(2 * len(route.seq))
            for j, r in enumerate(self.routes):
                self._write(j, r)
        else:
            self._write(k, route)

    def _layout(self, width: int) -> None:
        self.width = width
        self.gaps = np.zeros((5, len(self.routes), width), dtype=np.int64)

    def _write(self, k: int, route: _Route) -> None:
        m = len(route.seq) - 1
        row = self.gaps[:, k]
        row[:, :m] = self.day.gaps(route)
        row[:, m:] = 0
        row[3, m:] = -1  # no arrival is this early: the padding is never a place
        self.loads[k] = route.load
        self.counts[k] = route.tasks

    def cheapest(self, c: int, fit: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
        """(route, position) of the cheapest feasible place for ``c``; (-1, -1) if none.

        Only the rows of workers that may take ``c`` are priced: on a day of a few long
        routes most workers are idle, and most of the array would be padding.
        """
        rows = np.flatnonzero(fit)
        if not len(rows):
            return -1, -1
        into, out, arc, ok = self._price(c, rows)
        ok &= self.day.blinks(rng, len(ok))
        delta = np.where(ok, into + out - arc, INFEASIBLE)
        g = int(np.argmin(delta))
        if delta[g] == INFEASIBLE:
            return -1, -1
        row, at = divmod(g, self.width)
        return int(rows[row]), at

    def _price(self, c: int, rows: np.ndarray, width: int | None = None) -> tuple[np.ndarray, ...]:
        """Travel into and out of ``c`` at each gap of ``rows`` (the first ``width`` gaps), the
        gap's own travel, and whether ``c`` fits there by the earliest and latest times (flat,
        row after row)."""
        day, width = self.day, width or self.width
        before, after, leave, latest, arc = self.gaps[:, rows, :width].reshape(5, -1)
        if day.one_kind:
            into, out = day.travel_into[c][before], day.travel[0, c][after]
        else:
            kinds = np.repeat(day.kind_of[rows], width)
            into, out = day.travel[kinds, before, c], day.travel[kinds, c, after]
        arrive = leave + into
        ok = arrive <= day.closes[c]
        ok &= np.maximum(arrive, day.opens[c]) + (day.service[c] + out) <= latest
        return into, out, arc, ok

    def places(self, c: int, fit: np.ndarray, rng: np.random.Generator) -> list[tuple[int, list]]:
        """On days with rules: the cheapest places for a single stop the filter lets through,
        as (route, its stops with ``c``), cheapest first."""
        rows = np.flatnonzero(fit)
        if not len(rows):
            return []
        w = max(len(self.routes[k].seq) for k in rows.tolist()) - 1  # gaps of the longest
        into, out, arc, ok = self._price(c, rows, w)
        ok &= self.day.blinks(rng, len(ok))
        delta = into + out - arc
        if self.day.preference is not None:
            delta += np.repeat(self.day.preference[c, rows], w)
        out_ = []
        for g in _cheapest_first(np.where(ok, delta, INFEASIBLE)):
            row, at = divmod(g, w)
            k = int(rows[row])
            stops = self.routes[k].stops
            out_.append((k, stops[:at] + [c] + stops[at:]))
        return out_

    def pair_places(
        self, p: int, d: int, fit: np.ndarray, rng: np.random.Generator
    ) -> list[tuple[int, list]]:
        """The cheapest places for a pickup ``p`` and its drop-off ``d`` on one route, ``p``
        first, that the filter lets through: as (route, its stops with both), cheapest first."""
        rows = np.flatnonzero(fit)
        if not len(rows):
            return []
        day = self.day
        w = max(len(self.routes[k].seq) for k in rows.tolist()) - 1  # gaps of the longest
        into_p, out_p, arc, ok_p = (a.reshape(-1, w) for a in self._price(p, rows, w))
        into_d, out_d, _, ok_d = (a.reshape(-1, w) for a in self._price(d, rows, w))
        cost = (into_p + out_p - arc)[:, :, None] + (into_d + out_d - arc)[:, None, :]
        ok = ok_p[:, :, None] & ok_d[:, None, :] & _after(w)
        # Both in one gap: before -> p -> d -> after.
        _, _, leave, latest, _ = self.gaps[:, rows, :w]
        p_to_d = day.travel[day.kind_of[rows], p, d][:, None]
        start_p = np.maximum(leave + into_p, day.opens[p])
        start_d = np.maximum(start_p + day.service[p] + p_to_d, day.opens[d])
        same_ok = (leave + into_p <= day.closes[p]) & (start_d <= day.closes[d])
        same_ok &= start_d + day.service[d] + out_d <= latest
        diagonal = np.arange(w)
        cost[:, diagonal, diagonal] = into_p + p_to_d + out_d - arc
        ok[:, diagonal, diagonal] = same_ok
        if day.preference is not None:
            cost += day.preference[d, rows][:, None, None]
        ok &= day.blinks(rng, ok.size).reshape(ok.shape)
        out_ = []
        for g in _cheapest_first(np.where(ok, cost, INFEASIBLE).ravel()):
            row, rest = divmod(g, w * w)
            i, j = divmod(rest, w)
            k = int(rows[row])
            stops = self.routes[k].stops
            out_.append((k, stops[:i] + [p] + stops[i:j] + [d] + stops[j:]))
        return out_


@functools.cache
def _after(width: int) -> np.ndarray:
    """``[i, j]``: is gap ``j`` after gap ``i``?"""
    return np.triu(np.ones((width, width), dtype=bool), 1)


def _cheapest_first(delta: np.ndarray) -> list[int]:
    """Indices of the :data:`TRIES` smallest feasible entries, smallest first."""
    feasible = np.flatnonzero(delta < INFEASIBLE)
    if len(feasible) > TRIES:
        feasible = feasible[np.argpartition(delta[feasible], TRIES)[:TRIES]]
    return feasible[np.argsort(delta[feasible], kind="stable")].tolist()


@dataclass(frozen=True)
class Found:
    """The string search's best plan, as OR-Tools takes it back."""

    timed: list[list[tuple[int, int]]]  # per worker: (model node, start of service) per stop
    breaks: dict[int, tuple[int, ...]]  # per worker with breaks: their starts (model seconds)
    cost: int  # in the units of OR-Tools' objective

    @classmethod
    def of(cls, routes: list[_Route], cost: int) -> Found:
        return cls(
            [list(zip(r.stops, r.early[1:-1], strict=True)) for r in routes],
            {r.vehicle: r.breaks for r in routes if r.breaks},
            cost,
        )


def improve(
    model: Model,
    solution: pywrapcp.Assignment | Found,
    *,
    deadline: float,
    seed: int,
    budget_share: float = 1.0,
) -> Found | None:
    """Search from ``solution`` (OR-Tools' or an earlier search's) until ``deadline`` or
    ``budget_share`` of the step budget.

    Returns the best routes found, with where their breaks fall (OR-Tools, given the
    routes alone, sometimes finds no place for a break that fits); None if
    ``solution`` could not be read into the arrays (then OR-Tools' plan stands).
    """
    day = _Day(model)
    start = _read(day, solution)
    if start is None:
        log.warning("a plan the arrays call infeasible; kept OR-Tools' search alone")
        return None
    best = _anneal(day, start, deadline, np.random.default_rng(seed), budget_share)
    return Found.of(best.routes, best.cost)


def _read(day: _Day, solution: pywrapcp.Assignment | Found) -> _Plan | None:
    routing, manager = day.model.routing, day.model.manager
    routes, served = [], set()
    for v in range(day.n_workers):
        if isinstance(solution, Found):
            stops = [n for n, _ in solution.timed[v]]
        else:
            stops, i = [], solution.Value(routing.NextVar(routing.Start(v)))
            while not routing.IsEnd(i):
                stops.append(manager.IndexToNode(i))
                i = solution.Value(routing.NextVar(i))
        route = day.route(v, stops)
        if route is None and day.rules is not None:
            route = _without_some(day, v, stops)
        if route is None:
            return None
        routes.append(route)
        served.update(route.stops)
    return _Plan(day, routes, [c for c in day.customers if c not in served])


def _without_some(day: _Day, vehicle: int, stops: list[int]) -> _Route | None:
    """A route OR-Tools found that the rules refuse (their timing is stricter: one placement
    of the breaks): without its tasks, last first, until the rest holds. The search may put
    them back; if it ends dearer than OR-Tools' plan, that plan stands."""
    log.debug("the rules refuse a route of OR-Tools' plan worker=%d stops=%d", vehicle, len(stops))
    partner = day.rules.partner
    for c in reversed([c for c in stops if day.is_task[c]]):
        gone = {c, partner.get(c, -1)}
        stops = [s for s in stops if s not in gone]
        route = day.route(vehicle, stops)
        if route is not None:
            return route
    return day.route(vehicle, [])


def _anneal(
    day: _Day, plan: _Plan, deadline: float, rng: np.random.Generator, budget_share: float = 1.0
) -> _Plan:
    """Simulated annealing over ruin-and-recreate steps; returns the best plan."""
    began = time.monotonic()
    arcs = sum(len(r.stops) + 1 for r in plan.routes if r.stops) or 1
    mean_arc = max(1.0, sum(r.cost for r in plan.routes) / arcs)
    hot, cold = HOT * mean_arc, COLD * mean_arc
    per_task = STEPS_PER_TASK if day.rules is None else RULED_STEPS_PER_TASK
    budget = planned = max(1, int(per_task * len(day.customers) * budget_share))
    current, best = plan, plan
    current_cost = best_cost = plan.cost
    step = 0
    while step < planned:
        if time.monotonic() >= deadline:
            break
        step += 1
        if step % PACE_STEPS == 0 and (step == PACE_STEPS or planned < budget):
            pace = (time.monotonic() - began) / step
            affordable = step + int((deadline - time.monotonic()) / max(pace, 1e-6))
            planned = budget if affordable >= budget * 3 // 2 else min(budget, affordable)
        temperature = hot * (cold / hot) ** (step / planned)
        if rng.random() < CUT_RATE:
            candidate = _cut(day, current, rng)
            if candidate is None:
                continue
        else:
            candidate = _recreate(day, _ruin(day, current, rng), rng)
        cost = candidate.cost
        if cost < current_cost - temperature * math.log(rng.random()):
            current, current_cost = candidate, cost
            if cost < best_cost:
                best, best_cost = candidate, cost
    log.debug("strings steps=%d planned=%d cost=%d", step, planned, best_cost)
    return best


def _cut(day: _Day, plan: _Plan, rng: np.random.Generator) -> _Plan | None:
    """Cut a random route in two, its second part to an idle worker of the same class.

    Removals shed routes and insertions never open one (an idle worker's first stop always
    costs more than a detour), so without this a search that lost a route on a day of long
    routes kept the loss. Each part keeps its order, so both stay on time; the cut costs two
    trips to the depot, which the annealing accepts now and then, and later steps put to use.
    """
    busy = [k for k, r in enumerate(plan.routes) if len(r.seq) > 3]
    if not busy:
        return None
    k = busy[int(rng.integers(len(busy)))]
    route = plan.routes[k]
    idle = [
        v
        for v in range(day.n_workers)
        if plan.counts[v] == 0 and day.classes[v] == day.classes[route.vehicle]
    ]
    if not idle:
        return None
    cut = int(rng.integers(1, len(route.stops)))
    if day.rules is not None:
        first = set(route.stops[:cut])
        if any(day.rules.partner.get(s, s) not in first for s in first):
            return None  # a parcel would be picked up on one route and dropped on another
    head = day.route(route.vehicle, route.stops[:cut])
    tail = day.route(idle[0], route.stops[cut:])
    if head is None or tail is None:
        return None
    plan = plan.copy()
    plan.replace(k, head)
    plan.replace(idle[0], tail)
    return plan


def _ruin(day: _Day, plan: _Plan, rng: np.random.Generator) -> _Plan:
    """Remove strings of stops near a random one from a few routes (SISR's ruin)."""
    plan = plan.copy()
    is_task = day.is_task
    where = {c: k for k, r in enumerate(plan.routes) for c in r.stops if is_task[c]}
    if not where:
        return plan
    lengths = [len(r.stops) for r in plan.routes if r.stops]
    longest = min(MAX_STRING, sum(lengths) / len(lengths))
    strings = int(rng.uniform(1, 4 * AVERAGE_REMOVED / (1 + longest)))
    served = list(where)
    ruined: set[int] = set()
    for c in day.neighbours[served[int(rng.integers(len(served)))]]:
        if len(ruined) >= strings:
            break
        k = where.get(c)
        if k is None or k in ruined:
            continue
        ruined.add(k)
        route = plan.routes[k]
        size = int(rng.uniform(1, min(len(route.stops), longest) + 1))
        kept = _string(route.stops, route.stops.index(c), size, rng)
        if day.rules is not None:  # a task goes whole: its pickup with its drop-off
            partner = day.rules.partner
            gone = set(route.stops).difference(kept)
            kept = [s for s in kept if partner.get(s, -1) not in gone]
        shorter = day.route(route.vehicle, kept)
        if shorter is None:  # a later stop reached later: travel that breaks the triangle rule
            continue
        plan.left_out.extend(s for s in route.stops if s not in kept and is_task[s])
        plan.replace(k, shorter)
    return plan


def _string(stops: list[int], at: int, size: int, rng: np.random.Generator) -> list[int]:
    """The stops kept when a string of ``size`` through position ``at`` is removed."""
    extra = 0
    if size < len(stops) and rng.random() < SPLIT_RATE:
        extra = 1
        while size + extra < len(stops) and rng.random() < 0.5:
            extra += 1
    span = size + extra
    first = int(rng.integers(max(0, at - span + 1), min(at, len(stops) - span) + 1))
    if not extra:
        return stops[:first] + stops[first + span :]
    keep_at = int(rng.integers(0, size + 1))
    return stops[:first] + stops[first + keep_at : first + keep_at + extra] + stops[first + span :]


def _recreate(day: _Day, plan: _Plan, rng: np.random.Generator) -> _Plan:
    """Put each stop left out back at its cheapest place, skipping places by blinks."""
    pending = _insertion_order(day, plan.left_out, rng)
    plan.left_out = []
    usable = _usable(day, plan.counts)
    for c in pending:
        fit = (
            usable
            & day.allowed[c]
            & np.all(plan.loads + day.demand[c] <= day.capacity, axis=1)
            & (plan.counts < day.max_stops)
        )
        if day.rules is not None:
            k, new = _ruled_place(day, plan, c, fit, rng)
        else:
            k, at = plan.cheapest(c, fit, rng)
            new = day.insert(plan.routes[k], at, c) if k >= 0 else None
        if new is None:  # nowhere (on days of single stops, a checked place cannot fail)
            plan.left_out.append(c)
            continue
        route = plan.routes[k]
        if len(route.seq) == 2:
            usable = _usable(day, plan.counts + (np.arange(len(plan.counts)) == k))
        plan.replace(k, new)
    return plan


def _ruled_place(
    day: _Day, plan: _Plan, c: int, fit: np.ndarray, rng: np.random.Generator
) -> tuple[int, _Route | None]:
    """The cheapest place for task ``c`` (with its pickup, if any) that the rules accept."""
    pickup = day.pickup_of.get(c)
    if pickup is None:
        places = plan.places(c, fit, rng)
    else:
        places = plan.pair_places(pickup, c, fit, rng)
    for k, stops in places:
        route = day.route(plan.routes[k].vehicle, stops)
        if route is not None:
            return k, route
    return -1, None


def _usable(day: _Day, counts: np.ndarray) -> np.ndarray:
    """Workers worth trying: all with stops, and one idle worker of each class."""
    usable = counts > 0
    seen = set(day.classes[usable].tolist())
    for v in np.flatnonzero(~usable):
        if day.classes[v] not in seen:
            seen.add(day.classes[v])
            usable[v] = True
    return usable


def _insertion_order(day: _Day, stops: list[int], rng: np.random.Generator) -> list[int]:
    """SISR's orders, by weight: random 4, largest demand 4, farthest 2, closest 1."""
    stops = list(stops)
    rng.shuffle(stops)
    pick = rng.random() * 11
    if pick < 4:
        return stops
    if pick < 8:
        return sorted(stops, key=lambda c: -int(day.demand[c].sum()))
    if pick < 10:
        return sorted(stops, key=lambda c: -int(day.far[c]))
    return sorted(stops, key=lambda c: int(day.far[c]))
