"""Orders for the dispatch-service tests, placed through the orders service as clients do.

Each helper commits, as the web request that placed the order would have,
so ``run_plan`` (which commits its own transactions) sees finished orders.
"""
from __future__ import annotations

import itertools

from sqlalchemy import select

from dispatch.models import Plan, Route, Worker
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.models import User
from orders.deliveries import create_delivery_order, review_prescription
from orders.models import Order
from orders.service import (
    place_care_order,
    triage_care_order,
)
from tests.factories import SERVICE_DATE, at

_prescriptions = itertools.count(1)


def planned_day(personas) -> int:  # type: ignore[no-untyped-def]
    """The dispatcher plans SERVICE_DATE and the plan runs here, as the optimise worker would; its id."""
    from dispatch.service import request_plan, run_plan

    plan = request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE)
    session.commit()
    done = run_plan(plan.id)
    assert done is not None and done.status == "done", done.error
    return done.id


def actor_of(personas, name: str) -> Actor:  # type: ignore[no-untyped-def]
    user = session.get(User, personas[name]["user_id"])
    assert user is not None
    return Actor(user.id, user.role, user.worker_id, user.pharmacy_id, user.patient_id)


def accepted_visit(personas, patient: str = "patient_wang", service_code: str = "vital_signs_check",  # type: ignore[no-untyped-def]
                   window: tuple[str, str] = ("09:00", "12:00")) -> int:
    """A care order triaged ``accepted`` by the dispatcher: ready to be planned."""
    order = place_care_order(actor_of(personas, patient), service_code=service_code,
                             address_id=personas[patient]["address_id"],
                             window_start=at(window[0]), window_end=at(window[1]))
    triage_care_order(actor_of(personas, "dispatcher_sun"), order.id, accepted=True)
    session.commit()
    return order.id


def ready_parcel(personas, patient: str = "patient_wang", pharmacist: str = "pharmacist_chen",  # type: ignore[no-untyped-def]
                 cold_chain: bool = False, window: tuple[str, str] | None = ("13:00", "16:00")) -> int:
    """A delivery order reviewed ``ready`` by its pharmacist."""
    pharmacist_actor = actor_of(personas, pharmacist)
    order = create_delivery_order(
        pharmacist_actor, prescription_ref=f"RX-TEST-{next(_prescriptions)}",
        patient_id=personas[patient]["patient_id"], address_id=personas[patient]["address_id"],
        items=[{"name": "Metformin 500 mg", "quantity": 2}], cold_chain=cold_chain,
        window_start=at(window[0]) if window else None, window_end=at(window[1]) if window else None)
    review_prescription(pharmacist_actor, order.id, approved=True)
    session.commit()
    return order.id


def status_of(order_id: int) -> str:
    return session.scalar(select(Order.status).where(Order.id == order_id).execution_options(populate_existing=True))


def routes_by_worker(plan_id: int) -> dict[int, list[int]]:
    """``{worker_id: [order ids of its task stops, in order]}`` as saved."""
    session.expire_all()
    routes = session.scalars(select(Route).where(Route.plan_id == plan_id)).all()
    return {r.worker_id: [s.order_id for s in r.stops if s.order_id is not None] for r in routes}


def reload_plan(plan_id: int) -> Plan:
    session.expire_all()
    plan = session.get(Plan, plan_id)
    assert plan is not None
    return plan


def worker(personas, name: str) -> Worker:  # type: ignore[no-untyped-def]
    found = session.get(Worker, personas[name]["worker_id"])
    assert found is not None
    return found
