"""Re-plans and insertions follow what the field reported, found wrong by ``bench.day``.

Courier Zhao serves every district from 08:00 to 17:00 and lives at the Heping pharmacy;
patient Wang lives in Heping. Reports go through the phones' service (``mobile_api.service``)
and commit, as a request would; re-plans and insertions are called as their tasks call them.
"""
from __future__ import annotations

import threading
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from dispatch import replan as replan_module
from dispatch.models import Route, Stop
from dispatch.replan import insert_order, replan_district
from doorstep.db import session
from mobile_api.service import record_stop_event
from orders.deliveries import redeliver
from tests.dispatch.service_helpers import actor_of, planned_day, ready_parcel, status_of
from tests.factories import SERVICE_DATE, at, make_worker


def _report(personas, stop_id: int, type_: str, **extra: Any) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from doorstep.db import utcnow

    now: datetime = utcnow()
    record_stop_event(actor_of(personas, "courier_zhao"), stop_id, type=type_, at=now, lat=39.125, lon=117.2,
                      **extra)
    session.commit()


def _stops(order_id: int) -> list[Stop]:
    """The order's stops on every route, as the database has them, in route order."""
    session.expire_all()
    return list(session.scalars(select(Stop).where(Stop.order_id == order_id).order_by(Stop.route_id,
                                                                                        Stop.sequence)))


def _open(order_id: int) -> list[tuple[str, int]]:
    """(type, worker id) of the order's stops still to be done."""
    return [(s.type, s.route.worker_id) for s in _stops(order_id) if s.status not in ("done", "failed")]


def _sequence(route_id: int) -> list[int]:
    session.expire_all()
    return list(session.scalars(select(Stop.id).where(Stop.route_id == route_id).order_by(Stop.sequence)))


def _deliver_and_fail(personas, parcel: int) -> None:  # type: ignore[no-untyped-def]
    pickup, dropoff = (s.id for s in _stops(parcel))
    _report(personas, pickup, "pickup", seal_code=f"SEAL-{parcel}")
    _report(personas, dropoff, "depart")
    _report(personas, dropoff, "arrive")
    _report(personas, dropoff, "fail", reason="Nobody at home.")


def test_a_redelivered_parcel_is_scheduled_on_one_route_and_its_new_pickup_is_taken(personas) -> None:
    # A second courier at the pharmacy, so the new attempt may well go to someone else.
    make_worker("courier", "Qian Bo", [], ["heping"], (39.1270, 117.2050), capacity={"parcels": 30})
    session.commit()
    parcel = ready_parcel(personas, window=("09:00", "11:00"))
    planned_day(personas)
    with time_machine.travel(at("10:00"), tick=False):
        _deliver_and_fail(personas, parcel)
        assert status_of(parcel) == "failed"
        redeliver(actor_of(personas, "pharmacist_chen"), parcel, window_start=at("12:00"), window_end=at("15:00"))
        session.commit()

        insert_order(parcel)

        assert status_of(parcel) == "scheduled"  # not left 'ready' behind its failed attempt's stops
        first_attempt = [(s.type, s.status) for s in _stops(parcel) if s.status != "planned"]
        assert first_attempt == [("pickup", "done"), ("dropoff", "failed")]  # the record stays
        attempt = _open(parcel)
        assert [t for t, _ in attempt] == ["pickup", "dropoff"] and len({w for _, w in attempt}) == 1

        replan_district("heping", SERVICE_DATE, "manual:after-redelivery")

        assert status_of(parcel) == "scheduled"
        attempt = _open(parcel)
        assert [t for t, _ in attempt] == ["pickup", "dropoff"], attempt  # once, not copied
        assert len({w for _, w in attempt}) == 1
        new_pickup = next(s for s in _stops(parcel) if s.type == "pickup" and s.status == "planned")
        if new_pickup.route.worker_id == personas["courier_zhao"]["worker_id"]:
            _report(personas, new_pickup.id, "pickup", seal_code=f"SEAL-{parcel}")
            assert status_of(parcel) == "picked_up"


def test_a_parcel_picked_up_stays_on_its_couriers_route_when_its_window_is_missed(personas) -> None:
    parcel = ready_parcel(personas, window=("10:00", "11:00"))
    planned_day(personas)
    zhao = personas["courier_zhao"]["worker_id"]
    with time_machine.travel(at("10:00"), tick=False):
        _report(personas, _stops(parcel)[0].id, "pickup", seal_code=f"SEAL-{parcel}")
    with time_machine.travel(at("11:30"), tick=False):  # the window is over: late beats not at all
        version = replan_district("heping", SERVICE_DATE, "manual:window-missed")

    assert version is not None and version.diff["dropped"] == []
    assert _open(parcel) == [("dropoff", zhao)] and status_of(parcel) == "picked_up"


