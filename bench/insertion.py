"""Urgent insertion into a planned district day: ``python -m bench.insertion``.

Builds one district's day of about 1,000 tasks (``bench.city`` with a single
district), plans it without ``--urgent`` of them, then inserts those one by one
with :func:`dispatch.insertion.cheapest_insertion`, as an order accepted after
the plan would be. Prints p50/p95/max of the insertion time, how many went in
and how many were left for the re-plan, and checks every resulting plan with
:mod:`dispatch.feasibility` (the count of plans with a breach must be 0).

    python -m bench.insertion --tasks 1000 --urgent 50 --time-limit 30 --seed 1
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from typing import Any

from bench.city import Size, make_city
from dispatch.feasibility import breaches
from dispatch.insertion import cheapest_insertion
from dispatch.plan import Route
from dispatch.problem import parse_problem
from dispatch.search import solve


def district_day(tasks: int, seed: int) -> dict[str, Any]:
    """A day of ``tasks`` tasks (40% visits) in one district, about ten tasks per worker."""
    visits = round(tasks * 0.4)
    workers = max(2, tasks // 10)
    nurses = round(workers * 0.6)
    return make_city(Size(visits=visits, deliveries=tasks - visits, nurses=nurses, couriers=workers - nurses,
                          districts=1), seed=seed)


def run(tasks: int = 1000, urgent: int = 50, time_limit_s: float = 30.0, seed: int = 1,
        check_every: int = 1) -> dict[str, Any]:
    """Plan, insert, check; returns the figures (seconds) printed by :func:`main`."""
    doc = district_day(tasks, seed)
    rng = random.Random(seed)
    free = [t["id"] for t in doc["tasks"] if not t.get("pinned_worker")]
    held = rng.sample(free, min(urgent, len(free)))
    problem = parse_problem(doc)
    planned_doc = {**doc, "tasks": [t for t in doc["tasks"] if t["id"] not in set(held)]}
    began = time.perf_counter()
    plan = solve(parse_problem(planned_doc), time_limit_s=time_limit_s, seed=seed)
    plan_s = time.perf_counter() - began

    routes: dict[str, Route] = {r.worker: r for r in plan.routes}
    unassigned = [u.to_json() for u in plan.unassigned]
    waiting = list(held)
    timings: list[float] = []
    inserted = left = infeasible_plans = 0
    for n, task_id in enumerate(held):
        stops = {w: [(s.type, s.task, s.start or 0) for s in r.stops if s.task] for w, r in routes.items()}
        began = time.perf_counter()
        found = cheapest_insertion(problem, stops, task_id)
        timings.append(time.perf_counter() - began)
        waiting.remove(task_id)
        if found is None:
            left += 1
            unassigned.append({"task": task_id, "reason": "not_worth_serving",
                               "detail": "no route takes it as it stands: left for the re-plan"})
        else:
            inserted += 1
            routes[found.worker] = found.route
        if (n + 1) % check_every == 0 or n + 1 == len(held):
            current = {"version": 1, "status": "solved", "routes": [r.to_json() for r in routes.values()],
                       "unassigned": unassigned + [{"task": t, "reason": "not_worth_serving",
                                                    "detail": "not inserted yet"} for t in waiting]}
            if breaches(problem, current):
                infeasible_plans += 1
    ordered = sorted(timings)
    return {"tasks": len(problem.tasks), "workers": len(problem.workers), "plan_s": plan_s,
            "assigned_before": plan.summary()["assigned"], "urgent": len(held), "inserted": inserted,
            "left_for_replan": left, "p50_s": statistics.median(ordered) if ordered else 0.0,
            "p95_s": ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else 0.0,
            "max_s": ordered[-1] if ordered else 0.0, "plans_with_breaches": infeasible_plans}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--urgent", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds for the initial plan")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    r = run(args.tasks, args.urgent, args.time_limit, args.seed)
    print(f"python -m bench.insertion --tasks {args.tasks} --urgent {args.urgent} "
          f"--time-limit {args.time_limit:g} --seed {args.seed}")
    print(f"district day: {r['tasks']} tasks, {r['workers']} workers; planned {r['assigned_before']} "
          f"in {r['plan_s']:.1f} s")
    print(f"urgent orders: {r['urgent']}, inserted {r['inserted']}, left for the re-plan {r['left_for_replan']}")
    print(f"insertion time: p50 {r['p50_s'] * 1000:.1f} ms, p95 {r['p95_s'] * 1000:.1f} ms, "
          f"max {r['max_s'] * 1000:.1f} ms")
    print(f"plans with a breach (dispatch.feasibility): {r['plans_with_breaches']}")
    return 0 if r["plans_with_breaches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
