"""``/api/v1/dispatch/plans``: dispatchers queue plans and read them; nobody else sees them."""
from __future__ import annotations

import pytest

from dispatch.service import run_plan
from tests.dispatch.service_helpers import accepted_visit, ready_parcel
from tests.factories import SERVICE_DATE

PLANS = "/api/v1/dispatch/plans"


def _post(client, personas, body=None, who="dispatcher_sun"):  # type: ignore[no-untyped-def]
    return client.post(PLANS, json=body or {"date": SERVICE_DATE}, headers=personas.headers(who))


def test_a_dispatcher_queues_a_plan_and_gets_202_with_where_to_look(client, personas) -> None:
    response = _post(client, personas)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and body["date"] == SERVICE_DATE and body["districts"] is None
    assert response.headers["Location"] == f"{PLANS}/{body['id']}"


def test_asking_again_while_queued_answers_the_same_plan(client, personas) -> None:
    first = _post(client, personas).get_json()["id"]
    assert _post(client, personas).get_json()["id"] == first
    other = _post(client, personas, {"date": SERVICE_DATE, "districts": ["nankai"]}).get_json()["id"]
    assert other != first


def test_a_solved_plan_shows_routes_stops_and_unassigned_without_patient_data(client, personas) -> None:
    visit = accepted_visit(personas, service_code="picc_maintenance")
    skipped = accepted_visit(personas, service_code="tracheostomy_care", window=("13:00", "15:00"))
    parcel = ready_parcel(personas)
    plan_id = _post(client, personas).get_json()["id"]
    run_plan(plan_id)

    response = client.get(f"{PLANS}/{plan_id}", headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 200
    plan = response.get_json()
    assert plan["status"] == "done" and plan["progress"] == 1.0
    assert plan["summary"]["assigned"] == 2 and plan["summary"]["unassigned"] == 1
    by_worker = {r["worker_name"]: r for r in plan["routes"]}
    assert set(by_worker) == {"Li Na", "Zhao Lei"}
    li = by_worker["Li Na"]
    assert li["worker_id"] == personas["nurse_li"]["worker_id"] and li["travel_time"] > 0
    assert [s["type"] for s in li["stops"]] == ["start", "visit", "end"]
    visit_stop = li["stops"][1]
    assert visit_stop["order_id"] == visit and visit_stop["status"] == "planned"
    assert visit_stop["start"].endswith("+08:00") and visit_stop["sequence"] == 1
    assert [s["order_id"] for s in by_worker["Zhao Lei"]["stops"] if s["order_id"]] == [parcel, parcel]
    assert plan["unassigned"][0]["order_id"] == skipped
    assert plan["unassigned"][0]["reason"] == "no_worker_with_skills"
    assert "lat" not in str(plan) and "Wang" not in str(plan)


def test_plans_are_listed_newest_first_and_filtered_by_date(client, personas) -> None:
    first = _post(client, personas).get_json()["id"]
    second = _post(client, personas, {"date": SERVICE_DATE, "districts": ["heping"]}).get_json()["id"]
    other_day = _post(client, personas, {"date": "2026-11-24"}).get_json()["id"]
    headers = personas.headers("dispatcher_sun")
    listed = client.get(f"{PLANS}?date={SERVICE_DATE}", headers=headers)
    assert listed.status_code == 200
    assert [p["id"] for p in listed.get_json()] == [second, first]
    assert [p["id"] for p in client.get(PLANS, headers=headers).get_json()] == [other_day, second, first]


@pytest.mark.parametrize("who", ["pharmacist_chen", "nurse_li", "courier_zhao", "patient_wang"])
def test_only_dispatchers_plan(client, personas, who: str) -> None:
    plan_id = _post(client, personas).get_json()["id"]
    assert _post(client, personas, who=who).status_code == 403
    assert client.get(f"{PLANS}/{plan_id}", headers=personas.headers(who)).status_code == 403
    assert client.get(PLANS, headers=personas.headers(who)).status_code == 403


def test_another_plan_id_is_404_and_unauthenticated_is_401(client, personas) -> None:
    plan_id = _post(client, personas).get_json()["id"]
    missing = client.get(f"{PLANS}/{plan_id + 1}", headers=personas.headers("dispatcher_sun"))
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert client.get(f"{PLANS}/{plan_id}").status_code == 401


@pytest.mark.parametrize(("body", "field"), [
    ({"date": "23/11/2026"}, "date"),
    ({}, "date"),
    ({"date": SERVICE_DATE, "districts": ["heping", "atlantis"]}, "districts.1"),
    ({"date": SERVICE_DATE, "districts": []}, "districts"),
    ({"date": SERVICE_DATE, "urgent": True}, "urgent"),
])
def test_a_bad_plan_request_names_the_field(client, personas, body: dict, field: str) -> None:
    response = client.post(PLANS, json=body, headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_an_unknown_query_parameter_is_refused(client, personas) -> None:
    response = client.get(f"{PLANS}?day={SERVICE_DATE}", headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 422 and "query.day" in response.get_json()["errors"]
