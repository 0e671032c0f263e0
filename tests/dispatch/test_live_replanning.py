"""Live re-planning, urgent insertion, absences and booking slots, at the service level and over HTTP.

Nurse Li serves every district from 08:00 to 17:00; nurse Zhou only Nankai. Patient Wang lives
in Heping, so only nurse Li can visit her. Plans are solved by ``run_plan`` as a worker would.
"""
from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import select

from dispatch.models import PlanVersion, Route, Stop
from dispatch.replan import insert_order, replan_district
from doorstep.db import session
from orders.outbox import PLAN_CHANGED, OutboxEvent
from tests.dispatch.service_helpers import (
    accepted_visit,
    planned_day,
    routes_by_worker,
    status_of,
)
from tests.factories import SERVICE_DATE

ON_THE_DAY = f"{SERVICE_DATE}T10:00:00+08:00"


def test_an_order_accepted_after_the_plan_is_inserted_into_the_route_and_versioned(personas, hospital) -> None:
    hospital(max_open_care_orders=10)
    first = accepted_visit(personas, window=("09:00", "12:00"))
    plan_id = planned_day(personas)
    li = personas["nurse_li"]["worker_id"]
    assert routes_by_worker(plan_id)[li] == [first]

    urgent = accepted_visit(personas, window=("13:00", "15:00"))
    version = insert_order(urgent)

    assert version is not None and version.kind == "insertion" and version.revision == 1
    assert version.diff["added"] == [{"order_id": urgent, "to_worker_id": li}]
    assert routes_by_worker(plan_id)[li] == [first, urgent]
    assert status_of(urgent) == "scheduled"
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.type == PLAN_CHANGED)).all()
    assert [e.order_id for e in events] == [urgent]
    assert insert_order(urgent) is None  # scheduled now: nothing to insert, nothing doubled
    assert session.query(PlanVersion).count() == 1


def test_a_replan_keeps_done_stops_and_is_idempotent_on_its_trigger(personas, hospital) -> None:
    hospital(max_open_care_orders=10)
    early = accepted_visit(personas, window=("08:00", "09:00"))
    later = accepted_visit(personas, window=("13:00", "16:00"))
    plan_id = planned_day(personas)
    li = personas["nurse_li"]["worker_id"]
    done_stop = session.scalar(select(Stop).where(Stop.order_id == early))
    done_stop.status = "done"  # reported by the phone (mobile_api), here set directly
    session.commit()
    fixed = (done_stop.id, done_stop.start, done_stop.version)

    with time_machine.travel(ON_THE_DAY, tick=False):
        version = replan_district("heping", SERVICE_DATE, "manual:test")
        again = replan_district("heping", SERVICE_DATE, "manual:test")

    assert version is not None and again is not None and again.id == version.id
    session.expire_all()
    kept = session.get(Stop, fixed[0])
    assert (kept.id, kept.start, kept.version, kept.status) == fixed + ("done",)
    assert routes_by_worker(plan_id)[li] == [early, later]
    assert version.diff == {"added": [], "moved": [], "dropped": []}
    later_stop = session.scalar(select(Stop).where(Stop.order_id == later))
    assert later_stop.start >= datetime.fromisoformat(ON_THE_DAY)


