"""Status changes: every one in the history and the outbox; an illegal or stale one is a 409 that writes nothing."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine
from sqlalchemy import func, select, text

from doorstep.db import session
from orders import service
from orders.lifecycle import change_status
from orders.models import Order
from orders.outbox import OutboxEvent
from tests.factories import TZ
from tests.orders.helpers import assert_problem


@pytest.fixture(autouse=True)
def _before_the_service_day() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=TZ), tick=True):
        yield


def outbox(order_id: int) -> list[tuple[str | None, str, int]]:
    session.expire_all()
    rows = session.scalars(select(OutboxEvent).where(OutboxEvent.order_id == order_id).order_by(OutboxEvent.id))
    return [(e.from_status, e.to_status, e.version) for e in rows]


def test_every_change_is_in_the_history_and_the_outbox_with_a_rising_version(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit = orders.care_id()
    path = ["accepted", "scheduled", "en_route", "in_progress", "completed"]
    orders.move(visit, *path)

    history = orders.get(visit, "dispatcher_sun").get_json()["history"]
    assert [(h["from"], h["to"]) for h in history] == list(zip([None, "requested", *path[:-1]], ["requested", *path]))
    events = outbox(visit)
    assert [(f, t) for f, t, _ in events] == [(h["from"], h["to"]) for h in history]
    versions = [v for _, _, v in events]
    assert versions == sorted(set(versions)) and versions[-1] == session.get(Order, visit).version


def test_an_illegal_change_is_409_and_writes_no_history_and_no_event(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    visit = orders.care_id()
    triage = f"/api/v1/care-orders/{visit}/triage"
    headers = personas.headers("dispatcher_sun")
    assert client.post(triage, json={"accepted": True}, headers=headers).status_code == 200
    history, events = orders.history_count(visit), outbox(visit)

    assert_problem(client.post(triage, json={"accepted": False, "reason": "No"}, headers=headers), 409)

    assert orders.status(visit) == "accepted"
    assert orders.history_count(visit) == history and outbox(visit) == events


def test_a_change_from_a_stale_version_is_409_and_overwrites_nothing(client, orders, personas, monkeypatch, app) -> None:  # type: ignore[no-untyped-def]
    """Two changes start from the same version; the second to commit loses.

    The cancel request reads the order; before it writes, another transaction (the
    triage nurse on another connection) moves it on and commits. The cancel must
    fail on the version column, not overwrite the triage.
    """
    visit = orders.care_id()
    engine = app.extensions["doorstep.engine"]
    real_change_status = change_status

    def race_then_change(order, to_status, actor, reason=None):  # type: ignore[no-untyped-def]
        with engine.begin() as other:
            other.execute(text("UPDATE orders SET status = 'accepted', version = version + 1 WHERE id = :id"),
                          {"id": visit})
        return real_change_status(order, to_status, actor, reason)

    monkeypatch.setattr(service, "change_status", race_then_change)
    response = client.post(f"/api/v1/orders/{visit}/cancel", json={"reason": "x"},
                           headers=personas.headers("patient_wang"))

    body = assert_problem(response, 409)
    assert "same time" in body["detail"]
    assert orders.status(visit) == "accepted", "the first change stands"
    assert orders.history_count(visit) == 1, "the loser's history row was rolled back"
    assert [t for _, t, _ in outbox(visit)] == ["requested"], "and so was its outbox row"
    assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
