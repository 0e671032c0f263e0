"""The string search (SISR) on days of single stops: which days it takes, and that its plans
keep every rule. Days with more rules: ``test_string_rules.py``.

Its plans go back through OR-Tools and out through the same plan reader, so every
plan here is checked by both checkers; the property tests make sure the string
search really ran on the days they generate, or they would prove nothing.
"""

from __future__ import annotations

import copy
import itertools
import random
import time
from typing import Any

import numpy as np
import pytest

from dispatch import search, strings
from dispatch.model import build_model
from dispatch.problem import InvalidProblem, parse_problem
from dispatch.search import solve_document
from tests.dispatch.random_problems import random_problem
from tests.dispatch.test_feasibility import both


def _single_stops(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without what takes the string search to its exact rules (see
    ``test_string_rules.py``): breaks, pickups, ride limits, preferred workers and second
    windows; what is left, its quick arithmetic holds alone."""
    doc = copy.deepcopy(doc)
    for w in doc["workers"]:
        w.pop("breaks", None)
    for t in doc["tasks"]:
        for key in ("pickup", "max_ride", "preferred_workers"):
            t.pop(key, None)
        for stop in (t, t.get("dropoff", {})):
            if stop.get("windows"):
                stop["windows"] = stop["windows"][:1]
    return doc


@pytest.mark.parametrize("seed", range(24))
def test_a_random_day_of_single_stops_is_searched_by_strings_and_keeps_every_rule(
    seed: int, string_searches: list[int]
) -> None:
    doc = _single_stops(random_problem(seed))
    try:
        parse_problem(copy.deepcopy(doc))
    except InvalidProblem:
        pytest.skip("not a valid problem")
    plan = solve_document(copy.deepcopy(doc), time_limit_s=0.5, seed=seed)
    assert plan["status"] == "solved"
    assert both(doc, plan) == ([], [])
    listed = [s["task"] for r in plan["routes"] for s in r["stops"] if s.get("task")]
    assert sorted(listed + [u["task"] for u in plan["unassigned"]]) == sorted(
        t["id"] for t in doc["tasks"]
    )
    if plan["routes"] or any(u["reason"] == "not_worth_serving" for u in plan["unassigned"]):
        assert string_searches, "a day of single stops went to OR-Tools alone"


def test_the_string_search_runs_on_enough_of_the_random_days() -> None:
    """The property test above is worth something only if most of its days get searched."""
    searched = 0
    for seed in range(24):
        doc = _single_stops(random_problem(seed))
        try:
            problem = parse_problem(copy.deepcopy(doc))
        except InvalidProblem:
            continue
        model = build_model(problem)
        searched += bool(model.candidates) and strings.fits(model)
    assert searched >= 12


def _line(n: int, *, zigzag: bool) -> dict[str, Any]:
    """One courier at place 0 and ``n`` parcels on a line, one minute apart, no windows;
    listed in order along the line, or zigzagging from one end to the other."""
    places = n + 1
    d = [[60 * abs(a - b) for b in range(places)] for a in range(places)]
    order = list(range(1, places))
    if zigzag:
        order = [order[k // 2] if k % 2 == 0 else order[-1 - k // 2] for k in range(n)]
    return {
        "version": 1,
        "locations": [{"id": f"p{i}", "lat": 39.1, "lon": 117.1 + i / 1000} for i in range(places)],
        "matrix": {"durations": d, "distances": d},
        "workers": [
            {
                "id": "courier-zhao",
                "kind": "courier",
                "districts": ["hexi"],
                "start": "p0",
                "end": "p0",
                "shift": ["2026-11-23T08:00:00+08:00", "2026-11-23T18:00:00+08:00"],
            }
        ],
        "tasks": [
            {
                "id": f"parcel-{i}",
                "kind": "delivery",
                "district": "hexi",
                "dropoff": {"location": f"p{i}", "duration": 0},
            }
            for i in order
        ],
    }


def test_the_string_search_straightens_a_zigzag_route_to_the_best_order() -> None:
    problem = parse_problem(_line(7, zigzag=True))
    model = build_model(problem)
    assert strings.fits(model)
    listed = [sorted(i for idx in model.task_nodes.values() for i in idx)]  # document order
    start = model.routing.ReadAssignmentFromRoutes(listed, True)
    found = strings.improve(model, start, deadline=time.monotonic() + 10, seed=1)
    assert found is not None
    day = strings._Day(model)
    nodes = [n for n, _ in found.timed[0]]
    best = min(
        day.route(0, list(p)).cost for p in itertools.permutations(nodes)
    )  # 7! orders: the true optimum
    assert day.route(0, nodes).cost == best == 2 * 7 * 60
    assert strings._read(day, start).cost > best  # the search had something to do


def test_the_same_seed_gives_the_same_routes() -> None:
    problem = parse_problem(_single_stops(random_problem(5)))
    model = build_model(problem, seed=0)
    first = search._first_solution(model, time.monotonic() + 5)
    runs = [
        strings.improve(model, first, deadline=time.monotonic() + 30, seed=seed) for seed in (7, 7)
    ]
    assert runs[0] == runs[1]


def test_putting_a_stop_in_recomputes_only_what_changes_and_agrees_with_a_full_rebuild() -> None:
    doc = _line(9, zigzag=False)
    for k, t in enumerate(doc["tasks"]):  # windows that make waiting and lateness matter
        a = 8 * 60 + 15 * k
        t["dropoff"]["windows"] = [
            [
                f"2026-11-23T{a // 60:02d}:{a % 60:02d}:00+08:00",
                f"2026-11-23T{(a + 20) // 60:02d}:{(a + 20) % 60:02d}:00+08:00",
            ]
        ]
        t["dropoff"]["duration"] = 120
    problem = parse_problem(doc)
    day = strings._Day(build_model(problem))
    rng = random.Random(2)
    agreed = refused = 0
    for _ in range(400):
        stops = sorted(rng.sample(day.customers, rng.randrange(0, 6)), key=lambda c: day.opens[c])
        route = day.route(0, stops)
        if route is None:
            continue
        c = rng.choice([c for c in day.customers if c not in stops])
        at = rng.randrange(len(stops) + 1)
        quick, full = day.insert(route, at, c), day.route(0, stops[:at] + [c] + stops[at:])
        assert (quick is None) == (full is None)
        if full is None:
            refused += 1
            continue
        agreed += 1
        assert (quick.seq, quick.early, quick.late, quick.cost) == (
            full.seq,
            full.early,
            full.late,
            full.cost,
        )
        assert np.array_equal(quick.load, full.load)
    assert agreed > 50 and refused > 50


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["workers"][0].update(
            breaks=[
                {
                    "id": "lunch",
                    "window": ["2026-11-23T12:00:00+08:00", "2026-11-23T13:00:00+08:00"],
                    "duration": 1800,
                }
            ]
        ),
        lambda d: d["tasks"][0].update(pickup={"location": "p0", "duration": 0}),
        lambda d: d["tasks"][0].update(max_ride=3600),
        lambda d: d["tasks"][0].update(preferred_workers=["courier-zhao"]),
        lambda d: d["tasks"][0]["dropoff"].update(
            windows=[
                ["2026-11-23T09:00:00+08:00", "2026-11-23T10:00:00+08:00"],
                ["2026-11-23T14:00:00+08:00", "2026-11-23T15:00:00+08:00"],
            ]
        ),
    ],
    ids=["breaks", "pickup", "max_ride", "preferred_workers", "two_windows"],
)
def test_days_with_more_than_single_stops_are_searched_under_the_exact_rules(change: Any) -> None:
    doc = _line(3, zigzag=False)
    plain = strings._Day(build_model(parse_problem(copy.deepcopy(doc))))
    assert plain.rules is None  # the quick arithmetic alone, as on Solomon's days
    change(doc)
    model = build_model(parse_problem(doc))
    assert strings.fits(model) and strings._Day(model).rules is not None


def test_a_day_too_large_for_the_arrays_is_left_to_or_tools(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = build_model(parse_problem(_line(5, zigzag=False)))
    assert strings.fits(model)
    monkeypatch.setattr(strings, "MAX_NODES", len(model.nodes) - 1)
    assert not strings.fits(model)


def test_cutting_a_route_gives_its_second_part_to_an_idle_worker_of_the_same_kind() -> None:
    doc = _line(6, zigzag=False)
    twin = dict(doc["workers"][0], id="courier-qian")
    doc["workers"].append(twin)
    model = build_model(parse_problem(doc))
    day = strings._Day(model)
    whole = day.route(0, sorted(day.customers))
    plan = strings._Plan(day, [whole, day.route(1, [])], [])
    cut = strings._cut(day, plan, np.random.default_rng(4))
    assert cut is not None
    head, tail = cut.routes
    assert head.stops + tail.stops == whole.stops and head.stops and tail.stops
    assert cut.cost == head.cost + tail.cost > whole.cost  # two trips home: the annealing decides
    assert plan.routes[0] is whole  # the plan cut is a copy


def test_a_route_is_not_cut_when_no_idle_worker_could_take_its_second_part() -> None:
    model = build_model(parse_problem(_line(6, zigzag=False)))
    day = strings._Day(model)
    plan = strings._Plan(day, [day.route(0, sorted(day.customers))], [])
    assert strings._cut(day, plan, np.random.default_rng(4)) is None
