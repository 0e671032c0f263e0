"""GET /api/v1/mobile/route: my stops of the day, in order, with what each task needs."""
from __future__ import annotations

from sqlalchemy import select

from dispatch.models import Plan, Route, Stop
from doorstep.db import session
from doorstep.models import AuditEntry
from orders.service import cancel_order
from tests.factories import SERVICE_DATE, at
from tests.mobile_api.conftest import actor_of
from tests.mobile_api.helpers import count, instant

ROUTE = f"/api/v1/mobile/route?date={SERVICE_DATE}"


def test_a_nurse_sees_her_own_stops_in_order_with_visit_details(client, personas, day) -> None:
    response = client.get(ROUTE, headers=personas.headers("nurse_li"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["date"] == SERVICE_DATE
    assert body["worker"] == {"id": personas["nurse_li"]["worker_id"], "name": "Li Na"}
    assert (body["plan_id"], body["route_id"]) == (day.plan_id, day.li_route_id)
    assert [s["id"] for s in body["stops"]] == [day.stops[n] for n in ("li_start", "li_wound", "li_vitals", "li_end")]
    assert [s["sequence"] for s in body["stops"]] == [0, 1, 2, 3]
    assert day.stops["zhou_injection"] not in {s["id"] for s in body["stops"]}
    wound = body["stops"][1]
    assert wound["type"] == "visit" and wound["status"] == "planned" and wound["order_id"] == day.wound_care_id
    assert wound["eta"] == wound["arrival"] and instant(wound["arrival"]) == at("09:00")
    assert wound["location"] == {"lat": 39.125, "lon": 117.2}
    assert wound["task"] == {
        "service_code": "wound_dressing_change", "service_name": "Wound dressing change",
        "service_name_zh": "伤口换药", "duration_minutes": 45, "notes": "Left shin, change daily",
        "patient_first_name": "Wang", "window": wound["task"]["window"],
        "address": {"line": "1 Test Road", "district": "heping",
                    "access_notes": "Gate code 1234#, 3rd floor, friendly dog"},
        "preparation_notes": "Have your discharge summary and any dressings the hospital gave you ready.",
        "preparation_notes_zh": "请备好出院小结及医院发放的敷料。",
    }
    assert [instant(wound["task"]["window"][k]) for k in ("start", "end")] == [at("09:00"), at("11:00")]
    assert body["stops"][0]["task"] is None and body["stops"][0]["type"] == "start"


def test_reading_the_route_writes_an_audit_row_without_personal_data(client, personas, day) -> None:
    client.get(ROUTE, headers=personas.headers("nurse_li"))

    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "route"))
    assert entry is not None
    assert (entry.actor_user_id, entry.action, entry.entity_id) == (personas["nurse_li"]["user_id"], "read",
                                                                    str(day.li_route_id))
    assert "Wang" not in str(entry.detail) and "Test Road" not in str(entry.detail)


def test_a_courier_sees_the_pickup_without_the_patient_and_the_dropoff_with_them(client, personas, day) -> None:
    body = client.get(ROUTE, headers=personas.headers("courier_zhao")).get_json()

    assert [s["type"] for s in body["stops"]] == ["start", "pickup", "dropoff", "end"]
    pickup, dropoff = body["stops"][1]["task"], body["stops"][2]["task"]
    assert pickup["pharmacy_name"] == "Heping Hospital Pharmacy"
    assert pickup["items"] == [{"name": "Insulin glargine", "quantity": 2, "unit": None}]
    assert pickup["cold_chain"] is True
    assert "patient_first_name" not in pickup and "address" not in pickup
    assert dropoff["tracking_code"] == pickup["tracking_code"]
    assert dropoff["patient_first_name"] == "Wang" and dropoff["address"]["district"] == "heping"
    assert dropoff["address"]["access_notes"] == "Gate code 1234#, 3rd floor, friendly dog"
    assert "pharmacy_name" not in dropoff
    assert [instant(dropoff["window"][k]) for k in ("start", "end")] == [at("13:00"), at("16:00")]


def test_a_stop_whose_order_was_cancelled_disappears_and_the_version_changes(client, personas, day) -> None:
    before = client.get(ROUTE, headers=personas.headers("nurse_li")).get_json()
    cancel_order(actor_of(personas, "dispatcher_sun"), day.vitals_id, reason="patient in hospital")
    session.commit()

    after = client.get(ROUTE, headers=personas.headers("nurse_li")).get_json()

    assert [s["id"] for s in after["stops"]] == [day.stops[n] for n in ("li_start", "li_wound", "li_end")]
    assert after["version"] != before["version"]


def test_the_route_carries_its_version_as_etag_and_answers_304_when_unchanged(client, personas, day, report) -> None:
    first = client.get(ROUTE, headers=personas.headers("nurse_li"))
    version = first.get_json()["version"]
    assert first.headers["ETag"] == f'W/"{version}"'
    audits = count(AuditEntry, AuditEntry.entity == "route")

    again = client.get(ROUTE, headers=personas.headers("nurse_li", **{"If-None-Match": f'"{version}"'}))

    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == f'W/"{version}"'
    assert count(AuditEntry, AuditEntry.entity == "route") == audits  # nothing was shown, nothing to audit

    assert report("nurse_li", day.stops["li_wound"], "depart").status_code == 201
    changed = client.get(ROUTE, headers=personas.headers("nurse_li", **{"If-None-Match": f'"{version}"'}))
    assert changed.status_code == 200
    assert changed.get_json()["version"] != version
    assert changed.get_json()["stops"][1]["status"] == "departed"


def test_a_nurse_without_a_route_that_day_gets_an_empty_day(client, personas, day) -> None:
    other_day = client.get("/api/v1/mobile/route?date=2026-11-24", headers=personas.headers("nurse_li"))

    assert other_day.status_code == 200
    body = other_day.get_json()
    assert body["stops"] == [] and body["plan_id"] is None and body["route_id"] is None
    assert body["worker"]["id"] == personas["nurse_li"]["worker_id"]


def test_the_newest_done_plan_that_has_my_route_wins(client, personas, day) -> None:
    newer = Plan(date=SERVICE_DATE, status="done")
    newer_route = Route(plan=newer, worker_id=personas["nurse_li"]["worker_id"])
    session.add_all([newer, newer_route, Stop(route=newer_route, sequence=0, type="start", lat=39.13, lon=117.19)])
    # Newer still, but without nurse_li (another district's re-plan) or not finished: neither hides hers.
    without_me = Plan(date=SERVICE_DATE, status="done")
    session.add_all([without_me, Route(plan=without_me, worker_id=personas["courier_zhao"]["worker_id"])])
    queued = Plan(date=SERVICE_DATE, status="queued")
    session.add_all([queued, Route(plan=queued, worker_id=personas["nurse_li"]["worker_id"])])
    session.commit()

    body = client.get(ROUTE, headers=personas.headers("nurse_li")).get_json()

    assert (body["plan_id"], body["route_id"]) == (newer.id, newer_route.id)
    assert [s["type"] for s in body["stops"]] == ["start"]


def test_the_route_needs_a_valid_date_and_no_unknown_parameters(client, personas, day) -> None:
    headers = personas.headers("nurse_li")
    missing = client.get("/api/v1/mobile/route", headers=headers)
    wrong = client.get("/api/v1/mobile/route?date=23/11/2026", headers=headers)
    unknown = client.get(f"{ROUTE}&worker_id=1", headers=headers)

    for response, field in ((missing, "query.date"), (wrong, "query.date"), (unknown, "query.worker_id")):
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"], response.get_json()
