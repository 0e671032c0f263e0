"""Solving the named instances: who gets what, in which order, at what time.

Every plan here is checked by the independent plan checker (``solve_checked``).
"""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.problem import parse_problem
from dispatch.search import solve, solve_document
from tests.dispatch.city import make_city
from tests.dispatch.conftest import detail_of, reason_of, stops_of, worker_of


def at(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def test_the_picc_visit_goes_to_the_only_nurse_with_picc_even_though_it_is_far(
    load, solve_checked
) -> None:
    plan = solve_checked(load("two_nurses_one_skill"))
    assert worker_of(plan, "visit-zhang-picc") == "nurse-li"
    assert worker_of(plan, "visit-chen") == "nurse-li"
    assert reason_of(plan, "visit-zhang-wound") == "no_worker_with_skills"


def test_a_courier_collects_at_the_pharmacy_before_dropping_off(load, solve_checked) -> None:
    plan = solve_checked(load("pickup_before_dropoff"))
    order = [(s["type"], s.get("task")) for s in stops_of(plan, "courier-zhao")]
    assert order == [
        ("start", None),
        ("dropoff", "parcel-b"),
        ("pickup", "parcel-a"),
        ("dropoff", "parcel-a"),
        ("end", None),
    ]
    pickup = next(s for s in stops_of(plan, "courier-zhao") if s["type"] == "pickup")
    assert pickup["start"] == "2026-11-23T10:00:00+08:00"  # the pharmacy opens at 10


def test_parcels_loaded_at_the_start_count_against_capacity_until_dropped(
    load, solve_checked
) -> None:
    plan = solve_checked(load("capacity_overflow"))
    stops = [(s["type"], s.get("task")) for s in stops_of(plan, "courier-zhao")]
    served = {t for _, t in stops if t}
    assert served == {"parcel-a", "parcel-b", "parcel-c"}
    # Two parcels leave the depot; the pharmacy parcel fits only after one is delivered.
    assert stops.index(("pickup", "parcel-c")) > min(
        stops.index(("dropoff", "parcel-a")), stops.index(("dropoff", "parcel-b"))
    )
    assert reason_of(plan, "parcel-d") == "not_worth_serving"  # the lowest priority of the three
    assert reason_of(plan, "parcel-big") == "capacity"


def test_a_cold_parcel_rides_no_longer_than_its_max_ride(load, solve_checked) -> None:
    plan = solve_checked(load("cold_chain_max_ride"))
    stops = stops_of(plan, "courier-zhao")
    pickup = next(s for s in stops if s["type"] == "pickup" and s["task"] == "parcel-cold-x")
    drop = next(s for s in stops if s["type"] == "dropoff" and s["task"] == "parcel-cold-x")
    assert at(drop["start"]) - at(pickup["end"]) <= 900
    assert worker_of(plan, "parcel-cold-x") == "courier-zhao"  # the only one with cold_chain
    assert reason_of(plan, "parcel-cold-z") == "time_window_unreachable"
    assert "max_ride" in detail_of(plan, "parcel-cold-z")


def _two_cold_parcels(max_ride: int) -> dict:
    """Two cold parcels at one pharmacy: one for a patient near it, one far beyond.

    Carried together, whichever is dropped second rides over 1,000 s (near then far:
    the far one rides 60 + 300 + 180 + 700 = 1,240 s); one trip each keeps both rides
    under 1,000 s but drives back to the pharmacy in between.
    """
    shift = ["2026-11-23T08:00:00+08:00", "2026-11-23T17:00:00+08:00"]
    d = [[0, 300, 500, 1100], [300, 0, 300, 900], [500, 300, 0, 700], [1100, 900, 700, 0]]
    return {
        "version": 1,
        "locations": [
            {"id": i, "lat": 39.1 + k / 100, "lon": 117.2}
            for k, i in enumerate(["depot", "pharmacy", "near", "far"])
        ],
        "matrix": {"durations": d, "distances": d},
        "workers": [
            {"id": "courier-zhao", "kind": "courier", "skills": [], "districts": ["hexi"],
             "start": "depot", "end": "depot", "shift": shift}
        ],
        "tasks": [
            {"id": f"parcel-{where}", "kind": "delivery", "district": "hexi",
             "pickup": {"location": "pharmacy", "duration": 60},
             "dropoff": {"location": where, "duration": 180}, "max_ride": max_ride}
            for where in ("near", "far")
        ],
    }


def test_two_cold_parcels_go_in_two_trips_when_together_one_would_ride_too_long(
    solve_checked,
) -> None:
    plan = solve_checked(_two_cold_parcels(max_ride=1000))
    assert plan["unassigned"] == []
    types = [s["type"] for s in stops_of(plan, "courier-zhao")]
    assert types == ["start", "pickup", "dropoff", "pickup", "dropoff", "end"]


def test_with_time_to_spare_both_cold_parcels_ride_together(solve_checked) -> None:
    plan = solve_checked(_two_cold_parcels(max_ride=1300))
    types = [s["type"] for s in stops_of(plan, "courier-zhao")]
    assert types == ["start", "pickup", "pickup", "dropoff", "dropoff", "end"]


def test_a_parcel_loaded_at_the_start_never_rides_over_its_limit_while_the_courier_waits(
    solve_checked,
) -> None:
    """The model bounds such a ride by travel and service only; the exact timing keeps it."""
    doc = _two_cold_parcels(max_ride=1200)
    doc["tasks"] = doc["tasks"][1:]
    del doc["tasks"][0]["pickup"]
    # The far patient is in only from 10:00: leaving at 08:00, the parcel would ride two hours.
    doc["tasks"][0]["dropoff"]["windows"] = [
        ["2026-11-23T10:00:00+08:00", "2026-11-23T11:00:00+08:00"]
    ]
    plan = solve_checked(doc)  # the checker measures each ride from the departure
    assert plan["unassigned"] == []
    start, far = stops_of(plan, "courier-zhao")[:2]
    assert far["start"] == "2026-11-23T10:00:00+08:00"
    assert start["departure"] == "2026-11-23T09:41:40+08:00"  # 1,100 s before: no waiting


def test_lunch_starts_inside_its_window_between_two_stops(load, solve_checked) -> None:
    plan = solve_checked(load("break_in_window"))
    stops = stops_of(plan, "nurse-li")
    k = next(k for k, s in enumerate(stops) if s["type"] == "break")
    lunch = stops[k]
    assert "2026-11-23T12:00:00+08:00" <= lunch["start"] <= "2026-11-23T13:00:00+08:00"
    assert at(lunch["end"]) - at(lunch["start"]) == 1800
    assert stops[k - 1]["type"] == "visit" and stops[k + 1]["type"] == "visit"
    assert at(stops[k - 1]["end"]) <= at(lunch["start"])
    assert len(plan["unassigned"]) == 0


def test_a_break_is_taken_before_driving_on_so_the_later_visit_cannot_also_fit(
    load, solve_checked
) -> None:
    # OR-Tools alone would drive to visit-2 and lunch at its door; the contract does not.
    plan = solve_checked(load("break_before_travel"))
    assert worker_of(plan, "visit-1") == "nurse-li"
    # Not even alone: lunch at home makes her late, and she may not lunch at the door first.
    assert reason_of(plan, "visit-2") == "time_window_unreachable"
    assert "around nurse-li's lunch" in detail_of(plan, "visit-2")


def test_a_pinned_visit_goes_to_its_worker_however_far(load, solve_checked) -> None:
    plan = solve_checked(load("pinned_task"))
    assert worker_of(plan, "visit-pinned") == "nurse-wang"
    assert reason_of(plan, "visit-pinned-picc") == "no_worker_with_skills"
    assert detail_of(plan, "visit-pinned-picc").startswith("pinned to nurse-wang")


def test_service_starts_in_the_first_window_that_can_be_reached(load, solve_checked) -> None:
    plan = solve_checked(load("multiple_windows"))
    starts = {s["task"]: s["start"] for s in stops_of(plan, "nurse-li") if s["type"] == "visit"}
    assert starts["visit-zhang"] == "2026-11-23T10:00:00+08:00"  # 08:05-08:10 is out of reach
    assert starts["visit-chen"] == "2026-11-23T11:30:00+08:00"  # 09:30-09:40 would make zhang late


def test_when_not_all_fit_the_lowest_priority_is_left_out(load, solve_checked) -> None:
    plan = solve_checked(load("priority_drops_lowest"))
    assert [u["task"] for u in plan["unassigned"]] == ["visit-low"]
    assert reason_of(plan, "visit-low") == "not_worth_serving"


def test_a_visit_with_only_couriers_on_shift_has_no_worker_of_its_kind(load, solve_checked) -> None:
    plan = solve_checked(load("courier_cannot_visit"))
    assert worker_of(plan, "parcel-a") == "courier-zhao"
    assert reason_of(plan, "visit-a") == "no_worker_of_kind"


def test_a_preferred_nurse_is_chosen_when_it_costs_little_but_not_at_any_price(
    load, solve_checked
) -> None:
    plan = solve_checked(load("preferred_worker"))
    assert worker_of(plan, "visit-zhao") == "nurse-wang"  # 400 s more travel: honoured
    assert worker_of(plan, "visit-sun") == "nurse-li"  # 2,400 s more: not


def test_a_worker_without_end_finishes_at_the_last_task(load, solve_checked) -> None:
    doc = load("two_nurses_one_skill")
    del doc["workers"][0]["end"]
    plan = solve_checked(doc)
    assert stops_of(plan, "nurse-li")[-1]["type"] == "visit"


def test_re_planning_starts_the_route_where_the_worker_is(load, solve_checked) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["en_route"] = {
        "location": "patient-zhang",
        "time": "2026-11-23T10:42:00+08:00",
    }
    plan = solve_checked(doc)
    first = stops_of(plan, "nurse-li")[0]
    assert first["location"] == "patient-zhang"
    assert first["departure"] >= "2026-11-23T10:42:00+08:00"


def test_max_tasks_caps_a_route(load, solve_checked) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"][0]["max_tasks"] = 1
    plan = solve_checked(doc)
    assert len([s for s in stops_of(plan, "nurse-li") if s["type"] == "visit"]) == 1
    assert worker_of(plan, "visit-zhang-picc") == "nurse-li"  # only she has picc
    assert worker_of(plan, "visit-chen") == "nurse-wang"


def test_couriers_travel_by_their_own_matrix(load, solve_checked) -> None:
    doc = load("courier_cannot_visit")
    slow = [[4 * v for v in row] for row in doc["matrix"]["durations"]]
    doc["matrices"] = {"courier": {"durations": slow, "distances": doc["matrix"]["distances"]}}
    plan = solve_checked(doc)
    (route,) = plan["routes"]
    assert route["travel_time"] == 2 * 4 * 600


def test_times_are_rendered_in_the_offset_of_the_workers_shift(load, solve_checked) -> None:
    doc = load("courier_cannot_visit")
    doc["workers"][0]["shift"] = ["2026-11-23T00:00:00Z", "2026-11-23T09:00:00Z"]
    plan = solve_checked(doc)
    times = [
        v
        for s in plan["routes"][0]["stops"]
        for k, v in s.items()
        if k in ("arrival", "start", "end", "departure")
    ]
    assert times and all(t.endswith("+00:00") for t in times)


def test_the_summary_adds_up_the_routes(load, solve_checked) -> None:
    plan = solve_checked(load("two_nurses_one_skill"))
    summary = plan["summary"]
    assert summary["assigned"] == 2 and summary["unassigned"] == 1
    assert summary["travel_time"] == sum(r["travel_time"] for r in plan["routes"]) == 3300
    assert summary["distance"] == 8 * 3300 and summary["engine"] == "ortools"
    assert plan["routes"][0]["service_time"] == 3600


def test_the_same_seed_gives_the_same_plan() -> None:
    doc = make_city(12, seed=5)
    first = solve_document(doc, time_limit_s=5, seed=3)
    second = solve_document(doc, time_limit_s=5, seed=3)
    assert first["routes"] == second["routes"]
    assert first["summary"]["solve_seconds"] < 2.5  # ended by stalling, not by a clock (2.9 s cap)


def test_progress_is_reported_at_start_first_solution_and_end(load) -> None:
    calls: list[tuple[float, str]] = []
    solve(
        parse_problem(load("two_nurses_one_skill")),
        time_limit_s=2,
        on_progress=lambda f, m: calls.append((f, m)),
    )
    assert calls[0][0] == 0.0
    assert any(m.startswith("first solution") for _, m in calls)
    assert calls[-1][0] == 1.0 and calls[-1][1].startswith("done")
    assert [f for f, _ in calls] == sorted(f for f, _ in calls)


def test_an_error_in_the_progress_callback_reaches_the_caller(load) -> None:
    def broken(fraction: float, message: str) -> None:
        raise RuntimeError("progress store is down")

    with pytest.raises(RuntimeError, match="progress store is down"):
        solve(parse_problem(load("two_nurses_one_skill")), time_limit_s=1, on_progress=broken)


def test_no_workers_leaves_every_task_unassigned_with_a_reason(load) -> None:
    doc = load("two_nurses_one_skill")
    doc["workers"] = []
    plan = solve_document(doc)
    assert plan["routes"] == []
    assert {u["reason"] for u in plan["unassigned"]} == {"no_worker_of_kind"}


def test_without_a_matrix_the_geodesic_table_is_used(load, solve_checked) -> None:
    matrix = pytest.importorskip("routing.matrix")
    doc = load("pinned_task")
    del doc["matrix"]
    plan = solve_document(doc, time_limit_s=1)
    assert plan["status"] == "solved"
    points = [(loc["lat"], loc["lon"]) for loc in doc["locations"]]
    durations, distances = matrix.geodesic_table(points, "car")
    doc["matrix"] = {"durations": durations, "distances": distances}
    assert solve_checked(doc)["routes"] == plan["routes"]
