"""Why a task is unassigned: the first rule that rules out every worker, in plain words."""

from __future__ import annotations

from typing import Any

from dispatch.diagnose import candidate_workers, diagnose
from dispatch.problem import Problem, parse_problem


def why(doc: dict[str, Any], task_id: str) -> tuple[str, str]:
    problem = parse_problem(doc)
    u = diagnose(problem, _task(problem, task_id))
    return u.reason, u.detail


def _task(problem: Problem, task_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in problem.tasks if t.id == task_id)


def test_a_skill_missing_in_the_district_names_the_skill_and_the_district(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["districts"] = ["heping"]  # Li, the picc nurse, works elsewhere
    assert why(doc, "visit-zhang-picc") == (
        "no_worker_with_skills",
        "needs picc; no nurse in hexi has it",
    )


def test_a_skill_nobody_has_says_so(load) -> None:
    assert why(load("two_nurses_one_skill"), "visit-zhang-wound") == (
        "no_worker_with_skills",
        "needs wound_care; no nurse has it",
    )


def test_a_district_nobody_covers_is_no_worker_in_district(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][1]["district"] = "nankai"
    assert why(doc, "visit-chen") == (
        "no_worker_in_district",
        "in nankai; no nurse with basic_care works there",
    )


def test_kind_is_checked_before_skills(load) -> None:
    doc = load("courier_cannot_visit")
    doc["tasks"][0]["skills"] = ["picc"]
    reason, detail = why(doc, "visit-a")
    assert reason == "no_worker_of_kind"
    assert detail == "a visit needs a nurse; there is no nurse"


def test_skills_are_checked_before_time(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][0]["skills"] = ["picc"]  # visit-early: wrong skill and a window before the shift
    assert why(doc, "visit-early")[0] == "no_worker_with_skills"


def test_a_window_that_closes_before_the_shift_is_unreachable(load) -> None:
    reason, detail = why(load("window_closes_before_shift"), "visit-early")
    assert reason == "time_window_unreachable"
    assert "06:00-07:00" in detail and "08:15" in detail


def test_a_window_that_opens_after_the_shift_is_unreachable(load) -> None:
    assert why(load("window_closes_before_shift"), "visit-late")[0] == "time_window_unreachable"


def test_a_visit_longer_than_the_shift_is_shift_too_short(load) -> None:
    reason, detail = why(load("window_closes_before_shift"), "visit-too-long")
    assert reason == "shift_too_short"
    assert "18:30" in detail  # when serving it and getting home would end


def test_a_load_larger_than_any_capacity_is_capacity(load) -> None:
    assert why(load("capacity_overflow"), "parcel-big") == (
        "capacity",
        "needs parcels=3; the largest courier who can reach it (courier-zhao) holds parcels=2",
    )


def test_a_worker_without_a_capacity_name_carries_none_of_it(load) -> None:
    doc = load("capacity_overflow")
    doc["tasks"][0]["load"] = {"parcels": 1, "cold": 1}
    assert why(doc, "parcel-a")[0] == "capacity"


def test_a_ride_longer_than_max_ride_even_straight_there_is_unreachable(load) -> None:
    reason, detail = why(load("cold_chain_max_ride"), "parcel-cold-z")
    assert reason == "time_window_unreachable"
    assert detail == "the ride from pharmacy-1 to patient-z takes 20 min, over max_ride 15 min"


def test_a_task_feasible_alone_is_not_worth_serving(load) -> None:
    reason, detail = why(load("priority_drops_lowest"), "visit-low")
    assert reason == "not_worth_serving"
    assert "nurse-li could serve it alone" in detail


def test_a_pinned_task_considers_only_its_worker(load) -> None:
    problem = parse_problem(load("pinned_task"))
    assert [w.id for w in candidate_workers(problem, _task(problem, "visit-pinned"))] == [
        "nurse-wang"
    ]
    assert [w.id for w in candidate_workers(problem, _task(problem, "visit-free"))] == [
        "nurse-li",
        "nurse-wang",
    ]


def test_a_task_pinned_to_a_worker_of_the_other_kind_says_who(load) -> None:
    doc = load("courier_cannot_visit")
    doc["tasks"][0]["pinned_worker"] = "courier-zhao"
    assert why(doc, "visit-a") == (
        "no_worker_of_kind",
        "a visit needs a nurse; courier-zhao is a courier",
    )
