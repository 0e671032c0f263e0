"""After a failed delivery: deliver again on a new window, or return the parcel to its pharmacy."""
from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from sqlalchemy import select

from dispatch.service import build_day_problem
from doorstep.db import session
from doorstep.models import AuditEntry
from tests.factories import TZ, iso
from tests.orders.helpers import assert_problem

NEXT_DAY = "2026-11-24"
TO_FAILED = ("ready", "scheduled", "picked_up", "out_for_delivery", "failed")


@pytest.fixture(autouse=True)
def _monday_evening():  # type: ignore[no-untyped-def]
    """The parcel failed on the service date; it is 18:00 that Monday (tokens are issued now too)."""
    with time_machine.travel(datetime(2026, 11, 23, 18, 0, tzinfo=TZ), tick=True):
        yield


@pytest.fixture
def failed(orders):  # type: ignore[no-untyped-def]
    """A parcel for today whose delivery failed (the courier reported it at the door)."""
    parcel = orders.delivery_id()
    orders.move(parcel, *TO_FAILED)
    return parcel


def redeliver(client, personas, order_id, who="pharmacist_chen", **body):  # type: ignore[no-untyped-def]
    body.setdefault("window", {"start": iso("09:00", NEXT_DAY), "end": iso("12:00", NEXT_DAY)})
    return client.post(f"/api/v1/delivery-orders/{order_id}/redeliver", json=body, headers=personas.headers(who))


def give_back(client, personas, order_id, who="pharmacist_chen", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/delivery-orders/{order_id}/return", json=body, headers=personas.headers(who))


def test_a_failed_parcel_is_delivered_again_on_a_new_window_with_who_when_and_why(client, personas, failed) -> None:  # type: ignore[no-untyped-def]
    response = redeliver(client, personas, failed, reason="Patient asked for tomorrow morning")
    assert response.status_code == 200, response.get_json()
    parcel = response.get_json()
    assert parcel["status"] == "ready" and parcel["service_date"] == NEXT_DAY
    assert parcel["window"] == {"start": iso("09:00", NEXT_DAY), "end": iso("12:00", NEXT_DAY)}
    last = parcel["history"][-1]
    assert (last["from"], last["to"], last["by"], last["reason"]) == (
        "failed", "ready", personas["pharmacist_chen"]["user_id"], "Patient asked for tomorrow morning")
    assert last["at"].startswith("2026-11-23T18:00")


def test_without_a_reason_the_history_names_the_new_window(client, personas, failed) -> None:  # type: ignore[no-untyped-def]
    parcel = redeliver(client, personas, failed).get_json()
    assert parcel["history"][-1]["reason"] == f"Re-delivery on {NEXT_DAY} 09:00-12:00"


def test_a_redelivered_parcel_is_planned_on_its_new_day(client, personas, failed) -> None:  # type: ignore[no-untyped-def]
    redeliver(client, personas, failed, who="dispatcher_sun")
    ids = {t["id"] for t in build_day_problem(NEXT_DAY)[0]["tasks"]}
    assert f"delivery-{failed}" in ids


@pytest.mark.parametrize("path", [(), ("ready",), ("ready", "scheduled"), ("ready", "scheduled", "picked_up")],
                         ids=["awaiting_review", "ready", "scheduled", "picked_up"])
def test_only_a_failed_parcel_is_redelivered(client, orders, personas, path) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    orders.move(parcel, *path)
    before = orders.history_count(parcel)
    assert_problem(redeliver(client, personas, parcel), 409)
    assert orders.history_count(parcel) == before


@pytest.mark.parametrize(("window", "field"), [
    ({"start": iso("09:00"), "end": iso("12:00")}, "window.end"),  # this morning: over
    ({"start": iso("12:00", NEXT_DAY), "end": iso("09:00", NEXT_DAY)}, "window.end"),
    ({"start": iso("09:00", NEXT_DAY)}, "window.end"),
    ({"start": "tomorrow", "end": iso("12:00", NEXT_DAY)}, "window.start"),
    (None, "window"),
], ids=["past", "reversed", "no-end", "not-a-time", "null"])
def test_a_bad_new_window_is_a_422_naming_it_and_nothing_changes(client, personas, orders, failed, window, field) -> None:  # type: ignore[no-untyped-def]
    assert_problem(redeliver(client, personas, failed, window=window), 422, field)
    assert orders.status(failed) == "failed"


def test_a_failed_parcel_goes_back_to_the_pharmacy_with_the_reason(client, personas, failed) -> None:  # type: ignore[no-untyped-def]
    response = give_back(client, personas, failed, reason="Patient moved away")
    assert response.status_code == 200, response.get_json()
    last = response.get_json()["history"][-1]
    assert response.get_json()["status"] == "returned"
    assert (last["from"], last["to"], last["by"], last["reason"]) == (
        "failed", "returned", personas["pharmacist_chen"]["user_id"], "Patient moved away")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "delivery_order",
                                                    AuditEntry.action == "update").order_by(AuditEntry.id.desc()))
    assert entry.detail == {"change": "return"} and entry.entity_id == str(failed)


def test_a_dispatcher_may_return_a_parcel_too(client, personas, failed) -> None:  # type: ignore[no-untyped-def]
    assert give_back(client, personas, failed, "dispatcher_sun", reason="Unreachable").get_json()["status"] == "returned"


def test_a_returned_parcel_is_final(client, personas, orders, failed) -> None:  # type: ignore[no-untyped-def]
    give_back(client, personas, failed, reason="Patient moved away")
    assert_problem(redeliver(client, personas, failed), 409)
    assert_problem(give_back(client, personas, failed, reason="again"), 409)
    assert orders.status(failed) == "returned"


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}], ids=["missing", "empty", "blank"])
def test_a_return_needs_a_reason(client, personas, orders, failed, body) -> None:  # type: ignore[no-untyped-def]
    assert_problem(give_back(client, personas, failed, **body), 422, "reason")
    assert orders.status(failed) == "failed"


def test_a_parcel_still_on_its_way_to_the_courier_cannot_be_returned(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    parcel = orders.delivery_id()
    orders.move(parcel, "ready", "scheduled", "picked_up", "out_for_delivery")
    assert_problem(give_back(client, personas, parcel, reason="changed my mind"), 409)


@pytest.mark.parametrize("who", ["patient_wang", "courier_zhao", "nurse_li", "admin_root"])
def test_only_pharmacy_staff_and_dispatchers_redeliver_or_return(client, personas, orders, failed, who) -> None:  # type: ignore[no-untyped-def]
    assert_problem(redeliver(client, personas, failed, who), 403)
    assert_problem(give_back(client, personas, failed, who, reason="x"), 403)
    assert orders.status(failed) == "failed"
