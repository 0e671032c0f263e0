"""``build_day_problem``: which rows become which part of the problem document."""
from __future__ import annotations

from datetime import timedelta

from dispatch.models import Shift
from dispatch.problem import parse_problem
from dispatch.service import build_day_problem
from doorstep.db import session
from tests.dispatch.service_helpers import accepted_visit, ready_parcel, worker
from tests.factories import SERVICE_DATE, at


def test_the_day_problem_holds_accepted_visits_ready_parcels_and_the_workers_on_shift(personas) -> None:
    visit = accepted_visit(personas, service_code="picc_maintenance")
    parcel = ready_parcel(personas, cold_chain=True)
    doc, index = build_day_problem(SERVICE_DATE)

    assert parse_problem(doc) is not None  # the optimiser accepts it as it is
    tasks = {t["id"]: t for t in doc["tasks"]}
    assert index.orders == {f"visit-{visit}": visit, f"delivery-{parcel}": parcel}
    visit_task = tasks[f"visit-{visit}"]
    assert visit_task["skills"] == ["picc", "rn_5y", "home_care_qualified"] and visit_task["duration"] == 45 * 60
    assert visit_task["windows"] == [["2026-11-23T09:00:00+08:00", "2026-11-23T12:00:00+08:00"]]
    assert visit_task["district"] == "heping" and visit_task["priority"] == 50
    parcel_task = tasks[f"delivery-{parcel}"]
    assert parcel_task["pickup"] == {"location": f"pharmacy-{personas['pharmacy']['heping']}", "duration": 120}
    assert parcel_task["dropoff"]["duration"] == 180 and parcel_task["load"] == {"parcels": 1}
    assert parcel_task["skills"] == ["cold_chain"] and parcel_task["max_ride"] == 120 * 60  # DOORSTEP_COLD_CHAIN_MAX_MINUTES

    workers = {w["id"]: w for w in doc["workers"]}
    assert set(index.workers.values()) == {personas[n]["worker_id"] for n in ("nurse_li", "nurse_zhou", "courier_zhao")}
    courier = workers[f"courier-{personas['courier_zhao']['worker_id']}"]
    assert courier["capacity"] == {"parcels": 30} and courier["start"] == courier["end"]
    assert courier["shift"] == ["2026-11-23T08:00:00+08:00", "2026-11-23T17:00:00+08:00"]
    n = len(doc["locations"])
    assert set(doc["matrices"]) == {"nurse", "courier"}
    assert len(doc["matrices"]["nurse"]["durations"]) == n
    # The same trip is slower on an e-bike than by car.
    assert doc["matrices"]["courier"]["durations"][0][1] > doc["matrices"]["nurse"]["durations"][0][1]
    assert doc["options"] == {"time_limit": 2, "seed": 1}


def test_orders_of_other_days_or_not_yet_released_stay_out(personas) -> None:
    accepted_visit(personas)
    doc, _ = build_day_problem("2026-11-24")
    assert doc["tasks"] == [] and doc["workers"] == []


def test_a_district_filter_keeps_its_orders_and_the_workers_who_serve_it(personas) -> None:
    heping = accepted_visit(personas, patient="patient_wang")
    nankai = accepted_visit(personas, patient="patient_liu")
    _doc, index = build_day_problem(SERVICE_DATE, ["heping"])
    assert list(index.orders.values()) == [heping]
    assert nankai not in index.orders.values()
    assert personas["nurse_zhou"]["worker_id"] not in index.workers.values()  # serves nankai only


def test_inactive_workers_and_workers_off_shift_are_not_planned(personas) -> None:
    zhou = worker(personas, "nurse_zhou")
    zhou.active = False
    zhao = worker(personas, "courier_zhao")
    zhao.shifts = [Shift(start=at("08:00") + timedelta(days=1), end=at("17:00") + timedelta(days=1))]
    session.commit()
    _, index = build_day_problem(SERVICE_DATE)
    assert list(index.workers.values()) == [personas["nurse_li"]["worker_id"]]


def test_a_split_shift_becomes_two_problem_workers_of_the_same_person(personas) -> None:
    li = worker(personas, "nurse_li")
    li.shifts = [Shift(start=at("08:00"), end=at("12:00")), Shift(start=at("14:00"), end=at("18:00"))]
    session.commit()
    doc, index = build_day_problem(SERVICE_DATE)
    mine = [w for w in doc["workers"] if index.workers[w["id"]] == li.id]
    assert [w["shift"][0][11:16] for w in mine] == ["08:00", "14:00"]
    assert len({w["id"] for w in mine}) == 2
