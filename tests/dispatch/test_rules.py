"""One small problem per hard rule, each solved and checked by both plan checkers.

The rules not here have their instance in ``test_search.py``: skills
(``two_nurses_one_skill``), kinds (``courier_cannot_visit``), several windows
(``multiple_windows``), pickup and drop-off (``pickup_before_dropoff``), capacity with
parcels loaded at the start (``capacity_overflow``), ``max_ride``
(``cold_chain_max_ride``), breaks (``break_in_window``, ``break_before_travel``), pins
(``pinned_task``), priorities (``priority_drops_lowest``) and preferred workers
(``preferred_worker``).
"""

from __future__ import annotations

from datetime import datetime

from tests.dispatch.conftest import reason_of, stops_of, worker_of


def at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def tasks_of(plan: dict, worker_id: str) -> list[str]:
    return [s["task"] for s in stops_of(plan, worker_id) if s["type"] in ("visit", "dropoff")]


def test_each_visit_goes_to_the_nurse_of_its_district_not_the_nearest(load, solve_checked) -> None:
    plan = solve_checked(load("district_split"))
    assert worker_of(plan, "visit-hexi") == "nurse-li"  # nurse-wang lives next door, in heping
    assert worker_of(plan, "visit-heping") == "nurse-wang"


def test_a_visit_goes_to_the_nurse_whose_shift_covers_it(load, solve_checked) -> None:
    plan = solve_checked(load("morning_and_afternoon_shifts"))
    assert worker_of(plan, "visit-morning") == "nurse-li"
    assert worker_of(plan, "visit-afternoon") == "nurse-wang"
    li, wang = stops_of(plan, "nurse-li"), stops_of(plan, "nurse-wang")
    assert at(li[-1]["arrival"]) <= at("2026-11-23T12:00:00+08:00")
    assert at(wang[0]["departure"]) >= at("2026-11-23T13:00:00+08:00")


def test_a_long_visit_keeps_its_nurse_busy_so_another_takes_the_next(load, solve_checked) -> None:
    plan = solve_checked(load("service_durations"))
    assert worker_of(plan, "visit-long") == "nurse-li"
    assert worker_of(plan, "visit-short") == "nurse-wang"
    (long,) = [s for s in stops_of(plan, "nurse-li") if s.get("task") == "visit-long"]
    assert at(long["end"]) - at(long["start"]) == 7200
    assert plan["routes"][0]["service_time"] + plan["routes"][1]["service_time"] == 7800


def test_every_named_capacity_holds_along_the_route(load, solve_checked) -> None:
    plan = solve_checked(load("capacity_named_dimensions"))
    stops = [(s["type"], s.get("task")) for s in stops_of(plan, "courier-zhao")]
    # Two parcels leave the depot (parcels 3 of 3, cold 1 of 1); the cold pickup must wait
    # until the first cold parcel is delivered.
    assert stops.index(("pickup", "parcel-cold-c")) > stops.index(("dropoff", "parcel-cold-a"))
    assert set(tasks_of(plan, "courier-zhao")) == {"parcel-cold-a", "parcel-b", "parcel-cold-c"}
    assert reason_of(plan, "parcel-cold-pair") == "capacity"  # two cold units, room for one


def test_max_tasks_sends_the_third_visit_to_a_colleague(load, solve_checked) -> None:
    plan = solve_checked(load("max_tasks_caps_a_route"))
    assert sorted(tasks_of(plan, "nurse-li")) == ["visit-1", "visit-2"]
    assert tasks_of(plan, "nurse-wang") == ["visit-3"]


def test_re_planning_starts_where_the_nurse_is_and_drops_what_has_passed(
    load, solve_checked
) -> None:
    plan = solve_checked(load("en_route_replanning"))
    stops = stops_of(plan, "nurse-li")
    assert stops[0]["location"] == "patient-zhang"
    assert at(stops[0]["departure"]) >= at("2026-11-23T10:42:00+08:00")
    assert [s.get("task") or s.get("break") for s in stops[1:-1]] == [
        "visit-chen",
        "lunch",
        "visit-later",
    ]
    assert reason_of(plan, "visit-sun") == "time_window_unreachable"  # 09:00-10:00 has gone


def test_each_kind_travels_by_its_own_matrix(load, solve_checked) -> None:
    plan = solve_checked(load("matrices_per_kind"))
    nurse = next(r for r in plan["routes"] if r["worker"] == "nurse-li")
    courier = next(r for r in plan["routes"] if r["worker"] == "courier-zhao")
    assert (nurse["travel_time"], nurse["distance"]) == (1200, 8 * 1200)
    assert (courier["travel_time"], courier["distance"]) == (2400, 4 * 2400)
