"""The hospital's rules for parcels: one prescription, one delivery; no controlled drugs by delivery;
two-person review when the hospital asks for it; how long a cold parcel may ride."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from dispatch.service import build_day_problem
from doorstep.db import session
from orders.models import DeliveryItem, DeliveryOrder
from tests.factories import SERVICE_DATE, at, iso
from tests.orders.helpers import assert_problem


def parcels() -> int:
    return session.scalar(select(func.count()).select_from(DeliveryOrder))


def review(client, personas, order_id, who="pharmacist_chen", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/delivery-orders/{order_id}/review", json=body, headers=personas.headers(who))


@pytest.fixture
def hospital(app, monkeypatch):  # type: ignore[no-untyped-def]
    """Change the hospital's settings for one test: ``hospital(review_two_person=True)``."""
    def change(**overrides: object) -> None:
        monkeypatch.setitem(app.config, "SETTINGS", app.config["SETTINGS"].with_overrides(**overrides))

    return change


# One prescription, one delivery -----------------------------------------------------------

def test_a_second_use_of_a_prescription_names_the_first_order_in_detail_and_existing_order_id(orders) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-500")
    body = assert_problem(orders.delivery(ref="RX-500"), 409, "prescription_ref")
    assert body["existing_order_id"] == first
    assert f"order {first}" in body["detail"] and str(first) in body["errors"]["prescription_ref"][0]
    assert parcels() == 1


def test_the_same_prescription_from_another_pharmacy_is_refused_too(orders) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-501")
    body = assert_problem(orders.delivery("pharmacist_gao", "patient_liu", ref="RX-501"), 409, "prescription_ref")
    assert body["existing_order_id"] == first


def test_a_reference_with_spaces_around_it_is_the_same_prescription(orders) -> None:  # type: ignore[no-untyped-def]
    orders.delivery_id(ref="RX-502")
    assert_problem(orders.delivery(ref="  RX-502 "), 409, "prescription_ref")


def test_a_cancelled_order_releases_its_prescription_for_a_new_one(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-503")
    cancelled = client.post(f"/api/v1/orders/{first}/cancel", json={"reason": "Wrong address"},
                            headers=personas.headers("pharmacist_chen"))
    assert cancelled.status_code == 200, cancelled.get_json()
    again = orders.delivery(ref="RX-503")
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["id"] != first and again.get_json()["prescription_ref"] == "RX-503"
    # ...and the new order holds it now.
    assert assert_problem(orders.delivery(ref="RX-503"), 409)["existing_order_id"] == again.get_json()["id"]


def test_a_rejected_order_releases_its_prescription(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-504")
    assert review(client, personas, first, approved=False, reason="Dose to be corrected").status_code == 200
    assert orders.delivery(ref="RX-504").status_code == 201


@pytest.mark.parametrize("path", [("ready", "scheduled", "picked_up", "out_for_delivery", "delivered"),
                                  ("ready", "scheduled", "picked_up", "out_for_delivery", "failed", "returned")],
                         ids=["delivered", "returned"])
def test_a_delivered_or_returned_parcel_keeps_its_prescription(orders, path) -> None:  # type: ignore[no-untyped-def]
    first = orders.delivery_id(ref="RX-505")
    orders.move(first, *path)
    assert assert_problem(orders.delivery(ref="RX-505"), 409)["existing_order_id"] == first


# Items ------------------------------------------------------------------------------------

@pytest.mark.parametrize("control", ["narcotic", "psychotropic"])
def test_a_controlled_drug_is_refused_naming_the_item_and_nothing_is_written(orders, control) -> None:  # type: ignore[no-untyped-def]
    items = [{"name": "Metformin 500 mg", "quantity": 1},
             {"name": "Morphine sulfate 10 mg", "quantity": 1, "control": control}]
    body = assert_problem(orders.delivery(items=items), 422, "items.1.control")
    assert "items.0.control" not in body["errors"]
    assert "cannot be sent by delivery" in body["errors"]["items.1.control"][0]
    assert "dispensing rules" in body["errors"]["items.1.control"][0]
    assert "Controlled" in body["detail"]
    assert parcels() == 0 and session.scalar(select(func.count()).select_from(DeliveryItem)) == 0


def test_an_unknown_control_class_is_a_422_naming_it(orders) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(items=[{"name": "x", "quantity": 1, "control": "opioid"}]), 422, "items.0.control")


def test_an_item_marked_not_controlled_is_sent(orders) -> None:  # type: ignore[no-untyped-def]
    items = [{"name": "Aspirin 100 mg", "quantity": 3, "unit": "box", "control": "none"},
             {"name": "Metformin 500 mg", "quantity": 1, "control": None}]
    response = orders.delivery(items=items)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["items"] == [{"name": "Aspirin 100 mg", "quantity": 3, "unit": "box"},
                                            {"name": "Metformin 500 mg", "quantity": 1, "unit": None}]


@pytest.mark.parametrize("quantity", [0, -2, 1.5, "2"])
def test_a_quantity_that_is_not_a_whole_number_above_zero_is_a_422(orders, quantity) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(items=[{"name": "x", "quantity": quantity}]), 422, "items.0.quantity")
    assert parcels() == 0


