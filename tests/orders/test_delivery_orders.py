"""Delivery orders: a pharmacist sends a prescription's drugs; the pharmacy's pharmacist reviews them."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from sqlalchemy import func, select

from doorstep.db import session
from orders.models import DeliveryOrder
from tests.factories import iso
from tests.orders.helpers import assert_problem

TRACKING_CODE = re.compile(r"^DS[A-HJ-NP-Z2-9]{12}$")


def review(client, personas, order_id, who="pharmacist_chen", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/delivery-orders/{order_id}/review", json=body, headers=personas.headers(who))


def test_a_pharmacist_creates_a_parcel_from_their_pharmacy_awaiting_review(orders, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.delivery(window={"start": iso("13:00"), "end": iso("16:00")},
                               items=[{"name": "Insulin glargine 300 U", "quantity": 2, "unit": "pen"}])
    assert response.status_code == 201, response.get_json()
    parcel = response.get_json()
    assert parcel["kind"] == "delivery" and parcel["status"] == "awaiting_review"
    assert parcel["pharmacy_id"] == personas["pharmacy"]["heping"]
    assert parcel["patient_id"] == personas["patient_wang"]["patient_id"] and parcel["district"] == "heping"
    assert parcel["items"] == [{"name": "Insulin glargine 300 U", "quantity": 2, "unit": "pen"}]
    assert parcel["cold_chain"] is True and parcel["max_out_of_fridge_minutes"] is None
    assert parcel["prescription_ref"] == "RX-0001" and parcel["service_date"] == "2026-11-23"
    assert TRACKING_CODE.match(parcel["tracking_code"]), parcel["tracking_code"]
    assert [(h["to"], h["by"]) for h in parcel["history"]] == [
        ("awaiting_review", personas["pharmacist_chen"]["user_id"])]


def test_every_parcel_gets_its_own_tracking_code(orders) -> None:  # type: ignore[no-untyped-def]
    codes = {orders.delivery(ref=f"RX-{n}").get_json()["tracking_code"] for n in range(5)}
    assert len(codes) == 5


def test_a_reused_prescription_is_a_409_naming_the_first_order(orders) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-77")
    body = assert_problem(orders.delivery("pharmacist_gao", "patient_liu", ref="RX-77"), 409, "prescription_ref")
    assert str(first) in body["detail"] and str(first) in body["errors"]["prescription_ref"][0]
    assert session.scalar(select(func.count()).select_from(DeliveryOrder)) == 1


def test_an_address_of_another_patient_is_a_422_naming_address_id(orders, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.delivery(address_id=personas["patient_liu"]["address_id"])
    assert_problem(response, 422, "address_id")


def test_an_unknown_patient_is_a_422_naming_patient_id(orders) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(patient_id=999_999), 422, "patient_id")


def test_without_a_window_the_service_date_is_today_in_tianjin(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    # 01:30 on the 23rd in Tianjin, still the 22nd in UTC.
    with time_machine.travel(datetime(2026, 11, 22, 17, 30, tzinfo=UTC), tick=False):
        response = orders.delivery()
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["service_date"] == "2026-11-23" and response.get_json()["window"] is None


def test_the_pharmacist_of_the_pharmacy_releases_the_parcel_and_is_recorded(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    response = review(client, personas, parcel_id, approved=True)
    assert response.status_code == 200, response.get_json()
    parcel = response.get_json()
    chen = personas["pharmacist_chen"]["user_id"]
    assert parcel["status"] == "ready" and parcel["reviewed_by"] == chen and parcel["reviewed_at"]
    assert (parcel["history"][-1]["from"], parcel["history"][-1]["to"], parcel["history"][-1]["by"]) == (
        "awaiting_review", "ready", chen)


def test_a_rejected_prescription_keeps_its_reason(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    response = review(client, personas, parcel_id, approved=False, reason="Dose exceeds the maximum")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rejected"
    assert response.get_json()["history"][-1]["reason"] == "Dose exceeds the maximum"


def test_a_rejection_without_a_reason_is_a_422_naming_reason_and_changes_nothing(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    assert_problem(review(client, personas, parcel_id, approved=False), 422, "reason")
    assert orders.status(parcel_id) == "awaiting_review" and orders.history_count(parcel_id) == 1


def test_a_pharmacist_of_another_pharmacy_cannot_see_the_parcel_to_review_it(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    assert_problem(review(client, personas, parcel_id, "pharmacist_gao", approved=True), 404)
    assert orders.status(parcel_id) == "awaiting_review"


def test_reviewing_twice_is_a_409_that_changes_nothing(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    review(client, personas, parcel_id, approved=True)
    before = orders.get(parcel_id, "pharmacist_chen").get_json()
    assert_problem(review(client, personas, parcel_id, approved=False, reason="second thoughts"), 409)
    after = orders.get(parcel_id, "pharmacist_chen").get_json()
    assert after["status"] == "ready" and after["history"] == before["history"]


def test_a_care_order_cannot_be_reviewed(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    care_id = orders.care_id()
    assert_problem(review(client, personas, care_id, approved=True), 404)


def test_only_pharmacists_create_and_review_parcels(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    for who in ("patient_wang", "nurse_li", "courier_zhao", "dispatcher_sun", "admin_root"):
        assert_problem(orders.delivery(ref=f"RX-{who}", headers=personas.headers(who)), 403)
        assert_problem(review(client, personas, parcel_id, who, approved=True), 403)
    assert session.scalar(select(func.count()).select_from(DeliveryOrder)) == 1
