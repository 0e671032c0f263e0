"""Reading a problem document: validated once, every fault reported with its JSON path."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from dispatch.feasibility import breaches
from dispatch.problem import InvalidProblem, parse_problem
from dispatch.search import solve_document
from tests.dispatch import check_plan


def errors_of(doc: Any) -> list[dict[str, str]]:
    with pytest.raises(InvalidProblem) as raised:
        parse_problem(doc)
    return raised.value.errors


def paths_of(doc: Any) -> set[str]:
    return {e["path"] for e in errors_of(doc)}


def test_a_well_formed_document_becomes_epoch_seconds_and_keeps_the_shift_offset(load) -> None:
    problem = parse_problem(load("two_nurses_one_skill"))
    li = problem.worker("nurse-li")
    assert li.shift.start == 1795392000  # 2026-11-23T08:00:00+08:00
    assert li.utc_offset_s == 8 * 3600
    assert problem.matrix_for(li).durations[0, 2] == 1500
    assert [t.id for t in problem.tasks] == ["visit-zhang-picc", "visit-chen", "visit-zhang-wound"]


def test_a_worker_may_serve_a_task_of_its_kind_skills_district_and_pin(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][1]["pinned_worker"] = "nurse-wang"
    doc["tasks"].append(dict(doc["tasks"][1], id="visit-far", district="nankai"))
    del doc["tasks"][-1]["pinned_worker"]
    problem = parse_problem(doc)
    li, wang = problem.workers
    picc, chen, wound, far = problem.tasks
    assert li.may_serve(picc) and not wang.may_serve(picc)  # skills
    assert wang.may_serve(chen) and not li.may_serve(chen)  # the pin
    assert not li.may_serve(wound) and not wang.may_serve(wound)  # nobody has wound_care
    assert not li.may_serve(far)  # another district
    courier = parse_problem(load("cold_chain_max_ride")).workers[0]
    assert not courier.may_serve(chen)  # a courier does no visits


def test_an_unknown_key_is_named_with_its_path(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][1]["colour"] = "red"
    doc["workers"][0]["car"] = True
    doc["speed"] = 3
    errors = errors_of(doc)
    assert {"path": "$.tasks[1].colour", "message": "unknown key 'colour'"} in errors
    assert {e["path"] for e in errors} == {"$.tasks[1].colour", "$.workers[0].car", "$.speed"}


def test_a_visit_may_not_carry_a_deliverys_keys(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][0]["max_ride"] = 600
    assert paths_of(doc) == {"$.tasks[0].max_ride"}


def test_unknown_location_and_worker_ids_are_errors(load) -> None:
    doc = load("pinned_task")
    doc["tasks"][0]["location"] = "nowhere"
    doc["tasks"][1]["pinned_worker"] = "nurse-ghost"
    doc["tasks"][2]["preferred_workers"] = ["nurse-li", "nurse-ghost"]
    doc["workers"][1]["end"] = "atlantis"
    errors = errors_of(doc)
    assert {e["path"] for e in errors} == {
        "$.tasks[0].location",
        "$.tasks[1].pinned_worker",
        "$.tasks[2].preferred_workers[1]",
        "$.workers[1].end",
    }
    assert any("'nowhere'" in e["message"] for e in errors)


def test_duplicate_ids_point_at_the_second_one(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][2]["id"] = "visit-chen"
    doc["locations"][3]["id"] = "home-li"
    errors = errors_of(doc)
    assert {e["path"] for e in errors} >= {"$.tasks[2].id", "$.locations[3].id"}
    assert any("also at $.tasks[1]" in e["message"] for e in errors)


@pytest.mark.parametrize(
    "value, words",
    [
        ("tomorrow morning", "unparsable"),
        ("2026-11-23T09:00:00", "no UTC offset"),
        ("2026-13-40T09:00:00+08:00", "unparsable"),
        (900, "ISO 8601"),
    ],
)
def test_times_must_parse_and_carry_an_offset(load, value: Any, words: str) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][3]["windows"][0][0] = value
    (error,) = errors_of(doc)
    assert error["path"] == "$.tasks[3].windows[0][0]"
    assert words in error["message"]


def test_a_window_that_ends_before_it_starts_names_the_window(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][3]["windows"] = [["2026-11-23T10:00:00+08:00", "2026-11-23T09:00:00+08:00"]]
    assert errors_of(doc) == [
        {"path": "$.tasks[3].windows[0]", "message": "window ends before it starts"}
    ]


def test_a_matrix_of_the_wrong_size_is_an_error(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["matrix"]["durations"].pop()
    doc["matrix"]["distances"][2] = doc["matrix"]["distances"][2][:3]
    errors = errors_of(doc)
    assert {e["path"] for e in errors} == {"$.matrix.durations", "$.matrix.distances[2]"}
    assert "4x4" in errors[0]["message"]


def test_negative_durations_and_matrix_entries_are_errors(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][0]["duration"] = -60
    doc["matrix"]["durations"][1][2] = -5
    doc["workers"][0]["breaks"] = [
        {
            "id": "lunch",
            "duration": -1,
            "window": ["2026-11-23T12:00:00+08:00", "2026-11-23T13:00:00+08:00"],
        }
    ]
    assert paths_of(doc) == {
        "$.tasks[0].duration",
        "$.matrix.durations[1][2]",
        "$.workers[0].breaks[0].duration",
    }


def test_kind_priority_version_and_types_are_checked_together(load) -> None:
    doc = load("capacity_overflow")
    doc["version"] = 2
    doc["workers"][0]["kind"] = "driver"
    doc["tasks"][0]["kind"] = "errand"
    doc["tasks"][1]["priority"] = 101
    doc["tasks"][2]["load"] = {"parcels": "one"}
    doc["workers"][0]["capacity"] = {"parcels": 2.5}
    assert paths_of(doc) == {
        "$.version",
        "$.workers[0].kind",
        "$.tasks[0].kind",
        "$.tasks[1].priority",
        "$.tasks[2].load.parcels",
        "$.workers[0].capacity.parcels",
    }


def test_missing_required_keys_are_listed(load) -> None:
    doc = load("pickup_before_dropoff")
    del doc["tasks"][0]["dropoff"]
    del doc["workers"][0]["shift"]
    del doc["locations"][1]["lat"]
    assert paths_of(doc) == {"$.tasks[0].dropoff", "$.workers[0].shift", "$.locations[1].lat"}


def test_a_break_that_cannot_fit_in_the_shift_is_an_error(load) -> None:
    doc = load("break_in_window")
    doc["workers"][0]["breaks"][0]["window"] = [
        "2026-11-23T18:00:00+08:00",
        "2026-11-23T19:00:00+08:00",
    ]
    assert paths_of(doc) == {"$.workers[0].breaks[0]"}


def test_options_may_carry_engine_specific_keys(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["options"] = {"time_limit": 3, "seed": 5, "ortools": {"anything": 1}}
    problem = parse_problem(doc)
    assert (problem.time_limit_s, problem.seed) == (3.0, 5)


def test_malformed_input_gives_an_invalid_problem_document_not_a_traceback() -> None:
    for doc in (
        None,
        [],
        "problem",
        42,
        {"version": 1},
        {"version": 1, "locations": {}, "workers": [], "tasks": [None, 3, []]},
    ):
        plan = solve_document(doc)
        assert plan["version"] == 1 and plan["status"] == "invalid_problem"
        assert plan["errors"] and all(set(e) == {"path", "message"} for e in plan["errors"])


@pytest.mark.parametrize(
    "value",
    ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1969-12-31T23:00:00+00:00"],
)
def test_times_far_outside_any_working_day_are_out_of_range(load, value: str) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["shift"][0] = value
    (error,) = errors_of(doc)
    assert error["path"] == "$.workers[0].shift[0]" and "out of range" in error["message"]


@pytest.mark.parametrize("time", ["2026-11-23T07:59:59+08:00", "2026-11-23T17:00:01+08:00"])
def test_an_en_route_time_outside_the_shift_is_an_error(load, time: str) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["en_route"] = {"location": "patient-zhang", "time": time}
    assert errors_of(doc) == [
        {"path": "$.workers[0].en_route.time", "message": "must fall within the shift"}
    ]


def test_an_en_route_at_an_unknown_place_or_with_unknown_keys_is_an_error(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["en_route"] = {"location": "mars", "time": "2026-11-23T10:00:00+08:00"}
    doc["workers"][1]["en_route"] = {"location": "home-wang", "at": "now"}
    assert paths_of(doc) == {
        "$.workers[0].en_route.location",
        "$.workers[1].en_route.at",
        "$.workers[1].en_route.time",
    }


def test_a_break_longer_than_its_shift_is_an_error(load) -> None:
    doc = load("break_in_window")
    doc["workers"][0]["breaks"][0]["duration"] = 9 * 3600 + 1
    assert paths_of(doc) == {"$.workers[0].breaks[0]"}


@pytest.mark.parametrize(
    "entry", [True, 1.5, "60", None, float("nan"), float("inf"), 10**12, -1, [60]]
)
def test_a_matrix_entry_must_be_a_non_negative_integer(load, entry: Any) -> None:
    doc = load("two_nurses_one_skill")
    doc["matrix"]["distances"][1][2] = entry
    (error,) = errors_of(doc)
    assert error["path"] == "$.matrix.distances[1][2]"


def test_matrices_for_an_unknown_kind_or_of_the_wrong_size_are_errors(load) -> None:
    doc = load("courier_cannot_visit")
    doc["matrices"] = {
        "driver": doc["matrix"],
        "courier": {"durations": [[0, 1]]},
        "nurse": [[0]],
    }
    assert paths_of(doc) == {
        "$.matrices.driver",
        "$.matrices.courier.durations",
        "$.matrices.nurse",
    }


def test_a_task_may_name_only_known_workers_and_locations(load) -> None:
    doc = load("pickup_before_dropoff")
    doc["tasks"][0]["pickup"]["location"] = "pharmacy-9"
    doc["tasks"][0]["pinned_worker"] = "courier-ghost"
    doc["tasks"][1]["preferred_workers"] = "courier-zhao"
    assert paths_of(doc) == {
        "$.tasks[0].pickup.location",
        "$.tasks[0].pinned_worker",
        "$.tasks[1].preferred_workers",
    }


@pytest.mark.parametrize("priority", [-1, 101, 50.5, "high", True])
def test_priority_is_an_integer_from_0_to_100(load, priority: Any) -> None:
    doc = load("priority_drops_lowest")
    doc["tasks"][0]["priority"] = priority
    assert paths_of(doc) == {"$.tasks[0].priority"}


def test_wrong_nesting_is_named_where_it_is(load) -> None:
    doc = load("multiple_windows")
    doc["tasks"][0]["windows"] = ["2026-11-23T09:00:00+08:00", "2026-11-23T10:00:00+08:00"]
    doc["workers"][0]["shift"] = [["2026-11-23T08:00:00+08:00", "2026-11-23T17:00:00+08:00"]]
    doc["tasks"][1]["skills"] = "basic_care"
    doc["workers"] = doc["workers"] + [{"worker": doc["workers"][0]}]
    assert paths_of(doc) >= {
        "$.tasks[0].windows[0]",
        "$.tasks[0].windows[1]",
        "$.workers[0].shift",
        "$.tasks[1].skills",
        "$.workers[1].worker",
    }


def test_duplicate_workers_and_breaks_are_errors(load) -> None:
    doc = load("break_in_window")
    doc["workers"].append(copy.deepcopy(doc["workers"][0]))
    doc["workers"][0]["breaks"].append(copy.deepcopy(doc["workers"][0]["breaks"][0]))
    assert paths_of(doc) == {"$.workers[1].id", "$.workers[0].breaks[1].id"}


def test_non_finite_and_huge_numbers_are_errors(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["locations"][0]["lat"] = float("nan")
    doc["locations"][1]["lon"] = float("inf")
    doc["tasks"][0]["duration"] = 10**30
    doc["workers"][0]["max_tasks"] = 2**63
    doc["options"] = {"time_limit": float("inf"), "seed": 1.5}
    assert paths_of(doc) == {
        "$.locations[0].lat",
        "$.locations[1].lon",
        "$.tasks[0].duration",
        "$.workers[0].max_tasks",
        "$.options.time_limit",
        "$.options.seed",
    }


def test_empty_lists_are_a_problem_with_nothing_to_do() -> None:
    doc = {"version": 1, "locations": [], "matrix": {"durations": []}, "workers": [], "tasks": []}
    plan = solve_document(doc)
    assert plan["status"] == "solved" and plan["routes"] == [] and plan["unassigned"] == []


def test_a_well_formed_task_nobody_can_serve_is_not_malformed(load) -> None:
    doc = load("window_closes_before_shift")  # windows outside the shift, a visit too long
    assert solve_document(doc, time_limit_s=1)["status"] == "solved"


WEIRD = [
    None,
    [],
    {},
    "x",
    "",
    -1,
    0,
    1.5,
    True,
    float("nan"),
    float("inf"),
    [[]],
    {"id": 1},
    "2026-11-23T08:00:00",
    "0001-01-01T00:00:00+08:00",
    ["2026-11-23T08:00:00+08:00"],
    ["2026-11-23T09:00:00+08:00", "2026-11-23T08:00:00+08:00"],
    10**30,
    -(2**63),
]


def _holders(doc: Any) -> list[tuple[Any, Any]]:
    """Every ``(container, key)`` in ``doc``, depth first."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            continue
        for k, v in items:
            out.append((node, k))
            stack.append(v)
    return out


