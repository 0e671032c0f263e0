"""Bad input answers problem+json naming the field; nothing is written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from doorstep.db import session
from orders.models import Order
from tests.factories import iso
from tests.orders.helpers import assert_problem


def nothing_written() -> bool:
    return session.scalar(select(func.count()).select_from(Order)) == 0


def test_an_unknown_body_field_is_a_422_naming_it(orders) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.care(colour="red"), 422, "colour")
    assert_problem(orders.care(window={"start": iso("09:00"), "end": iso("10:00"), "tz": "UTC"}), 422, "window.tz")
    assert_problem(orders.delivery(items=[{"name": "x", "quantity": 1, "price": 3}]), 422, "items.0.price")
    assert nothing_written()


def test_an_unknown_query_parameter_is_a_422_naming_it(client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("dispatcher_sun")
    assert_problem(client.get("/api/v1/orders?colour=red", headers=headers), 422, "query.colour")
    assert_problem(client.get("/api/v1/pharmacies?colour=red", headers=headers), 422, "query.colour")


def test_malformed_json_is_a_400(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/care-orders", data='{"service_code": ', content_type="application/json",
                           headers=personas.headers("patient_wang"))
    assert_problem(response, 400)
    assert nothing_written()


@pytest.mark.parametrize("field", ["service_code", "address_id", "window"])
def test_a_missing_field_is_a_422_naming_it(client, personas, field) -> None:  # type: ignore[no-untyped-def]
    body = {"service_code": "oral_care", "address_id": personas["patient_wang"]["address_id"],
            "window": {"start": iso("09:00"), "end": iso("10:00")}}
    del body[field]
    assert_problem(client.post("/api/v1/care-orders", json=body, headers=personas.headers("patient_wang")), 422, field)


@pytest.mark.parametrize(("window", "field"), [
    ({"start": iso("09:00")}, "window.end"),
    ({"start": "2026-11-23T09:00:00", "end": iso("10:00")}, "window.start"),  # no offset
    ({"start": "tomorrow morning", "end": iso("10:00")}, "window.start"),
    ({"start": iso("11:00"), "end": iso("10:00")}, "window.end"),  # ends before it starts
    ({"start": iso("10:00"), "end": iso("10:00")}, "window.end"),  # empty
    ({"start": iso("06:00"), "end": iso("18:30")}, "window.end"),  # longer than 12 hours
    ({"start": iso("20:00"), "end": iso("02:00", "2026-11-24")}, "window.end"),  # past local midnight
], ids=["no-end", "naive", "not-a-time", "reversed", "empty", "too-long", "overnight"])
def test_a_bad_window_is_a_422_naming_it(orders, window, field) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.care(window=window), 422, field)
    assert nothing_written()


@pytest.mark.parametrize(("change", "field"), [
    ({"items": []}, "items"),
    ({"items": [{"name": "Aspirin", "quantity": i + 1} for i in range(51)]}, "items"),
    ({"items": [{"name": "Aspirin", "quantity": 0}]}, "items.0.quantity"),
    ({"items": [{"name": "", "quantity": 1}]}, "items.0.name"),
    ({"cold_chain": "maybe"}, "cold_chain"),
    ({"patient_id": "seven"}, "patient_id"),
    ({"prescription_ref": ""}, "prescription_ref"),
    ({"window": {"start": iso("16:00"), "end": iso("13:00")}}, "window.end"),
], ids=["no-items", "51-items", "zero-quantity", "blank-name", "cold-chain", "patient-id", "blank-ref",
        "bad-window"])
def test_a_bad_parcel_is_a_422_naming_the_field(orders, change, field) -> None:  # type: ignore[no-untyped-def]
    assert_problem(orders.delivery(**change), 422, field)
    assert nothing_written()


def test_a_parcel_without_the_cold_chain_flag_is_refused_rather_than_guessed(client, personas) -> None:  # type: ignore[no-untyped-def]
    body = {"prescription_ref": "RX-1", "patient_id": personas["patient_wang"]["patient_id"],
            "address_id": personas["patient_wang"]["address_id"], "items": [{"name": "Insulin", "quantity": 1}]}
    response = client.post("/api/v1/delivery-orders", json=body, headers=personas.headers("pharmacist_chen"))
    assert_problem(response, 422, "cold_chain")


@pytest.mark.parametrize(("body", "field"), [({"lat": 91, "lon": 117.2}, "lat"), ({"lat": 39.1, "lon": "east"}, "lon")])
def test_coordinates_out_of_range_are_a_422_naming_them(client, personas, body, field) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_wang"),
                           json={"label": "x", "line": "y", **body})
    assert_problem(response, 422, field)


@pytest.mark.parametrize(("query", "field"), [("status=lost", "query.status"), ("date=23-11-2026", "query.date"),
                                              ("kind=parcel", "query.kind"), ("page=0", "query.page")])
def test_a_bad_filter_is_a_422_naming_it(client, personas, query, field) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.get(f"/api/v1/orders?{query}", headers=personas.headers("dispatcher_sun")), 422, field)


def test_triage_and_review_need_their_decision(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit, parcel = orders.care_id(), orders.delivery_id()
    assert_problem(client.post(f"/api/v1/care-orders/{visit}/triage", json={"reason": "x"},
                               headers=personas.headers("nurse_li")), 422, "accepted")
    assert_problem(client.post(f"/api/v1/delivery-orders/{parcel}/review", json={"approved": "perhaps"},
                               headers=personas.headers("pharmacist_chen")), 422, "approved")
