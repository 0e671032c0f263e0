"""POST/GET /orders/{id}/rating and GET /ratings: a patient rates a finished order once; dispatchers read."""
from __future__ import annotations

import logging

from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from tests.orders.helpers import assert_problem


def rate(client, personas, order_id, who="patient_wang", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/orders/{order_id}/rating", json={"stars": 4, **body}, headers=personas.headers(who))


def test_a_completed_visit_is_rated_once_and_the_comment_is_never_logged(client, orders, personas, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route", "in_progress", "completed")

    first = rate(client, personas, order_id, stars=5, comment="Nurse Li was very gentle")
    again = rate(client, personas, order_id, stars=1)

    assert first.status_code == 201 and first.get_json()["stars"] == 5
    assert_problem(again, 409)
    assert "very gentle" not in caplog.text
    seen = client.get(f"/api/v1/orders/{order_id}/rating", headers=personas.headers("dispatcher_sun"))
    assert seen.status_code == 200 and seen.get_json()["comment"] == "Nurse Li was very gentle"
    listed = client.get("/api/v1/ratings?stars_at_most=5", headers=personas.headers("dispatcher_sun")).get_json()
    assert [r["order_id"] for r in listed] == [order_id]
    reads = session.scalars(select(AuditEntry).where(AuditEntry.entity.in_(["order_rating", "order_ratings"]),
                                                     AuditEntry.action == "read")).all()
    assert len(reads) == 2


def test_an_order_not_yet_completed_cannot_be_rated(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route")

    response = rate(client, personas, order_id)

    assert_problem(response, 409)
    assert response.get_json()["order_status"] == "en_route"


def test_a_delivered_parcel_can_be_rated(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel_id = orders.delivery_id()
    orders.move(parcel_id, "ready", "scheduled", "picked_up", "out_for_delivery", "delivered")

    assert rate(client, personas, parcel_id, stars=3).status_code == 201


def test_another_patients_order_is_404_to_rate_and_to_read(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route", "in_progress", "completed")
    rate(client, personas, order_id)

    assert_problem(rate(client, personas, order_id, who="patient_liu"), 404)
    assert_problem(client.get(f"/api/v1/orders/{order_id}/rating", headers=personas.headers("patient_liu")), 404)
    assert_problem(rate(client, personas, 999_999), 404)
    assert_problem(rate(client, personas, order_id, who="nurse_li"), 403)
    assert_problem(client.get("/api/v1/ratings", headers=personas.headers("nurse_li")), 403)


def test_stars_outside_one_to_five_are_422_naming_the_field(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route", "in_progress", "completed")

    for stars in (0, 6, "5"):
        response = rate(client, personas, order_id, stars=stars)
        assert response.status_code == 422 and "stars" in response.get_json()["errors"]
