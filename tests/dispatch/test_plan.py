"""Timing a route by the contract's rules, and the plan document's shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dispatch.plan import Plan, Route, Stop, Unassigned, build_route
from dispatch.problem import Problem, parse_problem
from tests.dispatch import check_plan


def at(hhmm: str) -> int:
    return int(datetime.fromisoformat(f"2026-11-23T{hhmm}:00+08:00").timestamp())


def visits_of(problem: Problem, *stops: tuple[str, str, str]) -> list[Any]:
    """``(type, task id, hh:mm)`` as the solver would hand them to build_route."""
    tasks = {t.id: t for t in problem.tasks}
    return [(typ, tasks[tid], dict(tasks[tid].stops)[typ], at(hhmm)) for typ, tid, hhmm in stops]


def as_plan(route: Route) -> dict[str, Any]:
    return Plan((route,), ()).to_json()


def test_a_break_the_solver_put_after_travel_moves_to_a_gap_where_it_fits(load) -> None:
    doc = load("break_before_travel")
    doc["workers"][0]["breaks"][0]["window"] = [
        "2026-11-23T12:00:00+08:00",
        "2026-11-23T12:40:00+08:00",
    ]
    problem = parse_problem(doc)
    lunch = problem.workers[0].breaks[0]
    # The solver's lunch: 12:00, after driving to p2; the contract has it taken at p1, too late.
    visits = visits_of(problem, ("visit", "visit-1", "11:20"), ("visit", "visit-2", "12:30"))
    route, dropped = build_route(problem, problem.workers[0], visits, [(lunch, at("12:00"))])
    assert dropped == []
    assert [s.type for s in route.stops] == ["start", "visit", "visit", "break", "end"]
    assert route.stops[3].start == at("12:30")
    doc["tasks"] = doc["tasks"][:2]
    breaches, _ = check_plan.check(doc, as_plan(route))
    assert breaches == []


def test_when_no_gap_fits_the_break_the_lowest_priority_task_is_dropped(load) -> None:
    problem = parse_problem(load("break_before_travel"))
    lunch = problem.workers[0].breaks[0]
    visits = visits_of(problem, ("visit", "visit-1", "11:20"), ("visit", "visit-2", "12:30"))
    route, dropped = build_route(problem, problem.workers[0], visits, [(lunch, at("12:00"))])
    assert [t.id for t in dropped] == ["visit-2"]
    assert [s.task for s in route.stops if s.task] == ["visit-1"]


def test_a_ride_limit_makes_the_courier_wait_before_the_pickup_not_after(load) -> None:
    doc = load("cold_chain_max_ride")
    doc["tasks"][0]["dropoff"]["windows"] = [
        ["2026-11-23T10:00:00+08:00", "2026-11-23T11:00:00+08:00"]
    ]
    problem = parse_problem(doc)
    visits = visits_of(
        problem, ("pickup", "parcel-cold-x", "08:05"), ("dropoff", "parcel-cold-x", "10:00")
    )
    route, _ = build_route(problem, problem.workers[0], visits, [])
    pickup, dropoff = route.stops[1], route.stops[2]
    assert dropoff.start == at("10:00")
    assert dropoff.start - pickup.end <= 900
    assert pickup.start == at("09:43")  # 10:00 - 15 min ride limit - 2 min pickup service
    assert route.stops[0].departure == at("09:38")  # no waiting at the pharmacy
    assert route.waiting_time_s == 300  # 5 min at the door: the ride limit allows it


def test_the_departure_is_as_late_as_the_first_stop_allows(load) -> None:
    problem = parse_problem(load("window_closes_before_shift"))
    visits = visits_of(problem, ("visit", "visit-fine", "09:00"))
    route, _ = build_route(problem, problem.workers[0], visits, [])
    assert route.stops[0].departure == at("08:45")
    assert route.waiting_time_s == 0
    assert (route.travel_time_s, route.service_time_s) == (1800, 1800)


def test_the_plan_document_has_the_contracts_keys_and_offsets() -> None:
    route = Route(
        "nurse-li",
        (
            Stop("start", location="home", departure=at("08:00")),
            Stop(
                "visit",
                location="p1",
                task="v1",
                arrival=at("08:10"),
                start=at("08:15"),
                end=at("08:45"),
            ),
            Stop("break", break_id="lunch", start=at("12:00"), end=at("12:30")),
            Stop("end", location="home", arrival=at("13:00")),
        ),
        600,
        6000,
        1800,
        300,
        utc_offset_s=8 * 3600,
    )
    doc = Plan((route,), (Unassigned("v2", "capacity", "too big"),), 42, 1.234).to_json()
    assert set(doc) == {"version", "status", "routes", "unassigned", "summary"}
    assert doc["status"] == "solved"
    stops = doc["routes"][0]["stops"]
    assert stops[0] == {
        "type": "start",
        "location": "home",
        "departure": "2026-11-23T08:00:00+08:00",
    }
    assert stops[1] == {
        "type": "visit",
        "task": "v1",
        "location": "p1",
        "arrival": "2026-11-23T08:10:00+08:00",
        "start": "2026-11-23T08:15:00+08:00",
        "end": "2026-11-23T08:45:00+08:00",
    }
    assert stops[2] == {
        "type": "break",
        "break": "lunch",
        "start": "2026-11-23T12:00:00+08:00",
        "end": "2026-11-23T12:30:00+08:00",
    }
    assert doc["routes"][0]["waiting_time"] == 300
    assert doc["unassigned"] == [{"task": "v2", "reason": "capacity", "detail": "too big"}]
    assert doc["summary"] == {
        "assigned": 1,
        "unassigned": 1,
        "travel_time": 600,
        "distance": 6000,
        "objective": 42,
        "solve_seconds": 1.23,
        "engine": "ortools",
    }
