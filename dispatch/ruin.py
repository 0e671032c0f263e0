"""Ruin and recreate: the large-neighbourhood moves after guided local search.

Guided local search stalls in a basin on tightly windowed days (Solomon RC1 and
R2 stay 4-7 % above the best known after any amount of it, whichever penalty
factor). Each step here removes a handful of tasks that lie close together (the
"string removal" idea of Christiaens and Vanden Berghe, 2020, simplified: the
nearest tasks to a random one, wherever they are routed), then lets OR-Tools'
own local search put them back and tidy up, to its first local optimum. A better
plan is kept; a slightly worse one is sometimes taken as the next starting
point, so the search can walk out of a basin.

OR-Tools 9.15 has an iterated local search of its own (``use_iterated_local_search``
with a SISR ruin strategy); tried here, it stopped after one descent (0.2 s of a
10 s budget on R205) unless guided local search was also set, and then did no
better than guided local search alone. ``ReadAssignmentFromRoutes`` fails after
a timed search (the model keeps the spent time limit), hence
``RoutesToAssignment`` on an assignment of the next variables alone.

A step costs about 0.3 s on Solomon's 100 customers and 2-3 s on 200: most of it
is the descent proving its local optimum after the last improving move (seen
with ``log_search``), so on large parts guided local search takes over (see
``RUIN_MIN_STEPS`` in :mod:`dispatch.search`).

Making a step cheaper was tried and nothing of it kept (2026-12-01, R205 and
others, each variant from the same start: 2 s of guided local search, then 8 s
here). A step's anatomy, from an at-solution callback on R205 and RC105: the
descent puts the 7-15 removed tasks back after 10-26 accepted moves (25-125 ms),
wherever it first finds room, so at that point the plan is 10-20 % dearer than
before the ruin; 25-95 more moves repair it (the last at 50-320 ms), and proving
the local optimum takes another 80-200 ms, 40-60 % of the step.

- Capping the descent with ``solution_limit``: at 1.5x the removed tasks + 3,
  1x + 2 or 2x + 5 the cap comes before every task is back, so no step ever
  improved (R205 stayed at 7.84 %, with 69-84 steps instead of 27); at 4x, 6x
  or 8x + 10 there were 1.3-2.5x the steps and no better plans (R205 6.73,
  2.72, 1.07 % against 0.44 % uncapped; RC105 4.14, 5.30, 5.70 against 4.14;
  R101 0.12, 1.14, 1.14 against 0.53; RC201 0.74, 0.82, 0.00 against 0.00).
- Recreating by cheapest insertion: ``SolveFromAssignmentWithParameters``
  ignores ``first_solution_strategy`` (local, parallel or sequential cheapest,
  best insertion): from closed partial routes the removed tasks stay out, from
  open ones (or with their next variables deactivated) it finds nothing.
  ``FastSolveFromAssignmentWithParameters`` (descent without propagation) took
  3x as long and never beat the plan before the ruin. Operators chosen per solve are ignored
  (make_active alone: the same 110-320 ms a step), see :mod:`dispatch.parameters`.
- OR-Tools' iterated local search does run through ``SolveWithIteratedLocalSearch``
  (not ``use_iterated_local_search`` in the other solves), but only from its own
  first solution. The whole budget in it (parallel cheapest insertion, SISR ruin
  of 10 visits on average, recreate by local cheapest insertion, descent after
  each, simulated annealing with automatic temperatures) gave
  ``python -m bench.solomon --time-limit 10 --seed 1``: mean 1.80 %, worst
  5.15 % (RC205), no better than this search; ``python -m bench.solomon --set
  homberger200 --time-limit 30``: mean 4.96 %, worst 9.01 % (R2_2_1), worse
  than this search's 4.3 %. Without the descent after each ruin it was worse still
  (R205 8.30 %, RC105 4.61 %, R101 1.71 % at 10 s, against 6.64, 3.24, 1.43 with
  it at fixed temperatures 100 to 0.01, and 2.81, 3.61, 1.07 with automatic ones).
With steps no cheaper, other acceptance rules and ruin sizes were not tried:
over some 25 steps a run, their effect would drown in run-to-run noise.

Everything is driven by a seeded random generator and each step ends at a local
optimum, not a clock, so a run is the same for a seed unless the deadline cuts it.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.model import Model
from dispatch.parameters import search_parameters

log = logging.getLogger("dispatch.ruin")

RUIN_MAX_TASKS = 15
"""At most this many tasks removed per step (the paper's suggested average is 10)."""
RUIN_SHARE = 6
"""...and at most one task in this many of those routed, for small days."""
PACE_STEPS = 3
"""Steps taken before judging the pace: a step's time varies with what it removed, so one
step alone is a poor guide."""
ACCEPT_WORSE_PROBABILITY = 0.1
ACCEPT_WORSE_RATIO = 1.02
"""A worse plan becomes the starting point with this probability, if within 2 % and it
leaves out no more than the current one."""


def ruin_and_recreate(
    model: Model,
    solution: pywrapcp.Assignment,
    *,
    deadline: float,
    seed: int,
    max_steps: int,
    min_steps: int = 0,
    on_solution: Callable[[int], None] | None = None,
) -> tuple[pywrapcp.Assignment, bool]:
    """Improve ``solution`` until ``deadline`` (monotonic seconds) or ``max_steps``.

    Returns the best assignment found (``solution`` itself if none is better), and
    whether it stopped early because its time, at the pace of its first
    :data:`PACE_STEPS` steps, would not afford ``min_steps`` steps.
    """
    began = time.monotonic()
    routing = model.routing
    params = _descent_parameters()
    rng = random.Random(seed)
    near = _Neighbours(model)
    best = current = solution
    best_cost = current_cost = solution.ObjectiveValue()
    steps = 0
    for steps in range(1, max_steps + 1):
        left = deadline - time.monotonic()
        if left <= 0.01:
            break
        routes = _routes(routing, current, len(model.problem.workers))
        removed = near.around(rng, routes)
        if not removed:
            break
        partial = [[i for i in route if i not in removed] for route in routes]
        start = nexts_only(routing)
        if not routing.RoutesToAssignment(partial, True, True, start):
            continue
        params.time_limit.FromMilliseconds(max(10, int(left * 1000)))
        found = routing.SolveFromAssignmentWithParameters(start, params)
        if found is None:
            continue
        cost = found.ObjectiveValue()
        pace = (time.monotonic() - began) / steps
        if steps == PACE_STEPS and pace * min_steps > deadline - began:
            log.debug("ruin and recreate too slow: %.2f s a step", pace)
            return (routing.solver().Assignment(found) if cost < best_cost else best), True
        if cost < current_cost or (
            rng.random() < ACCEPT_WORSE_PROBABILITY and _near(model, found, current, current_cost)
        ):
            current, current_cost = routing.solver().Assignment(found), cost
        if cost < best_cost:
            best = current if current_cost == cost else routing.solver().Assignment(found)
            best_cost = cost
            if on_solution is not None:
                on_solution(cost)
    log.debug("ruin and recreate steps=%d nodes=%d cost=%d", steps, routing.Size(), best_cost)
    return best, False


def nexts_only(routing: pywrapcp.RoutingModel) -> pywrapcp.Assignment:
    """An assignment of the next variables alone, for ``RoutesToAssignment``.

    A copy of the current solution also carries its breaks' start times, which rarely
    fit the ruined routes: on the generated city's nurse parts (lunch breaks) every
    descent from such a copy failed at once (1,395 of 1,395 steps in 4 s, 2026-12-02),
    so ruin and recreate did nothing there; from the routes alone the descent places
    the breaks itself (25 steps in 4 s, cost 28,076 to 21,387).
    """
    start = routing.solver().Assignment()
    for i in range(routing.Size()):
        start.Add(routing.NextVar(i))
    return start


def _near(
    model: Model, found: pywrapcp.Assignment, current: pywrapcp.Assignment, current_cost: int
) -> bool:
    """Does ``found`` leave out no more than ``current``, with travel within the ratio?

    Travel is compared without the penalties of the tasks left out: they dwarf it,
    so "within 2 %" of the whole cost would let the walk drop tasks.
    """
    dropped, dropped_now = _left_out(model, found), _left_out(model, current)
    travel, travel_now = found.ObjectiveValue() - dropped, current_cost - dropped_now
    return dropped <= dropped_now and travel < travel_now * ACCEPT_WORSE_RATIO


def _left_out(model: Model, solution: pywrapcp.Assignment) -> int:
    """The part of the cost that is tasks left out."""
    routing = model.routing
    return sum(
        model.penalties[ti]
        for ti, idx in model.task_nodes.items()
        if solution.Value(routing.NextVar(idx[-1])) == idx[-1]
    )


def _descent_parameters() -> pywrapcp.DefaultRoutingSearchParameters:
    """Greedy descent: each step ends at a local optimum, not at a clock."""
    return search_parameters(routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)


def _routes(
    routing: pywrapcp.RoutingModel, solution: pywrapcp.Assignment, n: int
) -> list[list[int]]:
    out = []
    for v in range(n):
        route, i = [], solution.Value(routing.NextVar(routing.Start(v)))
        while not routing.IsEnd(i):
            route.append(i)
            i = solution.Value(routing.NextVar(i))
        out.append(route)
    return out


class _Neighbours:
    """Tasks by travel time from one another's main stop (the visit, or the drop-off)."""

    def __init__(self, model: Model):
        self.model = model
        self.tasks = sorted(model.task_nodes)
        problem, loc = model.problem, []
        for ti in self.tasks:
            task = problem.tasks[ti]
            main = task.visit if task.kind == "visit" else task.dropoff
            loc.append(problem.location_index[main.location])
        self.loc = np.array(loc, dtype=np.int64)
        # Nearness only picks which tasks to remove together: one matrix will do.
        self.matrix = problem.matrix_for(problem.workers[0]).durations

    def around(self, rng: random.Random, routes: list[list[int]]) -> set[int]:
        """Routing indices of up to :data:`RUIN_MAX_TASKS` routed tasks near a random one."""
        routed = {i for route in routes for i in route}
        positions = [
            p for p, ti in enumerate(self.tasks) if self.model.task_nodes[ti][-1] in routed
        ]
        if not positions:
            return set()
        size = max(1, min(RUIN_MAX_TASKS, len(positions) // RUIN_SHARE))
        size = rng.randint(max(1, size // 2), size)
        seed = positions[rng.randrange(len(positions))]
        candidates = np.array(positions)
        order = np.argsort(self.matrix[self.loc[seed], self.loc[candidates]], kind="stable")
        removed: set[int] = set()
        for p in candidates[order[:size]]:
            removed.update(self.model.task_nodes[self.tasks[p]])
        return removed
