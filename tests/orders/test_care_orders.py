"""Care orders: a patient books a catalogue item; a triage nurse or dispatcher accepts or rejects it."""
from __future__ import annotations

from datetime import time

from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.models import CareOrder, CatalogueItem
from tests.orders.helpers import assert_problem


def triage(client, personas, order_id, who="nurse_li", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/care-orders/{order_id}/triage", json=body, headers=personas.headers(who))


def test_a_patient_books_a_visit_that_waits_for_triage_at_the_catalogue_price(orders, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.care(service_code="picc_maintenance", notes="Line in left arm")
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["kind"] == "care" and order["status"] == "requested"
    assert (order["service_code"], order["price_fen"], order["duration_minutes"]) == ("picc_maintenance", 26000, 45)
    assert order["skills"] == ["picc", "rn_5y"] and order["notes"] == "Line in left arm"
    assert order["patient_id"] == personas["patient_wang"]["patient_id"]
    assert order["address_id"] == personas["patient_wang"]["address_id"] and order["district"] == "heping"
    assert order["window"] == {"start": "2026-11-23T09:00:00+08:00", "end": "2026-11-23T11:00:00+08:00"}
    assert order["service_date"] == "2026-11-23"
    assert [(h["from"], h["to"], h["by"]) for h in order["history"]] == [
        (None, "requested", personas["patient_wang"]["user_id"])]


def test_the_price_is_kept_as_booked_when_the_catalogue_changes(orders) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id(service_code="stoma_care")
    session.scalar(select(CatalogueItem).where(CatalogueItem.code == "stoma_care")).price_fen = 99_900
    session.commit()
    session.expire_all()
    assert session.get(CareOrder, order_id).price_fen == 22_000


def test_the_service_date_is_the_local_date_of_the_window_start(client, orders, personas, hospital) -> None:  # type: ignore[no-untyped-def]
    hospital(service_hours=(time(0), time.max))  # a hospital with night visits
    # 00:30 to 02:00 in Tianjin on the 24th is still the 23rd in UTC.
    response = client.post("/api/v1/care-orders", headers=personas.headers("patient_wang"), json={
        "service_code": "vital_signs_check", "address_id": personas["patient_wang"]["address_id"],
        "window": {"start": "2026-11-23T16:30:00Z", "end": "2026-11-23T18:00:00Z"}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["service_date"] == "2026-11-24"
    assert response.get_json()["window"]["start"] == "2026-11-24T00:30:00+08:00"


def test_an_unknown_service_code_is_a_422_naming_service_code(orders) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.care(service_code="home_surgery"), 422, "service_code")
    assert session.scalar(select(CareOrder.id)) is None


def test_another_patients_address_is_a_422_naming_address_id(orders, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.care("patient_wang", address_id=personas["patient_liu"]["address_id"])
    body = assert_problem(response, 422, "address_id")
    assert body["errors"]["address_id"] == ["No such address of yours."]


def test_several_problems_are_reported_together(orders) -> None:  # type: ignore[no-untyped-def]
    response = orders.care(service_code="nope", address_id=999_999, start="11:00", end="10:00")
    assert_problem(response, 422, "service_code", "address_id", "window.end")


def test_a_triage_nurse_accepts_a_visit_and_is_recorded(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    response = triage(client, personas, order_id, accepted=True)
    assert response.status_code == 200, response.get_json()
    order = response.get_json()
    nurse = personas["nurse_li"]["user_id"]
    assert order["status"] == "accepted" and order["triaged_by"] == nurse and order["triaged_at"]
    assert (order["history"][-1]["from"], order["history"][-1]["to"], order["history"][-1]["by"]) == (
        "requested", "accepted", nurse)


def test_a_dispatcher_rejects_a_visit_and_the_reason_is_kept(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id(service_code="tracheostomy_care")
    response = triage(client, personas, order_id, "dispatcher_sun", accepted=False,
                      reason="Unstable airway: hospital visit needed")
    assert response.status_code == 200, response.get_json()
    last = response.get_json()["history"][-1]
    assert response.get_json()["status"] == "rejected"
    assert last == {**last, "to": "rejected", "by": personas["dispatcher_sun"]["user_id"],
                    "reason": "Unstable airway: hospital visit needed"}


def test_a_rejection_without_a_reason_is_a_422_naming_reason_and_changes_nothing(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    assert_problem(triage(client, personas, order_id, accepted=False), 422, "reason")
    assert_problem(triage(client, personas, order_id, accepted=False, reason="  "), 422, "reason")
    assert orders.status(order_id) == "requested" and orders.history_count(order_id) == 1


def test_triaging_twice_is_a_409_that_changes_nothing(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    assert triage(client, personas, order_id, accepted=True).status_code == 200
    before = orders.get(order_id, "dispatcher_sun").get_json()
    assert_problem(triage(client, personas, order_id, "dispatcher_sun", accepted=False, reason="changed mind"), 409)
    after = orders.get(order_id, "dispatcher_sun").get_json()
    assert after["status"] == "accepted" and after["history"] == before["history"]
    assert after["triaged_by"] == personas["nurse_li"]["user_id"]


def test_a_nurse_without_the_triage_skill_may_not_triage(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id("patient_liu")
    assert_problem(triage(client, personas, order_id, "nurse_zhou", accepted=True), 403)
    assert orders.status(order_id) == "requested"


def test_a_delivery_order_cannot_be_triaged(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    assert_problem(triage(client, personas, parcel_id, "dispatcher_sun", accepted=True), 404)


def test_a_triage_nurse_sees_visits_waiting_for_triage_and_those_they_triaged(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    waiting = orders.care_id("patient_liu")
    triaged = orders.care_id("patient_wang")
    by_dispatcher = orders.care_id("patient_wang", service_code="oral_care")
    triage(client, personas, triaged, accepted=True)
    triage(client, personas, by_dispatcher, "dispatcher_sun", accepted=True)
    listed = client.get("/api/v1/orders", headers=personas.headers("nurse_li")).get_json()
    assert {o["id"] for o in listed} == {waiting, triaged}
    assert orders.get(by_dispatcher, "nurse_li").status_code == 404
    assert client.get("/api/v1/orders", headers=personas.headers("nurse_zhou")).get_json() == []


def test_booking_and_triage_leave_audit_rows_without_personal_data(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id(notes="Diabetic, lives alone")
    triage(client, personas, order_id, accepted=True)
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "care_order")
                                .order_by(AuditEntry.id)))
    assert [(r.action, r.actor_user_id) for r in rows] == [
        ("create", personas["patient_wang"]["user_id"]), ("update", personas["nurse_li"]["user_id"])]
    assert all(r.entity_id == str(order_id) and "Diabetic" not in str(r.detail) for r in rows)
