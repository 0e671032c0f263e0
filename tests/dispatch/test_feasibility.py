"""The project's plan checker against the independent one: both pass the solver's plans,
both catch each kind of broken plan."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.feasibility import Breach, breaches
from dispatch.problem import InvalidProblem, parse_problem
from dispatch.search import solve, solve_document
from tests.dispatch import check_plan
from tests.dispatch.city import make_city
from tests.dispatch.conftest import DATA, stops_of
from tests.dispatch.random_problems import random_problem

Doc = dict[str, Any]


def both(problem_doc: Doc, plan: Doc) -> tuple[list[str], list[str]]:
    """(the project's breaches, the independent checker's), as strings."""
    mine = [str(b) for b in breaches(parse_problem(copy.deepcopy(problem_doc)), plan)]
    return mine, check_plan.check(problem_doc, plan)[0]


def solved(doc: Doc) -> Doc:
    plan = solve_document(copy.deepcopy(doc), time_limit_s=1)
    assert plan["status"] == "solved"
    return plan


@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*.json")))
def test_the_solvers_plan_for_each_named_problem_passes_both_checkers(load, name: str) -> None:
    doc = load(name)
    assert both(doc, solved(doc)) == ([], [])


def test_the_solvers_plan_for_a_generated_city_passes_both_checkers() -> None:
    doc = make_city(24, seed=11)
    assert both(doc, solved(doc)) == ([], [])


def test_a_plan_object_is_checked_like_its_document(load) -> None:
    problem = parse_problem(load("break_in_window"))
    assert breaches(problem, solve(problem, time_limit_s=1)) == []


def later(iso: str, seconds: int) -> str:
    return (datetime.fromisoformat(iso) + timedelta(seconds=seconds)).isoformat()


def stop(plan: Doc, worker: str, typ: str, task: str | None = None) -> Doc:
    return next(
        s
        for s in stops_of(plan, worker)
        if s["type"] == typ and (task is None or s.get("task") == task)
    )


def _give_lis_route_to_wang(doc: Doc, plan: Doc) -> None:
    route = next(r for r in plan["routes"] if r["worker"] == "nurse-li")
    route["worker"] = "nurse-wang"
    route["stops"][0]["location"] = route["stops"][-1]["location"] = "home-wang"


def _move_a_start_out_of_its_window(doc: Doc, plan: Doc) -> None:
    s = stop(plan, "nurse-li", "visit", "visit-zhang")
    s["start"], s["end"] = later(s["start"], 7200), later(s["end"], 7200)


def _drop_the_break(doc: Doc, plan: Doc) -> None:
    route = plan["routes"][0]
    route["stops"] = [s for s in route["stops"] if s["type"] != "break"]


def _move_the_break_out_of_its_window(doc: Doc, plan: Doc) -> None:
    s = stop(plan, "nurse-li", "break")
    s["start"], s["end"] = later(s["start"], 3 * 3600), later(s["end"], 3 * 3600)


def _swap_pickup_and_dropoff(doc: Doc, plan: Doc) -> None:
    stops = plan["routes"][0]["stops"]
    p = next(k for k, s in enumerate(stops) if s["type"] == "pickup")
    d = next(k for k, s in enumerate(stops) if s["type"] == "dropoff" and k > p)
    stops[p], stops[d] = stops[d], stops[p]


def _shrink_the_capacity(doc: Doc, plan: Doc) -> None:
    doc["workers"][0]["capacity"] = {"parcels": 1}


def _tighten_max_ride(doc: Doc, plan: Doc) -> None:
    doc["tasks"][0]["max_ride"] = 60


def _serve_a_task_twice(doc: Doc, plan: Doc) -> None:
    stops = plan["routes"][0]["stops"]
    stops.insert(2, copy.deepcopy(stops[1]))


def _route_an_unassigned_task_too(doc: Doc, plan: Doc) -> None:
    served = stop(plan, "nurse-li", "visit", "visit-chen")
    plan["unassigned"].append({"task": "visit-chen", "reason": "capacity", "detail": "x"})
    assert served


def _forget_an_unassigned_task(doc: Doc, plan: Doc) -> None:
    plan["unassigned"].pop()


def _move_the_district(doc: Doc, plan: Doc) -> None:
    doc["workers"][0]["districts"] = ["heping"]


def _make_the_nurse_a_courier(doc: Doc, plan: Doc) -> None:
    doc["workers"][0]["kind"] = "courier"


def _pin_to_the_other_nurse(doc: Doc, plan: Doc) -> None:
    doc["tasks"][1]["pinned_worker"] = "nurse-wang"


def _cap_the_tasks(doc: Doc, plan: Doc) -> None:
    doc["workers"][0]["max_tasks"] = 1


def _end_the_shift_early(doc: Doc, plan: Doc) -> None:
    doc["workers"][0]["shift"][1] = "2026-11-23T09:00:00+08:00"


def _leave_before_the_shift(doc: Doc, plan: Doc) -> None:
    s = plan["routes"][0]["stops"][0]
    s["departure"] = "2026-11-23T07:00:00+08:00"


def _start_before_arriving(doc: Doc, plan: Doc) -> None:
    s = stop(plan, "nurse-li", "visit", "visit-chen")
    s["start"], s["end"] = later(s["arrival"], -600), later(s["arrival"], 1200)


def _leave_before_the_en_route_time(doc: Doc, plan: Doc) -> None:
    plan["routes"][0]["stops"][0]["departure"] = "2026-11-23T10:00:00+08:00"


BROKEN: dict[str, tuple[str, Callable[[Doc, Doc], None], str, str]] = {
    # name: (problem, how to break the plan or its problem, the project's words, the other's)
    "visit to an unskilled worker": (
        "two_nurses_one_skill",
        _give_lis_route_to_wang,
        "lacks picc",
        "lacks skills",
    ),
    "start outside its window": (
        "multiple_windows",
        _move_a_start_out_of_its_window,
        "starts outside its windows",
        "starts outside its windows",
    ),
    "break dropped": ("break_in_window", _drop_the_break, "breaks not taken", "breaks not taken"),
    "break outside its window": (
        "break_in_window",
        _move_the_break_out_of_its_window,
        "outside its window",
        "misplaced",
    ),
    "drop-off before pickup": (
        "pickup_before_dropoff",
        _swap_pickup_and_dropoff,
        "dropped off before it is picked up",
        "dropped off before pickup",
    ),
    "capacity exceeded": (
        "capacity_overflow",
        _shrink_the_capacity,
        "over capacity",
        "over capacity",
    ),
    "max_ride exceeded": ("cold_chain_max_ride", _tighten_max_ride, "over max_ride", "> max_ride"),
    "task served twice": ("two_nurses_one_skill", _serve_a_task_twice, "appears twice", "twice"),
    "task routed and unassigned": (
        "two_nurses_one_skill",
        _route_an_unassigned_task_too,
        "also served",
        "both routed and unassigned",
    ),
    "task missing": (
        "two_nurses_one_skill",
        _forget_an_unassigned_task,
        "neither on a route nor unassigned",
        "neither routed nor unassigned",
    ),
    "outside the district": (
        "two_nurses_one_skill",
        _move_the_district,
        "does not work in hexi",
        "outside",
    ),
    "wrong kind": ("two_nurses_one_skill", _make_the_nurse_a_courier, "cannot do", "given visit"),
    "pin ignored": ("two_nurses_one_skill", _pin_to_the_other_nurse, "pinned to", "pinned to"),
    "max_tasks exceeded": ("two_nurses_one_skill", _cap_the_tasks, "max_tasks", "max_tasks"),
    "past the shift end": (
        "two_nurses_one_skill",
        _end_the_shift_early,
        "after the shift ends",
        "after shift end",
    ),
    "leaves before the shift": (
        "two_nurses_one_skill",
        _leave_before_the_shift,
        "leaves before",
        "leaves before",
    ),
    "service before arrival": (
        "two_nurses_one_skill",
        _start_before_arriving,
        "before arrival",
        "before arrival",
    ),
    "leaves before the en-route time": (
        "en_route_replanning",
        _leave_before_the_en_route_time,
        "leaves before",
        "leaves before",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_plan_is_caught_by_both_checkers(load, case: str) -> None:
    name, breaking, words, their_words = BROKEN[case]
    doc = load(name)
    plan = solved(doc)
    assert both(doc, plan) == ([], [])
    breaking(doc, plan)
    mine, theirs = both(doc, plan)
    assert any(words in b for b in mine), mine
    assert any(their_words in b for b in theirs), theirs


def test_travel_that_does_not_match_the_matrix_is_caught(load) -> None:
    # Stricter than the independent checker: reported arrivals and totals must add up.
    doc = load("two_nurses_one_skill")
    plan = solved(doc)
    route = plan["routes"][0]
    route["travel_time"] -= 60
    s = stop(plan, "nurse-li", "visit", "visit-chen")
    s["arrival"] = later(s["arrival"], 60)
    mine, _ = both(doc, plan)
    assert any("travel_time" in b for b in mine) and any(".arrival" in b for b in mine)


def test_each_breach_names_the_json_path_at_fault(load) -> None:
    doc = load("pickup_before_dropoff")
    plan = solved(doc)
    _swap_pickup_and_dropoff(doc, plan)
    problem = parse_problem(doc)
    found = breaches(problem, plan)
    assert found and all(isinstance(b, Breach) and b.path.startswith("$.") for b in found)
    assert any(b.path.startswith("$.routes[0].stops[") for b in found)


@pytest.mark.parametrize(
    "plan",
    [
        None,
        {},
        {"status": "solved", "routes": [None], "unassigned": [7]},
        {"status": "solved", "routes": [{"worker": "nurse-li", "stops": [{"type": "start"}]}]},
        {"status": "solved", "routes": [{"worker": "nurse-li", "stops": "many"}]},
    ],
)
def test_a_malformed_plan_gives_breaches_not_exceptions(load, plan: Any) -> None:
    assert breaches(parse_problem(load("two_nurses_one_skill")), plan)


def test_the_copied_checker_is_the_shared_one_unchanged() -> None:
    shared = Path(__file__).resolve().parents[3] / "shared" / "tools" / "check_plan.py"
    if not shared.exists():
        pytest.skip("the shared checker is not next to this clone")
    ours = (Path(__file__).parent / "check_plan.py").read_text().splitlines()
    assert [line for line in ours if not line.startswith("# Copied")] == (
        shared.read_text().splitlines()
    )


@pytest.mark.parametrize("seed", range(16))
def test_the_solvers_plan_for_a_random_problem_passes_both_checkers(seed: int) -> None:
    doc = random_problem(seed)
    try:
        parse_problem(copy.deepcopy(doc))
    except InvalidProblem:
        pytest.skip("a break that cannot fit its shift")
    plan = solve_document(copy.deepcopy(doc), time_limit_s=0.3)
    assert both(doc, plan) == ([], [])
