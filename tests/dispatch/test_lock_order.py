"""A re-plan and a stop report at the same moment wait for each other; they never deadlock.

Both take their row locks in the one order ``dispatch.locks`` documents: orders, then stops, by
id. On PostgreSQL only (SQLite has no row locks: it serialises writers whole): a re-plan holds its
locks while a courier scans a parcel of the same route from another connection.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from dispatch import replan as replan_module
from dispatch.models import Stop
from dispatch.replan import replan_district
from dispatch.service import request_plan, run_plan
from doorstep.db import session, utcnow
from mobile_api.service import record_stop_event
from tests.dispatch.service_helpers import actor_of, ready_parcel, status_of
from tests.factories import SERVICE_DATE, at

HOLD_S = 1.5  # longer than PostgreSQL's deadlock_timeout (1 s), so a deadlock would be found


@pytest.fixture(autouse=True)
def _postgresql_only(app) -> None:  # type: ignore[no-untyped-def]
    if app.extensions["doorstep.engine"].dialect.name != "postgresql":
        pytest.skip("row locks and deadlocks are PostgreSQL's; SQLite serialises writers")


def test_a_replan_and_a_stop_report_at_once_neither_deadlock_nor_fail(app, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    parcel = ready_parcel(personas, window=("10:00", "14:00"))
    plan = request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE)
    session.commit()
    assert run_plan(plan.id).status == "done"
    pickup = session.scalar(select(Stop.id).where(Stop.order_id == parcel, Stop.type == "pickup"))
    locked, errors = threading.Event(), []
    rewrite = replan_module._rewrite

    def rewrite_slowly(*args: Any, **kwargs: Any) -> Any:
        """The re-plan has taken its locks (orders, and now stops too): it takes its time writing."""
        locked.set()
        time.sleep(HOLD_S)
        return rewrite(*args, **kwargs)

    monkeypatch.setattr(replan_module, "_rewrite", rewrite_slowly)

    def run(work: Any) -> None:
        with app.app_context():
            try:
                work()
                session.commit()
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)
                session.rollback()
            finally:
                session.remove()

    def replan() -> None:
        replan_district("heping", SERVICE_DATE, "manual:lock-order")

    def scan() -> None:
        assert locked.wait(30)
        record_stop_event(actor_of(personas, "courier_zhao"), pickup, type="pickup", at=utcnow(), lat=39.127,
                          lon=117.205, seal_code="SEAL-1")

    with time_machine.travel(at("10:00"), tick=True):
        threads = [threading.Thread(target=run, args=(work,)) for work in (replan, scan)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    assert errors == []
    assert status_of(parcel) == "picked_up"
    session.expire_all()
    assert session.get(Stop, pickup).status == "done"
