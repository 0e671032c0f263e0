"""Delivering order events to a real local subscriber: signed, in order per order, once, through outages.

The clock is frozen and moved by hand (time-machine), so two hours of retries
take no time; the subscriber is a real HTTP server on 127.0.0.1, which the
setting ``webhook_allow_private`` lets us target.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from doorstep.db import session
from orders import webhooks
from orders.outbox import BODY_KEYS, OutboxEvent, WebhookDelivery
from tests.factories import TZ
from tests.orders.webhook_subscriber import Subscriber

SECRET = "whsec-0123456789abcdef"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # three days before the service day


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def private_ok(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_allow_private=True))


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    hook = Subscriber()
    yield hook
    hook.down()


def subscribe(client, personas, subscriber: Subscriber, events=("order.created", "order.status_changed")) -> int:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/webhooks", json={"url": subscriber.url, "secret": SECRET, "events": list(events)},
                           headers=personas.headers("admin_root"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def deliveries() -> list[WebhookDelivery]:
    session.expire_all()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)))


def by_order(received) -> dict[int, list[str]]:  # type: ignore[no-untyped-def]
    seen: dict[int, list[str]] = {}
    for r in received:
        seen.setdefault(r.body["order_id"], []).append(r.body["to_status"])
    return seen


def test_a_delivery_is_signed_over_the_raw_body_and_carries_ids_and_statuses_only(
        client, orders, personas, clock, private_ok, subscriber) -> None:  # type: ignore[no-untyped-def]
    subscriber.up()
    subscribe(client, personas, subscriber)
    visit = orders.care_id(notes="Diabetic foot ulcer, left heel")

    run = webhooks.deliver_due()

    assert (run.fanned_out, run.sent, run.delivered) == (1, 1, 1)
    [got] = subscriber.received
    assert got.signed_with(SECRET) and not got.signed_with("another-secret-value")
    assert got.headers["X-Doorstep-Signature"].startswith("sha256=")
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Doorstep-Event"] == "order.created"
    assert int(got.headers["X-Doorstep-Timestamp"]) == int(T0.timestamp())
    assert got.delivery == deliveries()[0].uid
    assert set(got.body) == set(BODY_KEYS)
    event = session.scalar(select(OutboxEvent))
    assert got.body == {"id": event.id, "type": "order.created", "at": T0.astimezone(UTC).isoformat(),
                        "order_id": visit, "kind": "care", "from_status": None, "to_status": "requested",
                        "version": 1}
    text = got.raw.decode()
    for personal in ("Wang", "13800000001", "Test Road", "Diabetic", "heel", "39.125", "117.2"):
        assert personal not in text


def test_a_subscriber_down_for_minutes_gets_each_event_once_in_order_per_order(
        client, orders, personas, clock, private_ok, subscriber) -> None:  # type: ignore[no-untyped-def]
    subscribe(client, personas, subscriber)
    visit = orders.care_id()
    assert client.post(f"/api/v1/care-orders/{visit}/triage", json={"accepted": True},
                       headers=personas.headers("dispatcher_sun")).status_code == 200
    parcel = orders.delivery_id()
    orders.move(parcel, "ready")
    assert client.post(f"/api/v1/orders/{parcel}/cancel", json={"reason": "Out of stock"},
                       headers=personas.headers("pharmacist_chen")).status_code == 200

    # Down: only the first event of each order is tried, and retried after 30 s, 1, 2, 4 min.
    waited = 0
    for delay in (0, 30, 60, 120, 240):
        clock.shift(delay)
        waited += delay
        run = webhooks.deliver_due()
        assert (run.sent, run.failed, run.delivered) == (2, 2, 0)
    assert subscriber.received == []
    heads = [d for d in deliveries() if d.attempts]
    assert len(heads) == 2 and all(d.attempts == 5 and "refused" in (d.last_error or "").lower() for d in heads)
    assert all(d.next_attempt_at == T0 + timedelta(seconds=waited + 480) for d in heads)
    assert webhooks.deliver_due().sent == 0, "nothing is due before the next attempt"

    subscriber.up()
    clock.shift(480)  # 15.5 minutes after the events
    total = webhooks.run_deliveries()

    assert total.delivered == 5 and total.failed == 0
    assert by_order(subscriber.received) == {visit: ["requested", "accepted"],
                                             parcel: ["awaiting_review", "ready", "cancelled"]}
    assert len({r.delivery for r in subscriber.received}) == 5, "each event exactly once"
    assert all(r.signed_with(SECRET) for r in subscriber.received)
    clock.shift(3600)
    assert webhooks.run_deliveries().sent == 0 and len(subscriber.received) == 5


def test_a_crash_between_sending_and_recording_resends_with_the_same_delivery_id(
        client, orders, personas, clock, private_ok, subscriber, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    subscriber.up()
    subscribe(client, personas, subscriber, events=["order.created"])
    orders.care_id()
    record = webhooks._record

    def crash(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise SystemExit("worker killed")

    monkeypatch.setattr(webhooks, "_record", crash)
    with pytest.raises(SystemExit):
        webhooks.deliver_due()
    session.rollback()
    monkeypatch.setattr(webhooks, "_record", record)
    assert len(subscriber.received) == 1 and deliveries()[0].status == "pending"

    clock.shift(60)
    assert webhooks.deliver_due().sent == 0, "the lease still holds"
    clock.shift(webhooks.LEASE.total_seconds())
    assert webhooks.deliver_due().delivered == 1

    first, second = subscriber.received
    assert first.delivery == second.delivery and first.raw == second.raw
    assert deliveries()[0].status == "delivered"


def test_after_two_hours_of_failures_a_delivery_is_dead_and_an_admin_replays_it(
        client, orders, personas, clock, private_ok, subscriber) -> None:  # type: ignore[no-untyped-def]
    subscribe(client, personas, subscriber, events=["order.created"])
    visit = orders.care_id()
    attempts_at: list[float] = []
    for _ in range(20):
        assert webhooks.deliver_due().sent == 1
        attempts_at.append((deliveries()[0].last_attempt_at - T0).total_seconds())
        if attempts_at[-1] <= 3600:
            assert deliveries()[0].status == "pending", "retries go on for at least an hour"
        if deliveries()[0].status != "pending":
            break
        clock.move_to(deliveries()[0].next_attempt_at)

    assert attempts_at == [0, 30, 90, 210, 450, 930, 1890, 3810, 5730, 7200]
    dead = deliveries()[0]
    assert dead.status == "dead" and dead.attempts == 10 and dead.dead_at == T0 + timedelta(hours=2)

    personas._tokens.clear()  # two hours on, the morning's tokens have expired
    admin = personas.headers("admin_root")
    listed = client.get("/api/v1/webhooks/dead-letters", headers=admin).get_json()
    assert [(d["id"], d["order_id"], d["event_type"], d["attempts"]) for d in listed] == [
        (dead.id, visit, "order.created", 10)]
    assert listed[0]["delivery_id"] == dead.uid

    subscriber.up()
    replayed = client.post(f"/api/v1/webhooks/dead-letters/{dead.id}/replay", headers=admin)
    assert replayed.status_code == 202 and replayed.get_json()["status"] == "pending"
    assert webhooks.deliver_due().delivered == 1
    assert [r.delivery for r in subscriber.received] == [dead.uid]
    assert client.get("/api/v1/webhooks/dead-letters", headers=admin).get_json() == []
    assert client.post(f"/api/v1/webhooks/dead-letters/{dead.id}/replay", headers=admin).status_code == 409


def test_a_target_that_turned_private_is_not_contacted_at_delivery_time(
        client, orders, personas, clock, private_ok, subscriber, app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    subscriber.up()
    subscribe(client, personas, subscriber, events=["order.created"])
    orders.care_id()
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_allow_private=False))

    run = webhooks.deliver_due()

    assert (run.sent, run.failed) == (1, 1) and subscriber.received == []
    assert "non-public" in deliveries()[0].last_error


def test_a_redirect_is_a_failure_and_is_not_followed(client, orders, personas, clock, private_ok) -> None:  # type: ignore[no-untyped-def]
    target, elsewhere = Subscriber().up(), Subscriber().up()
    try:
        target.answer = (307, {"Location": elsewhere.url})
        subscribe(client, personas, target, events=["order.created"])
        orders.care_id()
        assert webhooks.deliver_due().failed == 1
        assert len(target.received) == 1 and elsewhere.received == []
        assert "redirect" in deliveries()[0].last_error
    finally:
        target.down()
        elsewhere.down()


def test_events_reach_only_subscribers_of_their_type_and_not_deleted_ones(
        client, orders, personas, clock, private_ok) -> None:  # type: ignore[no-untyped-def]
    created_only, changes_only, deleted = Subscriber().up(), Subscriber().up(), Subscriber().up()
    try:
        subscribe(client, personas, created_only, events=["order.created"])
        subscribe(client, personas, changes_only, events=["order.status_changed"])
        gone = subscribe(client, personas, deleted)
        visit = orders.care_id()
        orders.move(visit, "accepted")
        assert client.delete(f"/api/v1/webhooks/{gone}", headers=personas.headers("admin_root")).status_code == 204

        webhooks.run_deliveries()

        assert [r.body["type"] for r in created_only.received] == ["order.created"]
        assert [r.body["to_status"] for r in changes_only.received] == ["accepted"]
        assert deleted.received == []
        assert session.scalar(select(OutboxEvent.fanned_out_at).limit(1)) is not None
    finally:
        for hook in (created_only, changes_only, deleted):
            hook.down()


def test_many_events_are_delivered_in_batches_by_one_run(client, orders, personas, clock, private_ok, subscriber) -> None:  # type: ignore[no-untyped-def]
    subscriber.up()
    subscribe(client, personas, subscriber, events=["order.status_changed"])
    visits = [orders.care_id(start=f"{9 + n % 8:02d}:00", end=f"{10 + n % 8:02d}:00") for n in range(3)]
    for visit in visits:
        orders.move(visit, "accepted", "scheduled", "en_route", "in_progress", "completed")

    total = webhooks.run_deliveries()

    assert total.delivered == 15 and total.sent == 15
    assert by_order(subscriber.received) == {v: ["accepted", "scheduled", "en_route", "in_progress", "completed"]
                                             for v in visits}
    assert all(json.loads(r.raw)["kind"] == "care" for r in subscriber.received)
