"""Solve a Problem with OR-Tools: a first plan, guided local search, ruin and recreate.

Cheapest insertion, guided local search, then ruin and recreate (see
:mod:`dispatch.ruin`); on days of single stops, the string search (see
:mod:`dispatch.strings`) takes the second half of the time. The search stops at the time limit (small problems get
less: see :data:`CAP_PER_TASK_S`), or earlier once its step budgets are spent.
The budgets are counted in solutions and steps, not seconds, so a search that
ends that way gives the same plan for a seed on any machine; only a search cut
short by the time limit depends on the machine's speed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch import strings
from dispatch.diagnose import diagnose
from dispatch.model import Model, build_model
from dispatch.parameters import search_parameters
from dispatch.plan import NOT_WORTH_SERVING, Plan, Route, Unassigned, build_route
from dispatch.problem import InvalidProblem, Problem, parse_problem
from dispatch.ruin import nexts_only, ruin_and_recreate

log = logging.getLogger("dispatch.search")

DEFAULT_TIME_LIMIT_S = 5.0
CAP_BASE_S, CAP_PER_TASK_S = 0.5, 0.2
"""Small problems get at most ``CAP_BASE_S + CAP_PER_TASK_S * tasks`` seconds of the limit."""
GLS_LAMBDA = 1.0
"""Guided local search's penalty factor. OR-Tools' default, 0.1, was measured on the
Solomon set at 10 s: 5.9 % mean gap on the six hardest, against 2.6 % at 1.0."""
FIRST_SOLUTION_SHARE = 0.6
"""The first plan may take this share of the time (it takes far less but for huge parts)."""
PARALLEL_INSERTION_MAX_NODES = 400
GLS_SHARE = 0.2
GLS_SOLUTIONS_PER_TASK = 100
"""Guided local search runs until this share of the time (or of what the first plan left),
and for at most this many solutions."""
RUIN_STEPS_PER_TASK = 30
RUIN_MIN_STEPS = 10
"""Ruin and recreate pays only over many steps: where the time left affords fewer than this
many (a step is a local search to a local optimum: 0.3 s on Solomon's 100 customers, 0.8 s
on a 140-stop part of the generated city with breaks and pickups), guided local search,
which improves steadily per second, takes the rest of the time instead."""
RUIN_SHARE_WITH_STRINGS = 0.5
RUIN_SHARE_WITH_RULES = 0.2
STRINGS_POLISH_SHARE = 0.05
"""Where the string search fits (see :mod:`dispatch.strings`), ruin and recreate stops at this
share of the time guided local search left, and the string search takes the rest from its best
plan, but for the last share, which is for OR-Tools' final descent over the string search's plan.
The two searches are good at different days: on Solomon's 12 at 10 s, seed 1, the string search
alone (after 1 s of guided local search) reached R205 0.7-2.2 % and RC105 0.4-1.5 % (OR-Tools
alone: 5.2-5.7 and 3.2-4.1 %), but RC201 2.6-12 % and R201 2.5-4.3 % (OR-Tools alone: 0.0 and
2.7 %); half each gave R201 1.4-4.3 % over four seeds, against 2.7-4.9 % with a fifth for ruin
and recreate and 3.2-5.6 % with none.

On days with rules (see :mod:`dispatch.string_rules`) ruin and recreate stops at a fifth: its
steps cost 3-4 s on a part of the generated city with pickups (it soon hands over to guided
local search), the string search's 3-5 ms. ``bench.compare city:medium:1`` (30 s, seeds 1 and
2, 2026-12-02): travel 262,889 and 264,976 s with none, 260,974 and 260,992 with a fifth,
266,818 and 258,385 with 0.35, 268,073 and 265,377 with half."""
STRINGS_ROUNDS = (0.6, 1.0)
"""On days with rules, the string search runs in two rounds, to these shares of its time,
each ended by OR-Tools' descent (see :func:`_strings`)."""
PROGRESS_EVERY_S = 0.5

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Solved:
    """A plan in the model's terms, from OR-Tools or from the string search."""

    stops: list[list[tuple[int, int]]]  # per worker: (routing index, start of service)
    breaks: dict[int, tuple[int, ...]]  # per worker with breaks: each one's start, in its order
    objective: int

    @classmethod
    def of(cls, model: Model, solution: pywrapcp.Assignment) -> Solved:
        routing, time_dim = model.routing, model.time
        intervals = solution.IntervalVarContainer()
        starts = {
            intervals.Element(k).Var().Name(): intervals.Element(k).StartValue()
            for k in range(intervals.Size())
        }
        stops = []
        for v in range(len(model.problem.workers)):
            route, i = [], solution.Value(routing.NextVar(routing.Start(v)))
            while not routing.IsEnd(i):
                route.append((i, solution.Min(time_dim.CumulVar(i))))
                i = solution.Value(routing.NextVar(i))
            stops.append(route)
        breaks = {
            v: tuple(starts[interval.Name()] for _, interval in pairs)
            for v, pairs in model.breaks.items()
        }
        return cls(stops, breaks, int(solution.ObjectiveValue()))

    @classmethod
    def of_found(cls, model: Model, found: strings.Found) -> Solved:
        """The string search's plan, as its rules timed it."""
        to_index = model.manager.NodeToIndex
        stops = [[(to_index(n), t) for n, t in route] for route in found.timed]
        return cls(stops, found.breaks, found.cost)