# Review -----------------------------------------------------------------------------------

def test_by_default_the_pharmacist_who_created_a_parcel_may_review_it(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    assert review(client, personas, parcel, approved=True).get_json()["status"] == "ready"


def test_with_two_person_review_the_creator_may_not_review_and_a_colleague_does(
        client, orders, personas, hospital) -> None:  # type: ignore[no-untyped-def]
    from doorstep.accounts import create_user
    from tests.factories import PASSWORD

    hospital(review_two_person=True)
    wu = create_user("pharmacist_wu", PASSWORD, "pharmacist", pharmacy_id=personas["pharmacy"]["heping"]).id
    session.commit()
    parcel = orders.delivery_id()
    refused = assert_problem(review(client, personas, parcel, approved=True), 403)
    assert "Two-person" in refused["detail"]
    assert orders.status(parcel) == "awaiting_review"
    response = review(client, personas, parcel, "pharmacist_wu", approved=True)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reviewed_by"] == wu != personas["pharmacist_chen"]["user_id"]


def test_a_rejection_records_the_reviewer_the_time_and_the_reason(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    body = review(client, personas, parcel, approved=False, reason="Interaction with warfarin").get_json()
    assert body["status"] == "rejected" and body["reviewed_by"] == personas["pharmacist_chen"]["user_id"]
    assert body["reviewed_at"] and body["history"][-1]["reason"] == "Interaction with warfarin"
    assert body["history"][-1]["by"] == personas["pharmacist_chen"]["user_id"]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_rejection_with_a_blank_reason_is_a_422(client, orders, personas, reason) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    assert_problem(review(client, personas, parcel, approved=False, reason=reason), 422, "reason")
    assert orders.status(parcel) == "awaiting_review"


# Cold chain -------------------------------------------------------------------------------

def _ready_parcel(client, orders, personas, **body):  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id(window={"start": iso("13:00"), "end": iso("16:00")}, **body)
    assert review(client, personas, parcel, approved=True).status_code == 200
    return parcel


def _task(parcel: int) -> dict:
    problem, _index = build_day_problem(SERVICE_DATE)
    return next(t for t in problem["tasks"] if t["id"] == f"delivery-{parcel}")


def test_a_cold_parcel_rides_at_most_the_hospitals_minutes_by_default(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = _ready_parcel(client, orders, personas, ref="RX-COLD-1")
    task = _task(parcel)
    assert task["skills"] == ["cold_chain"] and task["max_ride"] == 120 * 60


def test_the_hospital_setting_sets_the_default_ride(client, orders, personas, hospital) -> None:  # type: ignore[no-untyped-def]
    hospital(cold_chain_max_minutes=45)
    parcel = _ready_parcel(client, orders, personas, ref="RX-COLD-2")
    assert _task(parcel)["max_ride"] == 45 * 60


def test_an_orders_own_minutes_win_over_the_setting(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = _ready_parcel(client, orders, personas, ref="RX-COLD-3", max_out_of_fridge_minutes=30)
    assert orders.get(parcel, "pharmacist_chen").get_json()["max_out_of_fridge_minutes"] == 30
    assert _task(parcel)["max_ride"] == 30 * 60


def test_a_parcel_without_cold_chain_has_no_skill_and_no_max_ride(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = _ready_parcel(client, orders, personas, ref="RX-WARM", cold_chain=False)
    task = _task(parcel)
    assert "max_ride" not in task and not task.get("skills")


def test_minutes_out_of_the_fridge_on_a_parcel_without_cold_chain_is_a_422(orders) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(cold_chain=False, max_out_of_fridge_minutes=30), 422, "max_out_of_fridge_minutes")
    assert parcels() == 0


@pytest.mark.parametrize("minutes", [0, 4, 24 * 60 + 1, 12.5])
def test_minutes_out_of_the_fridge_outside_5_to_1440_are_a_422(orders, minutes) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(max_out_of_fridge_minutes=minutes), 422, "max_out_of_fridge_minutes")


def test_a_window_that_is_over_already_is_a_422_naming_window_end(orders) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("17:00"), tick=False):
        response = orders.delivery(window={"start": iso("13:00"), "end": iso("16:00")})
    assert_problem(response, 422, "window.end")
    assert parcels() == 0
