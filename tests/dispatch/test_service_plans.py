"""``request_plan`` and ``run_plan``, called directly (not through Celery's eager mode)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import dispatch.search
from dispatch.models import Plan, Route, Stop, Worker
from dispatch.service import request_plan, run_plan
from doorstep.db import session, utcnow
from doorstep.errors import ValidationFailed
from orders.models import CareOrder, Order, OrderEvent
from tests.dispatch.service_helpers import (
    accepted_visit,
    actor_of,
    ready_parcel,
    reload_plan,
    routes_by_worker,
    status_of,
)
from tests.factories import SERVICE_DATE


def _queued_plan(personas, districts=None) -> int:  # type: ignore[no-untyped-def]
    plan = request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE, districts=districts)
    session.commit()
    return plan.id


def test_running_a_plan_schedules_the_orders_and_writes_stops_that_respect_skills_and_districts(personas) -> None:
    picc = accepted_visit(personas, patient="patient_liu", service_code="picc_maintenance", window=("09:00", "11:00"))
    basic = accepted_visit(personas, patient="patient_liu", service_code="intramuscular_injection",
                           window=("13:00", "15:00"))
    parcel = ready_parcel(personas, cold_chain=True)
    plan = run_plan(_queued_plan(personas))

    assert plan is not None and plan.status == "done" and plan.progress == 1.0 and plan.finished_at
    assert plan.summary["assigned"] == 3 and plan.unassigned == []
    routes = routes_by_worker(plan.id)
    assert picc in routes[personas["nurse_li"]["worker_id"]]  # nurse_zhou has no picc skill
    assert parcel in routes[personas["courier_zhao"]["worker_id"]]
    assert all(status_of(o) == "scheduled" for o in (picc, basic, parcel))
    for route in session.scalars(select(Route).where(Route.plan_id == plan.id)):
        worker = session.get(Worker, route.worker_id)
        for stop in route.stops:
            if stop.order_id is None:
                continue
            order = session.get(Order, stop.order_id)
            assert order.district in worker.districts
            if isinstance(order, CareOrder):
                assert worker.kind == "nurse" and set(order.skills) <= set(worker.skills)
            else:
                assert worker.kind == "courier"
    parcel_stops = session.scalars(select(Stop).where(Stop.order_id == parcel).order_by(Stop.sequence)).all()
    assert [s.type for s in parcel_stops] == ["pickup", "dropoff"]
    assert all(s.arrival.tzinfo and s.start <= s.end for s in parcel_stops)
    assert parcel_stops[0].lat == pytest.approx(39.1270)  # the pharmacy
    history = session.scalars(select(OrderEvent).where(OrderEvent.order_id == picc).order_by(OrderEvent.id)).all()
    assert history[-1].to_status == "scheduled" and history[-1].reason == f"plan {plan.id}"


def test_an_order_no_worker_may_serve_is_listed_unassigned_with_its_reason(personas) -> None:
    tracheostomy = accepted_visit(personas, service_code="tracheostomy_care")  # nobody has the skill
    plan = run_plan(_queued_plan(personas))
    assert plan.status == "done" and plan.summary["assigned"] == 0
    assert plan.unassigned == [{"order_id": tracheostomy, "task": f"visit-{tracheostomy}",
                                "reason": "no_worker_with_skills", "detail": plan.unassigned[0]["detail"]}]
    assert status_of(tracheostomy) == "accepted"


def test_requesting_the_same_day_twice_returns_the_queued_plan(personas) -> None:
    first = _queued_plan(personas)
    assert _queued_plan(personas) == first
    assert _queued_plan(personas, districts=["heping"]) != first  # another scope is another plan
    assert session.scalar(select(func.count()).select_from(Plan)) == 2


def test_a_plan_request_names_unknown_districts_and_bad_dates(personas) -> None:
    dispatcher = actor_of(personas, "dispatcher_sun")
    with pytest.raises(ValidationFailed) as unknown:
        request_plan(dispatcher, date=SERVICE_DATE, districts=["heping", "atlantis"])
    assert set(unknown.value.errors) == {"districts.1"}
    with pytest.raises(ValidationFailed) as bad_date:
        request_plan(dispatcher, date="23/11/2026")
    assert set(bad_date.value.errors) == {"date"}


def test_running_a_done_plan_again_changes_nothing(personas) -> None:
    accepted_visit(personas)
    plan_id = _queued_plan(personas)
    done = run_plan(plan_id)
    version, events = done.version, session.scalar(select(func.count()).select_from(OrderEvent))
    again = run_plan(plan_id)
    assert again.status == "done" and reload_plan(plan_id).version == version
    assert session.scalar(select(func.count()).select_from(Route)) == 1
    assert session.scalar(select(func.count()).select_from(OrderEvent)) == events


def test_a_plan_left_solving_by_a_dead_worker_is_solved_again_after_the_hard_time_limit(personas) -> None:
    visit = accepted_visit(personas)
    plan_id = _queued_plan(personas)
    plan = reload_plan(plan_id)
    plan.status, plan.started_at = "solving", utcnow() - timedelta(seconds=60)
    session.commit()
    assert run_plan(plan_id).status == "solving"  # maybe still running somewhere: leave it
    plan = reload_plan(plan_id)
    plan.started_at = utcnow() - timedelta(hours=1)
    session.commit()
    assert run_plan(plan_id).status == "done" and status_of(visit) == "scheduled"


def test_an_order_cancelled_while_solving_is_not_scheduled(personas, app) -> None:
    keep, cancel = accepted_visit(personas), accepted_visit(personas, window=("13:00", "15:00"))
    engine = app.extensions["doorstep.engine"]

    def cancel_elsewhere(fraction: float, message: str) -> None:
        if fraction < 0.05:  # the first report, once the problem is built: another request cancels
            with Session(engine) as other, other.begin():
                order = other.get(Order, cancel)
                order.status = "cancelled"

    plan = run_plan(_queued_plan(personas), on_progress=cancel_elsewhere)
    assert plan.status == "done"
    assert status_of(keep) == "scheduled" and status_of(cancel) == "cancelled"
    assert cancel not in [o for orders in routes_by_worker(plan.id).values() for o in orders]
    assert {"order_id": cancel, "reason": "cancelled"}.items() <= plan.unassigned[0].items()


def test_a_failing_solve_marks_the_plan_failed_and_leaves_the_orders_alone(personas, monkeypatch) -> None:
    visit = accepted_visit(personas)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("model has no feasible start")

    monkeypatch.setattr(dispatch.search, "solve_document", broken)
    plan = run_plan(_queued_plan(personas))
    assert plan.status == "failed" and plan.error == "RuntimeError: model has no feasible start"
    assert status_of(visit) == "accepted" and session.scalar(select(func.count()).select_from(Route)) == 0


def test_a_transient_database_error_is_raised_for_a_retry_and_requeues_the_plan(personas, monkeypatch) -> None:
    accepted_visit(personas)

    def database_gone(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    monkeypatch.setattr(dispatch.search, "solve_document", database_gone)
    plan_id = _queued_plan(personas)
    with pytest.raises(OperationalError):
        run_plan(plan_id, final_attempt=False)
    assert reload_plan(plan_id).status == "queued"
    with pytest.raises(OperationalError):
        run_plan(plan_id, final_attempt=True)
    plan = reload_plan(plan_id)
    assert plan.status == "failed" and plan.error == "database error (OperationalError)"


def test_progress_is_committed_while_solving_so_pollers_see_it(personas, app) -> None:
    accepted_visit(personas)
    seen: list[float] = []
    engine = app.extensions["doorstep.engine"]

    def peek(fraction: float, message: str) -> None:
        with engine.connect() as conn:
            seen.append(conn.execute(select(Plan.progress).where(Plan.id == plan_id)).scalar_one())

    plan_id = _queued_plan(personas)
    run_plan(plan_id, on_progress=peek)
    assert seen[-1] == 1.0 or seen[-2] >= 0.95
    assert any(0 < value < 1 for value in seen)


def test_a_missing_plan_is_a_no_op(app, client) -> None:
    assert run_plan(424242) is None
    assert session.scalar(select(func.count()).select_from(Plan)) == 0


def test_the_task_is_sent_only_once_the_request_commits_and_never_after_a_rollback(personas, monkeypatch) -> None:
    from dispatch.tasks import solve_plan

    sent: list[int] = []
    monkeypatch.setattr(solve_plan, "delay", lambda plan_id: sent.append(plan_id))
    dispatcher = actor_of(personas, "dispatcher_sun")
    plan = request_plan(dispatcher, date=SERVICE_DATE)
    assert sent == []
    session.commit()
    assert sent == [plan.id]
    request_plan(dispatcher, date="2026-11-24")
    session.rollback()
    assert sent == [plan.id]


def test_the_celery_task_called_as_a_function_solves_the_plan(personas) -> None:
    from dispatch.tasks import solve_plan

    visit = accepted_visit(personas)
    plan_id = _queued_plan(personas)
    assert solve_plan(plan_id) == {"plan_id": plan_id, "status": "done"}
    assert solve_plan(plan_id) == {"plan_id": plan_id, "status": "done"}  # redelivered: nothing twice
    assert status_of(visit) == "scheduled"
    assert session.scalar(select(func.count()).select_from(Route)) == 1