def solve(
    problem: Problem,
    *,
    time_limit_s: float | None = None,
    seed: int | None = None,
    on_progress: Progress | None = None,
    decompose: bool = True,
) -> Plan:
    """Assign tasks to workers and order each route.

    Parameters
    ----------
    problem
        A validated problem (see :func:`dispatch.problem.parse_problem`).
    time_limit_s
        Seconds to search, at most; default ``problem.time_limit_s``, else 5 s.
        Small problems finish well before it.
    seed
        Default ``problem.seed``, else 0. Same problem and seed, same plan (unless
        the time limit cuts the search short).
    on_progress
        Called as ``on_progress(fraction, message)`` at the start, at the first
        solution, on improvements (at most every 0.5 s) and at the end (1.0).
    decompose
        Solve a large day in independent parts (see :mod:`dispatch.decompose`);
        False models it whole.

    Returns
    -------
    Plan
        Every task once: in a route, or unassigned with its reason.
    """
    began = time.monotonic()
    limit = (
        time_limit_s if time_limit_s is not None else problem.time_limit_s or DEFAULT_TIME_LIMIT_S
    )
    seed = seed if seed is not None else problem.seed or 0
    if decompose:
        from dispatch.decompose import solve_decomposed, worth_decomposing  # it calls solve()

        if worth_decomposing(problem):
            return solve_decomposed(problem, time_limit_s=limit, seed=seed, on_progress=on_progress)
    report = _Reporter(on_progress, began, limit)
    report(0.0, "building the model")
    solution = model = None
    if problem.workers and problem.tasks:
        model = build_model(problem, seed=seed)
        if model.candidates:
            solution = _search(model, limit - (time.monotonic() - began), report, seed)
    plan = _read_plan(problem, model, solution, time.monotonic() - began)
    summary = plan.summary()
    report.done(f"done: {summary['assigned']} assigned, {summary['unassigned']} unassigned")
    log.info(
        "solved tasks=%d workers=%d assigned=%d unassigned=%d objective=%d seconds=%.2f",
        len(problem.tasks),
        len(problem.workers),
        summary["assigned"],
        summary["unassigned"],
        summary["objective"],
        summary["solve_seconds"],
    )
    return plan


