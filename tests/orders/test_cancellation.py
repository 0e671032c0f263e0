"""Who cancels what until when (one table), and a cancelled task leaves the plan and the worker's phone."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from dispatch.models import Stop
from doorstep.db import session
from doorstep.errors import Conflict, Forbidden, ValidationFailed
from orders.cancellation import CANCELLABLE, check_cancel
from orders.outbox import OutboxEvent
from orders.states import BY_KIND
from tests.factories import SERVICE_DATE, TZ
from tests.orders.helpers import assert_problem

ROUTE = f"/api/v1/mobile/route?date={SERVICE_DATE}"


@pytest.fixture(autouse=True)
def _before_the_service_day() -> Iterator[None]:
    """Bookings for the service day are made a few days ahead of it."""
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=TZ), tick=True):
        yield


# The table, pure ---------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "kind"), sorted(CANCELLABLE))
def test_the_table_promises_only_what_the_state_machine_allows(role: str, kind: str) -> None:
    machine = BY_KIND[kind]
    for status in CANCELLABLE[(role, kind)]:
        assert machine.allows(status, "cancelled"), (role, kind, status)


def test_a_patient_cancels_until_the_worker_is_on_the_way() -> None:
    check_cancel("patient", "care", "scheduled", None)
    check_cancel("patient", "delivery", "scheduled", None)
    with pytest.raises(Conflict, match="Call the hospital"):
        check_cancel("patient", "care", "en_route", "changed my mind")
    with pytest.raises(Conflict):
        check_cancel("patient", "delivery", "picked_up", None)


def test_staff_cancel_with_a_reason_only() -> None:
    for role, kind in (("pharmacist", "delivery"), ("dispatcher", "care"), ("dispatcher", "delivery")):
        with pytest.raises(ValidationFailed) as raised:
            check_cancel(role, kind, "scheduled", "  ")
        assert list(raised.value.errors) == ["reason"]
        check_cancel(role, kind, "scheduled", "Out of stock")


def test_a_dispatcher_cancels_a_visit_en_route_but_not_at_the_door() -> None:
    check_cancel("dispatcher", "care", "en_route", "Nurse's car broke down")
    with pytest.raises(Conflict):
        check_cancel("dispatcher", "care", "in_progress", "too late")


def test_roles_outside_the_table_are_forbidden() -> None:
    for role, kind in (("pharmacist", "care"), ("nurse", "care"), ("courier", "delivery"), ("admin", "care")):
        with pytest.raises(Forbidden):
            check_cancel(role, kind, "requested", "x")


def test_too_late_is_checked_before_the_missing_reason() -> None:
    with pytest.raises(Conflict):
        check_cancel("dispatcher", "care", "completed", None)


# Over HTTP ---------------------------------------------------------------------------------

def cancel(client, personas, order_id, who, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/orders/{order_id}/cancel", json=body, headers=personas.headers(who))


def test_a_pharmacist_without_a_reason_gets_422_naming_reason_and_nothing_changes(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    history = orders.history_count(parcel)
    assert_problem(cancel(client, personas, parcel, "pharmacist_chen"), 422, "reason")
    assert orders.status(parcel) == "awaiting_review" and orders.history_count(parcel) == history


def test_nobody_cancels_a_parcel_the_courier_has_picked_up(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    orders.move(parcel, "ready", "scheduled", "picked_up")
    for who in ("patient_wang", "pharmacist_chen", "dispatcher_sun"):
        assert_problem(cancel(client, personas, parcel, who, reason="Wrong drug"), 409)
    assert orders.status(parcel) == "picked_up"


def test_a_cancelled_visit_leaves_the_plan_and_the_nurses_phone(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit = orders.care_id()
    orders.move(visit, "accepted", "scheduled")
    stop = orders.plan_stop(visit, "nurse_li")
    plan_id, stop_id = stop.route.plan_id, stop.id
    nurse = personas.headers("nurse_li")
    before = client.get(ROUTE, headers=nurse)
    assert visit in [s["order_id"] for s in before.get_json()["stops"]]

    response = cancel(client, personas, visit, "patient_wang", reason="Feeling better")

    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    after = client.get(ROUTE, headers=personas.headers("nurse_li", **{"If-None-Match": before.headers["ETag"]}))
    assert after.status_code == 200, "the route changed, so a phone holding the old version refreshes"
    assert after.headers["ETag"] != before.headers["ETag"]
    assert visit not in [s["order_id"] for s in after.get_json()["stops"]]
    assert [s["sequence"] for s in after.get_json()["stops"]] == list(range(len(after.get_json()["stops"])))
    session.expire_all()
    assert session.get(Stop, stop_id) is None
    plan = client.get(f"/api/v1/dispatch/plans/{plan_id}", headers=personas.headers("dispatcher_sun")).get_json()
    assert visit not in [s["order_id"] for r in plan["routes"] for s in r["stops"]]
    assert {"order_id": visit, "task": f"visit-{visit}", "reason": "cancelled"}.items() <= plan["unassigned"][-1].items()


def test_a_cancelled_parcel_leaves_the_couriers_route_pickup_and_dropoff(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    orders.move(parcel, "ready", "scheduled")
    orders.plan_stop(parcel, "courier_zhao", stop_type="dropoff")
    courier = personas.headers("courier_zhao")
    assert parcel in [s["order_id"] for s in client.get(ROUTE, headers=courier).get_json()["stops"]]

    assert cancel(client, personas, parcel, "pharmacist_chen", reason="Out of stock").status_code == 200

    assert parcel not in [s["order_id"] for s in client.get(ROUTE, headers=courier).get_json()["stops"]]
    assert session.scalars(select(Stop).where(Stop.order_id == parcel)).all() == []


def test_a_stop_with_reports_stays_as_the_record_but_leaves_the_phone(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit = orders.care_id()
    orders.move(visit, "accepted", "scheduled")
    stop_id = orders.plan_stop(visit, "nurse_li").id
    depart = {"type": "depart", "at": "2026-11-23T09:30:00+08:00", "lat": 39.13, "lon": 117.195}
    headers = personas.headers("nurse_li")
    assert client.post(f"/api/v1/mobile/stops/{stop_id}/events", json=depart, headers=headers).status_code == 201

    assert cancel(client, personas, visit, "dispatcher_sun", reason="Patient admitted to hospital").status_code == 200

    session.expire_all()
    assert session.get(Stop, stop_id) is not None
    assert visit not in [s["order_id"] for s in client.get(ROUTE, headers=headers).get_json()["stops"]]


def test_a_cancellation_writes_history_and_an_outbox_event_in_one_go(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit = orders.care_id()
    assert cancel(client, personas, visit, "patient_wang").status_code == 200
    session.expire_all()
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.order_id == visit).order_by(OutboxEvent.id)).all()
    assert [(e.type, e.from_status, e.to_status) for e in events] == [
        ("order.created", None, "requested"), ("order.status_changed", "requested", "cancelled")]
    assert orders.history_count(visit) == 2
