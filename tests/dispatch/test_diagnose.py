"""Why a task is unassigned: the first rule that rules out every worker, in plain words.

The order is kind, skills, district, window, shift, capacity, then not worth serving
(see :mod:`dispatch.diagnose`); each rule is judged on the task alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.diagnose import candidate_workers, diagnose
from dispatch.plan import REASONS
from dispatch.problem import Problem, parse_problem
from tests.dispatch.conftest import detail_of, reason_of


def why(doc: dict[str, Any], task_id: str) -> tuple[str, str]:
    problem = parse_problem(doc)
    u = diagnose(problem, _task(problem, task_id))
    return u.reason, u.detail


def _task(problem: Problem, task_id: str):  # type: ignore[no-untyped-def]
    return next(t for t in problem.tasks if t.id == task_id)


# -- one task per reason, solved end to end ----------------------------------------

ONE_REASON_EACH = {
    "visit-pinned-to-courier": (
        "no_worker_of_kind",
        "a visit needs a nurse; courier-zhao is a courier",
    ),
    "visit-wound": ("no_worker_with_skills", "needs wound_care; no nurse has it"),
    "visit-picc-heping": (
        "no_worker_with_skills",
        "needs picc; no nurse in heping has it (nurse-li has it but works elsewhere)",
    ),
    "visit-nankai": ("no_worker_in_district", "no nurse works in nankai"),
    "visit-at-dawn": (
        "time_window_unreachable",
        "window 06:00–07:00 closes before nurse-li can arrive (earliest 08:10)",
    ),
    "visit-ten-hours": (
        "shift_too_short",
        "nurse-li's shift ends at 17:00, but serving it and getting back takes until 18:20",
    ),
    "visit-over-lunch": (
        "time_window_unreachable",
        "window 11:00–12:00 cannot be met around nurse-li's lunch (30 min, starting 12:00–12:30)",
    ),
    "visit-all-day": (
        "shift_too_short",
        (
            "nurse-li cannot fit it and lunch (30 min, starting 12:00–12:30) "
            "into the shift 08:00–17:00"
        ),
    ),
    "parcel-three": (
        "capacity",
        "needs parcels=3; the largest courier who can reach it (courier-zhao) holds parcels=2",
    ),
    "visit-routine": (
        "not_worth_serving",
        "nurse-li could serve it alone, but it was left out for other tasks (priority 10)",
    ),
}


def test_every_impossible_task_carries_its_reason_in_a_solved_plan(load, solve_checked) -> None:
    plan = solve_checked(load("one_reason_each"))
    got = {u["task"]: (u["reason"], u["detail"]) for u in plan["unassigned"]}
    assert got == ONE_REASON_EACH
    assert {reason for reason, _ in got.values()} == set(REASONS)


@pytest.mark.parametrize("task_id", sorted(ONE_REASON_EACH))
def test_the_diagnosis_alone_agrees_with_the_plan(load, task_id: str) -> None:
    assert why(load("one_reason_each"), task_id) == ONE_REASON_EACH[task_id]


def test_reasons_are_listed_in_their_order_of_precedence() -> None:
    assert REASONS == (
        "no_worker_of_kind",
        "no_worker_with_skills",
        "no_worker_in_district",
        "time_window_unreachable",
        "shift_too_short",
        "capacity",
        "not_worth_serving",
    )


# -- kind ----------------------------------------------------------------------------


def test_kind_is_checked_before_skills(load) -> None:
    doc = load("courier_cannot_visit")
    doc["tasks"][0]["skills"] = ["picc"]
    assert why(doc, "visit-a") == ("no_worker_of_kind", "a visit needs a nurse; there is no nurse")


def test_a_task_pinned_to_a_worker_of_the_other_kind_says_who(load) -> None:
    doc = load("courier_cannot_visit")
    doc["tasks"][0]["pinned_worker"] = "courier-zhao"
    assert why(doc, "visit-a") == (
        "no_worker_of_kind",
        "a visit needs a nurse; courier-zhao is a courier",
    )


# -- skills and district -------------------------------------------------------------


def test_a_skill_nobody_has_says_so(load) -> None:
    assert why(load("two_nurses_one_skill"), "visit-zhang-wound") == (
        "no_worker_with_skills",
        "needs wound_care; no nurse has it",
    )


def test_a_skill_found_only_outside_the_district_is_a_skills_gap_naming_who_has_it(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["districts"] = ["heping"]  # Li, the picc nurse, works elsewhere
    assert why(doc, "visit-zhang-picc") == (
        "no_worker_with_skills",
        "needs picc; no nurse in hexi has it (nurse-li has it but works elsewhere)",
    )


def test_a_district_nobody_covers_is_no_worker_in_district(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][1]["district"] = "nankai"
    assert why(doc, "visit-chen") == ("no_worker_in_district", "no nurse works in nankai")


def test_a_skill_nobody_has_in_a_district_nobody_covers_is_a_skills_gap_mentioning_both(
    load,
) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][2]["district"] = "nankai"
    assert why(doc, "visit-zhang-wound") == (
        "no_worker_with_skills",
        "needs wound_care; no nurse has it (and no nurse works in nankai)",
    )


def test_skills_are_checked_before_time(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][0]["skills"] = ["picc"]  # visit-early: wrong skill and a window before the shift
    assert why(doc, "visit-early")[0] == "no_worker_with_skills"


def test_a_district_is_checked_before_time(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][0]["district"] = "nankai"
    assert why(doc, "visit-early")[0] == "no_worker_in_district"


def test_a_pinned_worker_without_the_skill_is_named(load) -> None:
    assert why(load("pinned_task"), "visit-pinned-picc") == (
        "no_worker_with_skills",
        "pinned to nurse-wang, who lacks picc",
    )


def test_a_pinned_worker_outside_the_district_is_named(load) -> None:
    doc = load("pinned_task")
    doc["workers"][1]["districts"] = ["heping"]
    assert why(doc, "visit-pinned") == (
        "no_worker_in_district",
        "pinned to nurse-wang, who does not work in hexi",
    )


# -- time ----------------------------------------------------------------------------


def test_a_window_that_closes_before_the_shift_is_unreachable(load) -> None:
    assert why(load("window_closes_before_shift"), "visit-early") == (
        "time_window_unreachable",
        "window 06:00–07:00 closes before nurse-li can arrive (earliest 08:15)",
    )


def test_a_window_that_opens_after_the_shift_is_unreachable(load) -> None:
    assert why(load("window_closes_before_shift"), "visit-late") == (
        "time_window_unreachable",
        "window 18:00–19:00 opens after nurse-li's shift ends (17:00)",
    )


def test_with_several_workers_the_earliest_arrival_is_named(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["tasks"][1]["windows"] = [["2026-11-23T07:00:00+08:00", "2026-11-23T08:01:00+08:00"]]
    assert why(doc, "visit-chen") == (
        "time_window_unreachable",
        (
            "window 07:00–08:01 closes before any nurse with basic_care in hexi can arrive "
            "(earliest 08:05, nurse-li)"
        ),
    )


def test_a_window_missed_by_a_pinned_worker_says_pinned(load) -> None:
    doc = load("pinned_task")
    doc["tasks"][0]["windows"] = [["2026-11-23T08:00:00+08:00", "2026-11-23T08:30:00+08:00"]]
    assert why(doc, "visit-pinned") == (
        "time_window_unreachable",
        (
            "pinned to nurse-wang; window 08:00–08:30 closes before nurse-wang can arrive "
            "(earliest 08:40)"
        ),
    )


def test_a_drop_off_window_before_the_pickup_can_be_made_names_the_drop_off(load) -> None:
    doc = load("pickup_before_dropoff")
    doc["tasks"][0]["dropoff"]["windows"] = [
        ["2026-11-23T09:00:00+08:00", "2026-11-23T09:30:00+08:00"]
    ]
    reason, detail = why(doc, "parcel-a")
    assert reason == "time_window_unreachable"
    assert detail.startswith("drop-off window 09:00–09:30 closes before courier-zhao can arrive")


def test_a_visit_longer_than_the_shift_is_shift_too_short(load) -> None:
    assert why(load("window_closes_before_shift"), "visit-too-long") == (
        "shift_too_short",
        "nurse-li's shift ends at 17:00, but serving it and getting back takes until 18:30",
    )


def test_a_time_past_midnight_carries_its_date(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][2]["duration"] = 72000
    assert why(doc, "visit-too-long")[1].endswith("takes until 2026-11-24 04:30")


def test_a_window_is_checked_before_the_shift(load) -> None:
    doc = load("window_closes_before_shift")
    doc["tasks"][0]["duration"] = 36000  # too long for the shift, and the window is gone anyway
    assert why(doc, "visit-early")[0] == "time_window_unreachable"


def test_a_break_that_stands_in_the_way_of_a_window_makes_it_unreachable(load) -> None:
    doc = load("break_in_window")
    doc["tasks"][1]["duration"] = 7200  # 11:00-12:00 start, two hours: lunch must start by 12:30
    doc["workers"][0]["breaks"][0]["window"][1] = "2026-11-23T12:30:00+08:00"
    assert why(doc, "visit-2") == (
        "time_window_unreachable",
        "window 11:00–12:00 cannot be met around nurse-li's lunch (30 min, starting 12:00–12:30)",
    )
    assert candidate_workers(parse_problem(doc), _task(parse_problem(doc), "visit-2")) == []


def test_a_break_that_pushes_a_task_past_the_shift_end_is_shift_too_short(load) -> None:
    doc = load("break_in_window")
    del doc["tasks"][3]["windows"]
    doc["tasks"][3]["duration"] = 27000  # 08:10 to 15:40 spans lunch; after lunch, past 17:00
    assert why(doc, "visit-4") == (
        "shift_too_short",
        "nurse-li cannot fit it and lunch (30 min, starting 12:00–13:00) into the shift 08:00–17:00",
    )


def test_a_ride_longer_than_max_ride_even_straight_there_is_unreachable(load) -> None:
    reason, detail = why(load("cold_chain_max_ride"), "parcel-cold-z")
    assert reason == "time_window_unreachable"
    assert detail == "the ride from pharmacy-1 to patient-z takes 20 min, over max_ride 15 min"


def test_a_parcel_loaded_at_the_start_rides_from_the_start(load) -> None:
    doc = load("capacity_overflow")
    doc["tasks"][0]["max_ride"] = 60
    assert why(doc, "parcel-a") == (
        "time_window_unreachable",
        "the ride from the start (depot) to patient-a takes 5 min, over max_ride 1 min",
    )


def test_a_worker_whose_break_fills_the_rest_of_the_day_serves_nothing(load) -> None:
    doc = load("break_in_window")
    doc["workers"][0]["en_route"] = {"location": "p1", "time": "2026-11-23T12:50:00+08:00"}
    doc["workers"][0]["breaks"][0]["duration"] = 14400  # four hours from 12:50 at the latest
    problem = parse_problem(doc)
    assert all(candidate_workers(problem, t) == [] for t in problem.tasks)
    assert why(doc, "visit-4") == (
        "time_window_unreachable",
        "window 14:00–15:00 cannot be met around nurse-li's lunch (4 h, starting 12:00–13:00)",
    )


# -- capacity and the rest -------------------------------------------------------------


def test_a_load_larger_than_any_capacity_is_capacity(load) -> None:
    assert why(load("capacity_overflow"), "parcel-big") == (
        "capacity",
        "needs parcels=3; the largest courier who can reach it (courier-zhao) holds parcels=2",
    )


def test_a_worker_without_a_capacity_name_carries_none_of_it(load) -> None:
    doc = load("capacity_overflow")
    doc["tasks"][0]["load"] = {"parcels": 1, "cold": 1}
    assert why(doc, "parcel-a")[0] == "capacity"


def test_a_worker_who_may_take_no_tasks_is_capacity(load) -> None:
    doc = load("window_closes_before_shift")
    doc["workers"][0]["max_tasks"] = 0
    assert why(doc, "visit-fine") == ("capacity", "nurse-li may take no tasks (max_tasks 0)")


def test_time_is_checked_before_capacity(load) -> None:
    doc = load("capacity_overflow")
    doc["tasks"][4]["dropoff"]["windows"] = [
        ["2026-11-23T06:00:00+08:00", "2026-11-23T07:00:00+08:00"]
    ]
    assert why(doc, "parcel-big")[0] == "time_window_unreachable"


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


def test_the_plan_helpers_find_reasons_and_details(load, solve_checked) -> None:
    plan = solve_checked(load("two_nurses_one_skill"))
    assert reason_of(plan, "visit-zhang-wound") == "no_worker_with_skills"
    assert detail_of(plan, "visit-zhang-wound") == "needs wound_care; no nurse has it"
