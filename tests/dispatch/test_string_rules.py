"""The string search on days with every rule: breaks, pickups, ride limits, loads along the
route, preferred workers and second windows (see :mod:`dispatch.string_rules`).

The rules time a route the strict way; the tests hold them to the contract: every route
they accept is read into a plan by the same reader as any solution, and both plan
checkers (ours and the shared one) must find nothing wrong with it.
"""

from __future__ import annotations

import copy
import random
import time
from typing import Any

import numpy as np
import pytest

from bench.city import make_city as generated_city
from dispatch import ruin, search, strings
from dispatch.model import build_model
from dispatch.problem import InvalidProblem, parse_problem
from dispatch.search import Solved, solve_document
from dispatch.split import split_problem, sub_problem
from tests.dispatch.city import make_city
from tests.dispatch.random_problems import random_problem
from tests.dispatch.test_feasibility import both


def _problem(seed: int) -> tuple[dict[str, Any], Any]:
    doc = random_problem(seed)
    try:
        return doc, parse_problem(copy.deepcopy(doc))
    except InvalidProblem:
        pytest.skip("not a valid problem")


def _random_routes(day: strings._Day, rng: random.Random) -> list[list[int]]:
    """Each task to a random worker allowed to serve it (or none), in a random order, its
    pickup somewhere before its drop-off."""
    routes: list[list[int]] = [[] for _ in range(day.n_workers)]
    for c in day.customers:
        allowed = np.flatnonzero(day.allowed[c]).tolist()
        if not allowed or rng.random() < 0.3:
            continue
        stops = routes[rng.choice(allowed)]
        at = rng.randint(0, len(stops))
        pickup = day.pickup_of.get(c)
        if pickup is not None:
            before = rng.randint(0, at)
            stops.insert(before, pickup)
            at += 1
        stops.insert(at, c)
    return routes


@pytest.mark.parametrize("seed", range(40))
def test_every_route_the_rules_accept_is_a_plan_both_checkers_accept(seed: int) -> None:
    doc, problem = _problem(seed)
    model = build_model(problem)
    if not model.candidates:
        pytest.skip("no task any worker could serve")
    day = strings._Day(model)
    rng = random.Random(seed)
    for _ in range(30):
        routes = []
        for v, stops in enumerate(_random_routes(day, rng)):
            route = day.route(v, stops)
            routes.append(route if route is not None else day.route(v, []))
        if any(r is None for r in routes):
            continue  # an idle worker who cannot even take the breaks: not served by the model
        solved = Solved.of_found(model, strings.Found.of(routes, 0))
        plan = search._read_plan(problem, model, solved, 0.0).to_json()
        assert not any("so that its breaks" in u["detail"] for u in plan["unassigned"])
        assert both(doc, plan) == ([], [])


def test_the_rules_accept_enough_random_routes_for_the_test_above_to_mean_something() -> None:
    accepted = tried = 0
    for seed in range(40):
        try:
            problem = parse_problem(random_problem(seed))
        except InvalidProblem:
            continue
        model = build_model(problem)
        if not model.candidates:
            continue
        day = strings._Day(model)
        rng = random.Random(seed)
        for _ in range(30):  # as the test above draws them
            for v, stops in enumerate(_random_routes(day, rng)):
                if stops:
                    tried += 1
                    accepted += day.route(v, stops) is not None
    assert accepted >= 100 and tried - accepted >= 100


@pytest.mark.parametrize("seed", range(24))
def test_a_random_day_with_every_rule_is_searched_by_strings_and_keeps_every_rule(
    seed: int, string_searches: list[int]
) -> None:
    doc, _ = _problem(seed)
    plan = solve_document(copy.deepcopy(doc), time_limit_s=0.5, seed=seed)
    assert plan["status"] == "solved"
    assert both(doc, plan) == ([], [])
    listed = [s["task"] for r in plan["routes"] for s in r["stops"] if s["type"] in ("visit", "dropoff")]
    assert sorted(listed + [u["task"] for u in plan["unassigned"]]) == sorted(
        t["id"] for t in doc["tasks"]
    )
    if plan["routes"]:
        assert string_searches and all(string_searches), "the string search did not run"


def test_a_generated_city_part_gets_cheaper_under_the_string_search() -> None:
    """Pickups at pharmacies, cold chain, lunch breaks, preferred nurses: the search must
    find something on such a day, and its plan must pass both checkers."""
    doc = make_city(40, seed=3)
    problem = parse_problem(copy.deepcopy(doc))
    model = build_model(problem, seed=1)
    first = search._first_solution(model, time.monotonic() + 5)
    found = strings.improve(model, first, deadline=time.monotonic() + 60, seed=1)
    assert found is not None and found.cost < first.ObjectiveValue()
    plan = search._read_plan(problem, model, Solved.of_found(model, found), 0.0).to_json()
    assert both(doc, plan) == ([], [])
    assert plan["summary"]["travel_time"] < first.ObjectiveValue()


def test_ruin_and_recreate_steps_succeed_on_days_with_breaks_and_preferred_nurses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its descents used to start from a copy of the plan, breaks' old times included; on
    the generated city's nurse part (lunch breaks, preferred nurses) every one of them
    failed at once, so the phase did nothing (0 of these 10 steps)."""
    problem = parse_problem(generated_city("small", seed=1))
    parts, _ = split_problem(problem)
    nurses = next(p for p in parts if problem.workers[p.workers[0]].kind == "nurse")
    sub = sub_problem(problem, nurses)
    assert any(w.breaks for w in sub.workers) and any(t.preferred_workers for t in sub.tasks)
    model = build_model(sub, seed=1)
    first = search._first_solution(model, time.monotonic() + 5)
    outcomes: list[bool] = []
    solve_from = type(model.routing).SolveFromAssignmentWithParameters

    def counted(self: Any, start: Any, params: Any) -> Any:
        found = solve_from(self, start, params)
        outcomes.append(found is not None)
        return found

    monkeypatch.setattr(type(model.routing), "SolveFromAssignmentWithParameters", counted)
    ruin.ruin_and_recreate(model, first, deadline=time.monotonic() + 30, seed=1, max_steps=10)
    assert len(outcomes) == 10 and sum(outcomes) >= 8


def test_workers_with_different_capacities_or_breaks_are_not_interchangeable() -> None:
    """Only one idle worker of each class is tried: a class must not hide a larger van."""
    doc = make_city(30, seed=2)
    couriers = [w for w in doc["workers"] if w["kind"] == "courier"]
    twin = dict(couriers[0], id="courier-twin")
    bigger = dict(couriers[0], id="courier-bigger", capacity={"parcels": 99, "cold": 9})
    lunch = {"id": "lunch", "window": ["2026-11-23T11:30:00+08:00", "2026-11-23T13:30:00+08:00"]}
    with_lunch = dict(couriers[0], id="courier-with-lunch", breaks=[dict(lunch, duration=1800)])
    doc["workers"] += [twin, bigger, with_lunch]
    model = build_model(parse_problem(doc))
    day = strings._Day(model)
    index = {w.id: v for v, w in enumerate(model.problem.workers)}
    classes = day.classes
    first = classes[index[couriers[0]["id"]]]
    assert classes[index["courier-twin"]] == first
    assert classes[index["courier-bigger"]] != first
    assert classes[index["courier-with-lunch"]] != first
