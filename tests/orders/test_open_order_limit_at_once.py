"""Two bookings at the same moment for a patient's last open place: one is placed, the other is a 409.

A booking locks the patient's row first (``orders.access.access_me_at``), and the open-order
count is the condition of the order's own INSERT (``orders.series.insert_within_open_order_limit``),
a statement that starts once the lock is held: a booking that waited for the lock sees the order
the other one committed. Counted any earlier (in the locking statement, say), both would pass.
On PostgreSQL only: SQLite has no row locks, it serialises writers whole.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

import orders.service as service_module
from doorstep.db import session
from doorstep.errors import Conflict
from orders.models import CareOrder
from orders.service import place_care_order
from tests.dispatch.service_helpers import actor_of
from tests.factories import at

HOLD_S = 1.0  # the first booking keeps its transaction open this long after writing its order


@pytest.fixture(autouse=True)
def _postgresql_only(app) -> None:  # type: ignore[no-untyped-def]
    if app.extensions["doorstep.engine"].dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")


def test_two_bookings_at_once_for_the_last_place_place_one_and_refuse_the_other(  # type: ignore[no-untyped-def]
        app, personas, hospital, monkeypatch) -> None:
    hospital(max_open_care_orders=1)
    written, outcomes = threading.Event(), {}
    record_creation = service_module.record_creation

    def record_slowly(order: Any, actor: Any) -> Any:
        """The first booking has written its order and holds the patient's lock: it takes its time."""
        if not written.is_set():
            written.set()
            time.sleep(HOLD_S)
        return record_creation(order, actor)

    monkeypatch.setattr(service_module, "record_creation", record_slowly)

    def book(name: str) -> None:
        with app.app_context():
            try:
                place_care_order(actor_of(personas, "patient_wang"), service_code="wound_dressing_change",
                                 address_id=personas["patient_wang"]["address_id"],
                                 window_start=at("09:00"), window_end=at("11:00"))
                session.commit()
                outcomes[name] = "placed"
            except Conflict as exc:
                outcomes[name] = f"409 {exc}"
                session.rollback()
            finally:
                session.remove()

    first = threading.Thread(target=book, args=("first",))
    first.start()
    assert written.wait(30)
    second = threading.Thread(target=book, args=("second",))  # waits for the first one's lock
    second.start()
    for thread in (first, second):
        thread.join(60)

    assert outcomes["first"] == "placed"
    assert outcomes["second"].startswith("409") and "(1)" in outcomes["second"], outcomes
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CareOrder)) == 1