def test_a_worker_off_sick_gives_up_their_visits_which_are_reported_never_silently_dropped(
        client, personas, hospital) -> None:  # type: ignore[no-untyped-def]
    visit = accepted_visit(personas, window=("13:00", "16:00"))
    plan_id = planned_day(personas)
    li = personas["nurse_li"]["worker_id"]
    headers = personas.headers("dispatcher_sun")

    response = client.post(f"/api/v1/workers/{li}/off", json={"date": SERVICE_DATE, "reason": "sick"},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    assert client.post(f"/api/v1/workers/{li}/off", json={"date": SERVICE_DATE, "reason": "sick"},
                       headers=headers).get_json()["id"] == response.get_json()["id"]
    assert client.post("/api/v1/workers/999999/off", json={"date": SERVICE_DATE, "reason": "sick"},
                       headers=headers).status_code == 404
    assert client.post(f"/api/v1/workers/{li}/off", json={"date": SERVICE_DATE, "reason": "bored"},
                       headers=headers).status_code == 422
    assert client.post(f"/api/v1/workers/{li}/off", json={"date": SERVICE_DATE, "reason": "sick"},
                       headers=personas.headers("nurse_zhou")).status_code in (403, 404)

    version = replan_district("heping", SERVICE_DATE, f"worker.off:{li}")

    assert version.diff["dropped"][0]["order_id"] == visit  # only nurse Li visits Heping
    assert status_of(visit) == "accepted"
    assert routes_by_worker(plan_id).get(li, []) == []
    listed = client.get(f"/api/v1/dispatch/plans/{plan_id}/versions", headers=headers)
    assert listed.status_code == 200 and listed.get_json()[0]["trigger"] == f"worker.off:{li}"
    assert client.get(f"/api/v1/dispatch/plans/{plan_id}/versions",
                      headers=personas.headers("patient_wang")).status_code in (403, 404)


def test_a_manual_replan_over_http_needs_a_plan_and_records_allow_reassign(client, personas) -> None:
    headers = personas.headers("dispatcher_sun")
    body = {"date": SERVICE_DATE, "district": "heping", "allow_reassign": True}
    assert client.post("/api/v1/dispatch/replans", json=body, headers=headers).status_code == 409
    accepted_visit(personas)
    plan_id = planned_day(personas)
    response = client.post("/api/v1/dispatch/replans", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"plan_id": plan_id, "revision": 0, "allow_reassign": True}
    assert client.post("/api/v1/dispatch/replans", json={**body, "district": "atlantis"},
                       headers=headers).status_code == 422


def test_slots_when_the_nurses_are_full_in_the_morning_are_only_in_the_afternoon(client, personas, hospital) -> None:
    hospital(max_open_care_orders=20)
    for _ in range(10):  # ten half-hour visits from 08:00: nurse Li is busy past noon
        accepted_visit(personas, window=("08:00", "12:00"))
    plan_id = planned_day(personas)
    assert len(routes_by_worker(plan_id)[personas["nurse_li"]["worker_id"]]) >= 8

    response = client.get("/api/v1/care-orders/slots", headers=personas.headers("patient_wang"), query_string={
        "service_code": "vital_signs_check", "address_id": personas["patient_wang"]["address_id"],
        "date": SERVICE_DATE})

    assert response.status_code == 200, response.get_json()
    slots = {s["start"][11:16]: s["available"] for s in response.get_json()}
    assert slots == {"08:00": False, "10:00": False, "12:00": True, "14:00": True, "16:00": True}


def test_slots_for_another_patients_address_are_404_and_an_unknown_item_is_422(client, personas) -> None:
    query = {"service_code": "vital_signs_check", "address_id": personas["patient_wang"]["address_id"],
             "date": SERVICE_DATE}
    assert client.get("/api/v1/care-orders/slots", headers=personas.headers("patient_liu"),
                      query_string=query).status_code == 404
    bad = client.get("/api/v1/care-orders/slots", headers=personas.headers("patient_wang"),
                     query_string={**query, "service_code": "no_such_item"})
    assert bad.status_code == 422 and "service_code" in bad.get_json()["errors"]
    assert client.get("/api/v1/care-orders/slots", headers=personas.headers("dispatcher_sun"),
                      query_string=query).status_code in (403, 404)
    before_any_plan = client.get("/api/v1/care-orders/slots", headers=personas.headers("patient_wang"),
                                 query_string=query).get_json()
    assert all(s["available"] for s in before_any_plan) and len(before_any_plan) == 5


def test_a_route_row_is_reused_so_an_unchanged_route_keeps_its_stops(personas) -> None:
    visit = accepted_visit(personas, window=("13:00", "16:00"))
    plan_id = planned_day(personas)
    before = {s.id for s in session.scalars(select(Stop).join(Route).where(Route.plan_id == plan_id))}
    replan_district("heping", SERVICE_DATE, "manual:same")
    session.expire_all()
    after = {s.id for s in session.scalars(select(Stop).join(Route).where(Route.plan_id == plan_id))}
    assert before == after and status_of(visit) == "scheduled"
