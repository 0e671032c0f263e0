"""Idempotency-Key on creates: a retried request returns the first answer and creates nothing new."""
from __future__ import annotations

from sqlalchemy import func, select

from doorstep.db import session
from orders.models import Address, CareOrder, DeliveryOrder
from tests.orders.helpers import assert_problem


def count(model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_the_same_key_and_body_return_the_first_answer_and_one_order(orders, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang", **{"Idempotency-Key": "visit-2026-11-23-a"})
    first = orders.care(headers=headers)
    again = orders.care(headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert count(CareOrder) == 1


def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(orders, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang", **{"Idempotency-Key": "visit-b"})
    assert orders.care(headers=headers).status_code == 201
    assert_problem(orders.care(service_code="oral_care", headers=headers), 422, "Idempotency-Key")
    assert count(CareOrder) == 1


def test_a_retried_parcel_is_replayed_not_refused_as_a_duplicate_prescription(orders, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("pharmacist_chen", **{"Idempotency-Key": "rx-9"})
    first = orders.delivery(ref="RX-9", headers=headers)
    again = orders.delivery(ref="RX-9", headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["tracking_code"] == first.get_json()["tracking_code"]
    assert count(DeliveryOrder) == 1


def test_keys_belong_to_their_user(orders, personas) -> None:  # type: ignore[no-untyped-def]
    wang = orders.care("patient_wang", headers=personas.headers("patient_wang", **{"Idempotency-Key": "k"}))
    liu = orders.care("patient_liu", headers=personas.headers("patient_liu", **{"Idempotency-Key": "k"}))
    assert wang.status_code == liu.status_code == 201
    assert wang.get_json()["id"] != liu.get_json()["id"]


def test_a_failed_request_is_not_remembered_under_its_key(orders, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang", **{"Idempotency-Key": "retry-after-fix"})
    assert_problem(orders.care(service_code="nope", headers=headers), 422, "service_code")
    assert orders.care(service_code="nope", headers=headers).status_code == 422
    assert count(CareOrder) == 0


def test_an_address_create_is_idempotent_too(client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang", **{"Idempotency-Key": "addr-1"})
    body = {"label": "office", "line": "Nanjing Road 1", "lat": 39.12, "lon": 117.2}
    first = client.post("/api/v1/patients/me/addresses", json=body, headers=headers)
    again = client.post("/api/v1/patients/me/addresses", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert count(Address) == 3  # the two personas' homes and this one