def solve_document(
    doc: Any,
    *,
    time_limit_s: float | None = None,
    seed: int | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Solve a problem document and return the plan document (format v1).

    Parameters
    ----------
    doc
        The decoded JSON problem; malformed input is reported, never raised.
    time_limit_s, seed, on_progress
        As for :func:`solve`; they override the document's ``options``.

    Returns
    -------
    dict
        The plan (``status: solved``), or ``{"version": 1, "status":
        "invalid_problem", "errors": [{"path", "message"}, ...]}``.
    """
    try:
        problem = parse_problem(doc)
    except InvalidProblem as e:
        return {"version": 1, "status": "invalid_problem", "errors": e.errors}
    return solve(problem, time_limit_s=time_limit_s, seed=seed, on_progress=on_progress).to_json()


def _search(model: Model, seconds: float, report: _Reporter, seed: int) -> Solved | None:
    """A first plan, guided local search, then ruin and recreate until the time is up."""
    began = time.monotonic()
    n_tasks = len(model.candidates)
    seconds = min(seconds, CAP_BASE_S + CAP_PER_TASK_S * n_tasks)
    # Progress is reported between phases, not from an OR-Tools solution callback: that
    # would be a Python call at each of guided local search's many solutions, and a
    # closure over the model is a cycle through C++ that keeps every part's model alive.
    solution = _first_solution(model, began + seconds * FIRST_SOLUTION_SHARE)
    if solution is None:
        return None
    report.solution(solution.ObjectiveValue())
    now = time.monotonic()
    deadline = began + seconds
    solution = _guided(
        model, solution, max(began + seconds * GLS_SHARE, now + (deadline - now) * GLS_SHARE)
    )
    report.solution(solution.ObjectiveValue())
    fits = strings.fits(model)
    ruin_deadline = deadline
    if fits:
        now = time.monotonic()
        share = RUIN_SHARE_WITH_RULES if strings.ruled(model) else RUIN_SHARE_WITH_STRINGS
        ruin_deadline = now + (deadline - now) * share
    best, too_slow = ruin_and_recreate(
        model,
        solution,
        deadline=ruin_deadline,
        seed=seed,
        max_steps=RUIN_STEPS_PER_TASK * n_tasks,
        min_steps=RUIN_MIN_STEPS,
        on_solution=report.solution,
    )
    if too_slow:
        best = _guided(model, best, ruin_deadline)
        report.solution(best.ObjectiveValue())
    solved = Solved.of(model, best)
    if fits:
        solved = _strings(model, best, deadline, seed)
        report.solution(solved.objective)
    report.raise_if_failed()
    return solved


def _strings(
    model: Model, solution: pywrapcp.Assignment, deadline: float, seed: int
) -> Solved:
    """String removals, each round ended by one OR-Tools descent over its result; the best
    of OR-Tools' plan, the string search's and the descents'.

    The descent sometimes serves a task the string search could not put back (it moves
    other stops to make room), at a cost in travel it has no time to repair: on days with
    rules a second round of the string search starts from there (:data:`STRINGS_ROUNDS`).
    OR-Tools sometimes finds no timing for routes that hold (seen on the generated city's
    nurse parts, with preferred nurses, even for its own guided local search's routes);
    the string search's routes, timed by its rules, then stand as they are.
    """
    began = time.monotonic()
    best = Solved.of(model, solution)
    start: pywrapcp.Assignment | strings.Found = solution
    rounds = STRINGS_ROUNDS if strings.ruled(model) else (1.0,)
    done = 0.0
    for k, share in enumerate(rounds):
        end = began + (deadline - began) * share
        polish = end - (end - time.monotonic()) * STRINGS_POLISH_SHARE
        found = strings.improve(
            model, start, deadline=polish, seed=seed + k, budget_share=share - done
        )
        done = share
        if found is None:
            return best if k else Solved.of(model, _guided(model, solution, deadline))
        best = min(best, Solved.of_found(model, found), key=lambda s: s.objective)
        polished = _polish(model, found, end)
        start = found
        if polished is not None and polished.ObjectiveValue() < found.cost:
            start = polished
            best = min(best, Solved.of(model, polished), key=lambda s: s.objective)
    return best


def _polish(
    model: Model, found: strings.Found, deadline: float
) -> pywrapcp.Assignment | None:
    """OR-Tools' descent from the string search's routes, or None if it finds no timing."""
    routing = model.routing
    start = nexts_only(routing)
    for v, starts in found.breaks.items():
        for (b, interval), at in zip(model.breaks[v], starts, strict=True):
            start.Add(interval)
            start.SetStartValue(interval, at)
            start.SetDurationValue(interval, b.duration_s)
            start.SetEndValue(interval, at + b.duration_s)
            start.SetPerformedValue(interval, 1)
    routes = [[model.manager.NodeToIndex(n) for n, _ in route] for route in found.timed]
    if not routing.RoutesToAssignment(routes, True, True, start):
        log.warning("OR-Tools refused the string search's routes")
        return None
    params = search_parameters(routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
    _time_limit(params, deadline)  # at least 50 ms: enough to read the routes back
    polished = routing.SolveFromAssignmentWithParameters(start, params)
    if polished is None:
        log.debug("OR-Tools found no timing for the string search's routes")
    return polished


def _guided(model: Model, solution: pywrapcp.Assignment, deadline: float) -> pywrapcp.Assignment:
    """Guided local search from ``solution`` until ``deadline``, or its solution budget."""
    if time.monotonic() >= deadline:
        return solution
    params = search_parameters(routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.guided_local_search_lambda_coefficient = GLS_LAMBDA
    # Counted in solutions, not seconds, so the phase ends at the same plan on any machine.
    params.solution_limit = GLS_SOLUTIONS_PER_TASK * len(model.candidates)
    _time_limit(params, deadline)
    return model.routing.SolveFromAssignmentWithParameters(solution, params) or solution


def _first_solution(model: Model, deadline: float) -> pywrapcp.Assignment | None:
    """Cheapest insertion, parallel on small models (better plans), local on large (faster).

    Measured on the generated 650-task day: parallel cheapest insertion placed 389
    deliveries (322 with a pickup) in 4.0 s, local cheapest insertion in 1.8 s;
    path cheapest arc, OR-Tools' default, leaves many tasks out and sometimes finds
    no plan at all with breaks and pickups. If none is found in the time (it
    should not happen: leaving every task out is always feasible), local search
    starts from an empty plan and inserts from there.
    """
    routing = model.routing
    strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
        if routing.Size() <= PARALLEL_INSERTION_MAX_NODES
        else routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    )
    params = search_parameters(routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT)
    params.first_solution_strategy = strategy
    params.solution_limit = 1
    _time_limit(params, deadline)
    solution = routing.SolveWithParameters(params)
    if solution is None:
        log.warning("no first solution status=%s; starting from an empty plan", routing.status())
        params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.ALL_UNPERFORMED
        params.solution_limit = 2**62
        _time_limit(params, deadline + 1.0)
        solution = routing.SolveWithParameters(params)
    return solution


def _time_limit(params: pywrapcp.DefaultRoutingSearchParameters, deadline: float) -> None:
    params.time_limit.FromMilliseconds(max(50, int((deadline - time.monotonic()) * 1000)))


def _read_plan(
    problem: Problem, model: Model | None, solution: Solved | None, seconds: float
) -> Plan:
    routes: list[Route] = []
    served: set[str] = set()
    left_out: list[Unassigned] = []
    if model is not None and solution is not None:
        manager, t0 = model.manager, model.t0
        for v, worker in enumerate(problem.workers):
            visits = []
            for i, at in solution.stops[v]:
                node = model.nodes[manager.IndexToNode(i)]
                task = problem.tasks[node.task]
                stop = task.visit if node.type == "visit" else getattr(task, node.type)
                visits.append((node.type, task, stop, t0 + at))
            if not visits:
                continue
            breaks = [
                (b, t0 + at)
                for (b, _), at in zip(model.breaks.get(v, []), solution.breaks.get(v, ()), strict=True)
            ]
            route, dropped = build_route(problem, worker, visits, breaks)
            if route is not None:
                routes.append(route)
                served.update(route.task_ids)
            for task in dropped:
                left_out.append(
                    Unassigned(
                        task.id,
                        NOT_WORTH_SERVING,
                        (
                            f"left out of {worker.id}'s route so that its breaks and ride limits fit "
                            f"(priority {task.priority})"
                        ),
                    )
                )
            if dropped:
                log.warning(
                    "dropped to fit breaks or rides worker=%s tasks=%s",
                    worker.id,
                    ",".join(t.id for t in dropped),
                )
    dropped_ids = {u.task for u in left_out}
    unassigned = [
        diagnose(problem, t)
        for t in problem.tasks
        if t.id not in served and t.id not in dropped_ids
    ]
    objective = solution.objective if solution is not None else 0
    return Plan(tuple(routes), tuple(unassigned + left_out), objective, seconds)


class _Reporter:
    """Calls ``on_progress`` safely from inside the solver; re-raises its error afterwards."""

    def __init__(self, callback: Progress | None, began: float, limit: float):
        self.callback, self.began, self.limit = callback, began, max(limit, 1e-3)
        self.count, self.last, self.error = 0, 0.0, None
        self.best: int | None = None

    def __call__(self, fraction: float, message: str) -> None:
        if self.callback is None or self.error is not None:
            return
        try:
            self.callback(min(1.0, max(0.0, fraction)), message)
        except Exception as e:  # noqa: BLE001 - raised again once the solver has returned
            self.error = e

    def solution(self, cost: int) -> None:
        self.count += 1
        improved = self.best is None or cost < self.best
        self.best = cost if improved else self.best
        elapsed = time.monotonic() - self.began
        if self.count == 1:
            self(elapsed / self.limit, f"first solution, cost {cost}")
        elif improved and elapsed - self.last >= PROGRESS_EVERY_S:
            self(elapsed / self.limit, f"improved, cost {cost}")
        else:
            return
        self.last = elapsed

    def done(self, message: str) -> None:
        self(1.0, message)
        self.raise_if_failed()

    def raise_if_failed(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
