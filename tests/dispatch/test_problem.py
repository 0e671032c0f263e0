"""Reading a problem document: validated once, every fault reported with its JSON path."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from dispatch.problem import InvalidProblem, parse_problem
from dispatch.search import solve_document


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
    [[]],
    {"id": 1},
    "2026-11-23T08:00:00",
    ["2026-11-23T08:00:00+08:00"],
    10**30,
]


def _mutations(doc: Any, rng: random.Random) -> Any:
    """Replace one randomly chosen value anywhere in ``doc`` by something odd."""
    doc = copy.deepcopy(doc)
    holders: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for k, v in items:
            holders.append((node, k))
            walk(v)

    walk(doc)
    node, key = rng.choice(holders)
    node[key] = rng.choice(WEIRD)
    return doc


@pytest.mark.parametrize("name", ["cold_chain_max_ride", "break_in_window", "pinned_task"])
def test_fuzzed_documents_parse_or_fail_with_paths_never_with_a_traceback(load, name: str) -> None:
    rng = random.Random(name)
    for _ in range(300):
        doc = _mutations(load(name), rng)
        try:
            parse_problem(doc)
        except InvalidProblem as e:
            assert e.errors and all(e["path"].startswith("$") and e["message"] for e in e.errors)
