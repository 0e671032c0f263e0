"""A finished plan for the service day, built by hand so mobile tests need no solver.

Orders are placed, triaged and reviewed through ``orders.service`` and moved to
``scheduled`` with ``change_status``, as ``dispatch.service.run_plan`` would.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from dispatch.models import Plan, Route, Stop
from doorstep.auth import Actor
from doorstep.db import session
from orders.lifecycle import change_status
from orders.models import Address, Pharmacy
from orders.deliveries import create_delivery_order, review_prescription
from orders.service import (
    place_care_order,
    triage_care_order,
)
from tests.factories import at, iso

ROLE_BY_PREFIX = {"admin": "admin", "dispatcher": "dispatcher", "pharmacist": "pharmacist", "nurse": "nurse",
                  "courier": "courier", "patient": "patient"}


def actor_of(personas: Any, name: str) -> Actor:
    """The service-layer Actor of a persona (what a token for them would carry)."""
    ids = personas[name]
    return Actor(user_id=ids["user_id"], role=ROLE_BY_PREFIX[name.split("_")[0]],
                 worker_id=ids["worker_id"] or None, pharmacy_id=ids["pharmacy_id"] or None,
                 patient_id=ids["patient_id"] or None)


@dataclass
class Day:
    """Ids of the hand-made plan: orders, routes and the stops of each route by name."""

    plan_id: int
    wound_care_id: int  # patient_wang, nurse_li
    vitals_id: int  # patient_liu, nurse_li (a second visit, for cancelling)
    injection_id: int  # patient_liu, nurse_zhou
    parcel_id: int  # patient_wang, courier_zhao
    li_route_id: int
    zhou_route_id: int
    zhao_route_id: int
    stops: dict[str, int]


def _stop(route: Route, sequence: int, type_: str, point: tuple[float, float], hhmm: str,
          order_id: int | None = None, minutes: int = 0) -> Stop:
    start = at(hhmm)
    stop = Stop(route=route, sequence=sequence, type=type_, order_id=order_id, lat=point[0], lon=point[1],
                arrival=start, start=start, end=start + timedelta(minutes=minutes))
    session.add(stop)
    return stop


@pytest.fixture
def day(personas: Any) -> Day:
    """A done plan for 2026-11-23: nurse_li start → wound care (wang) → vitals (liu) → end;
    nurse_zhou start → injection (liu) → end; courier_zhao start → pickup → drop-off (wang) → end."""
    wang, liu = actor_of(personas, "patient_wang"), actor_of(personas, "patient_liu")
    dispatcher, chen = actor_of(personas, "dispatcher_sun"), actor_of(personas, "pharmacist_chen")
    wang_address = session.get(Address, personas["patient_wang"]["address_id"])
    liu_address = session.get(Address, personas["patient_liu"]["address_id"])
    pharmacy = session.get(Pharmacy, personas["pharmacy"]["heping"])
    wang_address.access_notes = "Gate code 1234#, 3rd floor, friendly dog"

    wound = place_care_order(wang, service_code="wound_dressing_change", address_id=wang_address.id,
                             window_start=at("09:00"), window_end=at("11:00"), notes="Left shin, change daily")
    vitals = place_care_order(liu, service_code="vital_signs_check", address_id=liu_address.id,
                              window_start=at("13:00"), window_end=at("15:00"))
    injection = place_care_order(liu, service_code="intramuscular_injection", address_id=liu_address.id,
                                 window_start=at("10:00"), window_end=at("12:00"))
    for order in (wound, vitals, injection):
        triage_care_order(dispatcher, order.id, accepted=True)
    parcel = create_delivery_order(chen, prescription_ref="RX-MOBILE-1", patient_id=wang.patient_id,
                                   address_id=wang_address.id, items=[{"name": "Insulin glargine", "quantity": 2}],
                                   cold_chain=True, window_start=at("13:00"), window_end=at("16:00"))
    review_prescription(chen, parcel.id, approved=True)

    plan = Plan(date="2026-11-23", status="done", requested_by=dispatcher.user_id)
    session.add(plan)
    li = Route(plan=plan, worker_id=personas["nurse_li"]["worker_id"])
    zhou = Route(plan=plan, worker_id=personas["nurse_zhou"]["worker_id"])
    zhao = Route(plan=plan, worker_id=personas["courier_zhao"]["worker_id"])
    session.add_all([li, zhou, zhao])
    home, wang_at, liu_at = (39.1300, 117.1950), (wang_address.lat, wang_address.lon), (liu_address.lat, liu_address.lon)
    pharmacy_at = (pharmacy.lat, pharmacy.lon)
    stops = {
        "li_start": _stop(li, 0, "start", home, "08:30"),
        "li_wound": _stop(li, 1, "visit", wang_at, "09:00", wound.id, 45),
        "li_vitals": _stop(li, 2, "visit", liu_at, "13:00", vitals.id, 30),
        "li_end": _stop(li, 3, "end", home, "14:00"),
        "zhou_start": _stop(zhou, 0, "start", (39.1050, 117.1600), "09:40"),
        "zhou_injection": _stop(zhou, 1, "visit", liu_at, "10:00", injection.id, 20),
        "zhou_end": _stop(zhou, 2, "end", (39.1050, 117.1600), "10:40"),
        "zhao_start": _stop(zhao, 0, "start", pharmacy_at, "12:40"),
        "zhao_pickup": _stop(zhao, 1, "pickup", pharmacy_at, "12:50", parcel.id, 2),
        "zhao_dropoff": _stop(zhao, 2, "dropoff", wang_at, "13:10", parcel.id, 3),
        "zhao_end": _stop(zhao, 3, "end", pharmacy_at, "13:40"),
    }
    for order in (wound, vitals, injection, parcel):
        change_status(order, "scheduled", None)
    session.commit()
    return Day(plan.id, wound.id, vitals.id, injection.id, parcel.id, li.id, zhou.id, zhao.id,
               {name: stop.id for name, stop in stops.items()})


@pytest.fixture
def report(client: Any, personas: Any) -> Callable[..., Any]:
    """``report("nurse_li", stop_id, "depart", at="09:00")`` posts a stop event and returns the response."""

    def post(who: str, stop_id: int, type_: str, *, at: str = "09:00", **body: Any) -> Any:
        payload = {"type": type_, "at": iso(at), "lat": 39.1250, "lon": 117.2000, **body}
        return client.post(f"/api/v1/mobile/stops/{stop_id}/events", json=payload, headers=personas.headers(who))

    return post