def test_a_parcel_picked_up_stays_on_its_couriers_route_after_the_end_of_the_shift(personas) -> None:
    parcel = ready_parcel(personas, window=("13:00", "16:00"))
    planned_day(personas)
    zhao = personas["courier_zhao"]["worker_id"]
    with time_machine.travel(at("13:00"), tick=False):
        _report(personas, _stops(parcel)[0].id, "pickup", seal_code=f"SEAL-{parcel}")
    with time_machine.travel(at("17:30"), tick=False):
        version = replan_district("heping", SERVICE_DATE, "manual:after-shift")

    assert version is not None and version.diff["dropped"] == []
    assert _open(parcel) == [("dropoff", zhao)] and status_of(parcel) == "picked_up"


def test_a_visit_still_ahead_of_a_nurse_past_her_shift_stays_with_her_when_nobody_else_can_take_it(personas) -> None:
    from tests.dispatch.service_helpers import accepted_visit

    visit = accepted_visit(personas, window=("15:00", "17:00"))  # Heping: only nurse Li serves it
    planned_day(personas)
    with time_machine.travel(at("17:30"), tick=False):  # she runs late; the office has not given up on it
        version = replan_district("heping", SERVICE_DATE, "manual:past-shift")

    assert version is not None and version.diff["dropped"] == []
    assert _open(visit) == [("visit", personas["nurse_li"]["worker_id"])] and status_of(visit) == "scheduled"


def test_stops_reported_while_a_replan_solves_keep_the_order_they_were_done_in(app, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = ready_parcel(personas, window=("10:00", "14:00"))
    second = ready_parcel(personas, window=("10:00", "14:00"))
    plan_id = planned_day(personas)
    route_id = session.scalar(select(Route.id).where(Route.plan_id == plan_id))
    pickups = [s.id for s in session.scalars(select(Stop).where(Stop.route_id == route_id, Stop.type == "pickup")
                                             .order_by(Stop.sequence))]
    assert len(pickups) == 2
    solve = replan_module._solve

    def solve_while_the_courier_works(doc, progress):  # type: ignore[no-untyped-def]
        """The courier scans the plan's second parcel first, then the first, while the optimiser runs."""
        def phone() -> None:
            with app.app_context():
                try:
                    _report(personas, pickups[1], "pickup", seal_code="SEAL-B")
                    _report(personas, pickups[0], "pickup", seal_code="SEAL-A")
                finally:
                    session.remove()

        thread = threading.Thread(target=phone)
        thread.start()
        thread.join()
        return solve(doc, progress)

    monkeypatch.setattr(replan_module, "_solve", solve_while_the_courier_works)
    with time_machine.travel(at("10:00"), tick=False):
        replan_district("heping", SERVICE_DATE, "manual:during-pickups")

    sequence = [s for s in _sequence(route_id) if s in pickups]
    assert sequence == [pickups[1], pickups[0]]  # as they happened
    for parcel in (first, second):
        assert status_of(parcel) == "picked_up"
        assert [t for t, _ in _open(parcel)] == ["dropoff"]  # no second pickup planned for a parcel in hand


def test_a_visit_a_dispatcher_moves_while_another_district_replans_stays_on_one_route(app, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Nurse Li serves Heping and Nankai: a Heping re-plan has patient Liu's Nankai visit on Li's route
    (pinned to her); while it solves, the dispatcher moves the visit to nurse Zhou (Nankai's lock).
    The re-plan's write is refused (the plan's version changed) and its retry reads the day again."""
    from dispatch.steering import move_task
    from tests.dispatch.service_helpers import accepted_visit, routes_by_worker

    visit = accepted_visit(personas, patient="patient_liu", window=("13:00", "16:00"))
    plan_id = planned_day(personas)
    li, zhou = personas["nurse_li"]["worker_id"], personas["nurse_zhou"]["worker_id"]
    dispatcher = actor_of(personas, "dispatcher_sun")
    with time_machine.travel(at("10:00"), tick=False):
        if visit not in routes_by_worker(plan_id).get(li, []):
            move_task(dispatcher, plan_id, visit, worker_id=li)
        solve = replan_module._solve

        def solve_while_the_desk_works(doc, progress):  # type: ignore[no-untyped-def]
            def desk() -> None:
                with app.app_context():
                    try:
                        move_task(actor_of(personas, "dispatcher_sun"), plan_id, visit, worker_id=zhou)
                        session.commit()
                    finally:
                        session.remove()

            thread = threading.Thread(target=desk)
            thread.start()
            thread.join()
            return solve(doc, progress)

        monkeypatch.setattr(replan_module, "_solve", solve_while_the_desk_works)
        with pytest.raises(StaleDataError):  # the plan's version: its task tries again
            replan_district("heping", SERVICE_DATE, "manual:while-moved")
        session.rollback()
        monkeypatch.setattr(replan_module, "_solve", solve)
        version = replan_district("heping", SERVICE_DATE, "manual:while-moved")

    assert _open(visit) == [("visit", zhou)]  # where the dispatcher put it, once
    assert status_of(visit) == "scheduled"
    assert all(e["order_id"] != visit for k in ("added", "moved", "dropped") for e in version.diff[k])