def _mutations(doc: Any, rng: random.Random) -> Any:
    """Change one to three randomly chosen values anywhere in ``doc``: replace one by
    something odd, delete it, duplicate it (a repeated id) or move another value there."""
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        holders = _holders(doc)
        if not holders:
            break
        node, key = rng.choice(holders)
        op = rng.random()
        if op < 0.6:
            node[key] = copy.deepcopy(rng.choice(WEIRD))
        elif op < 0.75:
            del node[key]
        elif op < 0.85 and isinstance(node, list):
            node.append(copy.deepcopy(node[key]))
        else:
            other, k = rng.choice(holders)
            node[key] = copy.deepcopy(other[k])
    return doc


FUZZED = ["cold_chain_max_ride", "break_in_window", "pinned_task", "en_route_replanning"]


@pytest.mark.parametrize("name", FUZZED)
def test_fuzzed_documents_parse_or_fail_with_paths_never_with_a_traceback(load, name: str) -> None:
    rng = random.Random(name)
    for _ in range(300):
        doc = _mutations(load(name), rng)
        try:
            parse_problem(copy.deepcopy(doc))
        except InvalidProblem as e:
            assert e.errors and all(e["path"].startswith("$") and e["message"] for e in e.errors)


@pytest.mark.parametrize("name", FUZZED)
def test_fuzzed_documents_that_parse_are_solved_and_pass_both_checkers(load, name: str) -> None:
    rng = random.Random(f"solve {name}")
    solved = 0
    for _ in range(400):
        doc = _mutations(load(name), rng)
        try:
            problem = parse_problem(copy.deepcopy(doc))
        except InvalidProblem:
            continue
        plan = solve_document(copy.deepcopy(doc), time_limit_s=0.3)
        assert plan["status"] == "solved"
        assert breaches(problem, plan) == []
        if isinstance(doc.get("matrix"), dict):  # the independent checker needs it
            assert check_plan.check(doc, plan)[0] == []
        solved += 1
        if solved == 8:
            break
