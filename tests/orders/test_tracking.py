"""Tracking: the patient sees status, ETA, the worker's first name and, on the way, their position;
anyone with a parcel's code sees its status and ETA and nothing else."""
from __future__ import annotations

from datetime import datetime, timedelta

import time_machine
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from tests.factories import at
from tests.orders.helpers import assert_problem

TRACKING_KEYS = {"order_id", "status", "eta", "worker_first_name", "position"}
PUBLIC_KEYS = {"tracking_code", "status", "eta"}


def track(client, personas, order_id, who="patient_wang"):  # type: ignore[no-untyped-def]
    return client.get(f"/api/v1/orders/{order_id}/tracking", headers=personas.headers(who))


def test_before_planning_there_is_no_eta_worker_or_position(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    response = track(client, personas, order_id)
    assert response.status_code == 200
    assert response.get_json() == {"order_id": order_id, "status": "requested", "eta": None,
                                   "worker_first_name": None, "position": None}


def test_a_scheduled_visit_shows_the_planned_arrival_and_the_nurses_first_name_only(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled")
    orders.plan_stop(order_id, "nurse_li", arrival=at("10:15"))
    orders.position("nurse_li", 39.13, 117.195, at("08:05"))
    body = track(client, personas, order_id).get_json()
    assert set(body) == TRACKING_KEYS
    assert body["eta"] == "2026-11-23T10:15:00+08:00"
    assert body["worker_first_name"] == "Li"
    assert body["position"] is None  # not on the way yet


def test_on_the_way_the_patient_sees_the_position_and_a_live_eta(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()  # booked days ahead, as the lead time asks
    with time_machine.travel(at("09:40"), tick=False):
        personas.sign_in_again()  # tokens issued "now"
        orders.move(order_id, "accepted", "scheduled", "en_route")
        orders.plan_stop(order_id, "nurse_li", arrival=at("10:15"))
        orders.position("nurse_li", 39.1300, 117.1950, at("09:40"))  # about 700 m away
        body = track(client, personas, order_id).get_json()
    assert body["position"] == {"lat": 39.13, "lon": 117.195, "at": "2026-11-23T09:40:00+08:00"}
    eta = datetime.fromisoformat(body["eta"])
    assert at("09:40") < eta < at("09:40") + timedelta(minutes=15)  # well before the planned 10:15


def test_a_late_worker_gives_a_later_eta_than_planned(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    with time_machine.travel(at("09:55"), tick=False):
        personas.sign_in_again()
        orders.move(order_id, "accepted", "scheduled", "en_route")
        orders.plan_stop(order_id, "nurse_li", arrival=at("10:00"))
        orders.position("nurse_li", 39.0800, 117.3000, at("09:55"))  # far out in Dongli
        eta = datetime.fromisoformat(track(client, personas, order_id).get_json()["eta"])
    assert eta > at("10:05")


def test_on_the_way_without_a_reported_position_the_planned_arrival_stands(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route")
    orders.plan_stop(order_id, "nurse_li", arrival=at("10:15"))
    body = track(client, personas, order_id).get_json()
    assert body["eta"] == "2026-11-23T10:15:00+08:00" and body["position"] is None


def test_a_cancelled_order_has_no_eta(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "cancelled")
    orders.plan_stop(order_id, "nurse_li")
    body = track(client, personas, order_id).get_json()
    assert body["status"] == "cancelled" and body["eta"] is None and body["worker_first_name"] is None


def test_tracking_is_for_the_owner_and_is_audited(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    assert_problem(track(client, personas, order_id, "patient_liu"), 404)
    assert_problem(track(client, personas, 999_999), 404)
    assert_problem(track(client, personas, order_id, "dispatcher_sun"), 403)
    assert track(client, personas, order_id).status_code == 200
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "order_tracking")))
    assert [(r.entity_id, r.actor_user_id) for r in rows] == [(str(order_id), personas["patient_wang"]["user_id"])]


def test_public_tracking_shows_status_and_eta_and_no_personal_data(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(at("14:00"), tick=False):
        parcel = orders.delivery().get_json()
        orders.move(parcel["id"], "ready", "scheduled", "picked_up", "out_for_delivery")
        orders.plan_stop(parcel["id"], "courier_zhao", stop_type="dropoff", arrival=at("14:20"))
        orders.position("courier_zhao", 39.1260, 117.2010, at("14:00"))
        response = client.get(f"/api/v1/track/{parcel['tracking_code']}")  # no Authorization header
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == PUBLIC_KEYS
    assert body["tracking_code"] == parcel["tracking_code"] and body["status"] == "out_for_delivery"
    assert body["eta"] is not None
    text = response.get_data(as_text=True)
    for secret in ("Wang", "13800000001", "Test Road", "39.12", "117.20", "Zhao", "Insulin", "RX-0001"):
        assert secret not in text


def test_public_tracking_ignores_case_and_404s_an_unknown_code(client, orders) -> None:  # type: ignore[no-untyped-def]
    code = orders.delivery().get_json()["tracking_code"]
    response = client.get(f"/api/v1/track/{code.lower()}")
    assert response.status_code == 200 and response.get_json() == {"tracking_code": code,
                                                                   "status": "awaiting_review", "eta": None}
    assert_problem(client.get("/api/v1/track/DSAAAAAAAAAAAA"), 404)


def test_once_the_nurse_is_at_the_door_the_position_is_no_longer_shown(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    from dispatch.models import Stop

    order_id = orders.care_id()
    orders.move(order_id, "accepted", "scheduled", "en_route")
    stop = orders.plan_stop(order_id, "nurse_li", arrival=at("10:15"))
    orders.position("nurse_li", 39.1250, 117.2000, at("10:10"))
    assert track(client, personas, order_id).get_json()["position"] is not None  # on the way
    session.get(Stop, stop.id).status = "arrived"  # the order stays en_route until the visit starts
    session.commit()

    body = track(client, personas, order_id).get_json()

    assert body["status"] == "en_route" and body["position"] is None
    assert body["worker_first_name"] == "Li"
