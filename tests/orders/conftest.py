"""Fixtures for the orders tests: an ``orders`` helper that places, moves and plans orders.

Orders are placed over HTTP, as clients do. Dispatch is simulated by writing a
plan, a route and a stop directly (the optimiser is tested in ``tests/dispatch``);
statuses beyond triage and review are reached through ``change_status``, the
same gate the dispatch and mobile services use.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from dispatch.models import Plan, Route, Stop
from doorstep.db import session
from mobile_api.positions import Ping, keep_ping
from orders.lifecycle import change_status
from orders.models import Order, OrderEvent
from tests.factories import SERVICE_DATE, at, iso


@dataclass
class OrdersHelper:
    client: Any
    personas: Any

    def care(self, patient: str = "patient_wang", *, service_code: str = "wound_dressing_change",
             start: str = "09:00", end: str = "11:00", headers: dict[str, str] | None = None,
             **body: Any) -> Any:
        """POST /care-orders as ``patient`` at their own address; returns the response."""
        payload = {"service_code": service_code, "address_id": self.personas[patient]["address_id"],
                   "window": {"start": iso(start), "end": iso(end)}, **body}
        return self.client.post("/api/v1/care-orders", json=payload,
                                headers=headers or self.personas.headers(patient))

    def care_id(self, patient: str = "patient_wang", **kwargs: Any) -> int:
        response = self.care(patient, **kwargs)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def delivery(self, pharmacist: str = "pharmacist_chen", patient: str = "patient_wang", *,
                 ref: str = "RX-0001", headers: dict[str, str] | None = None, **body: Any) -> Any:
        """POST /delivery-orders by ``pharmacist`` for ``patient``; returns the response."""
        payload = {"prescription_ref": ref, "patient_id": self.personas[patient]["patient_id"],
                   "address_id": self.personas[patient]["address_id"],
                   "items": [{"name": "Insulin glargine 300 U", "quantity": 2}], "cold_chain": True, **body}
        return self.client.post("/api/v1/delivery-orders", json=payload,
                                headers=headers or self.personas.headers(pharmacist))

    def delivery_id(self, pharmacist: str = "pharmacist_chen", patient: str = "patient_wang", **kwargs: Any) -> int:
        response = self.delivery(pharmacist, patient, **kwargs)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def move(self, order_id: int, *statuses: str) -> None:
        """Walk an order through ``statuses`` as the system would, and commit."""
        order = session.get(Order, order_id)
        for status in statuses:
            change_status(order, status, None)
        session.commit()

    def plan_stop(self, order_id: int, worker: str, *, arrival: datetime | None = None,
                  stop_type: str = "visit", lat: float = 39.125, lon: float = 117.2) -> Stop:
        """A done plan with one route for ``worker`` that visits ``order_id``; committed."""
        arrival = arrival or at("10:00")
        plan = Plan(date=SERVICE_DATE, status="done")
        route = Route(worker_id=self.personas[worker]["worker_id"])
        route.stops.append(Stop(sequence=0, type="start", lat=39.13, lon=117.195, arrival=at("08:00"),
                                start=at("08:00"), end=at("08:00")))
        stop = Stop(sequence=1, type=stop_type, order_id=order_id, lat=lat, lon=lon, arrival=arrival,
                    start=arrival, end=arrival + timedelta(minutes=30))
        route.stops.append(stop)
        plan.routes.append(route)
        session.add(plan)
        session.commit()
        return stop

    def position(self, worker: str, lat: float, lon: float, when: datetime) -> None:
        keep_ping(Ping(self.personas[worker]["worker_id"], lat, lon, when))

    def get(self, order_id: int, who: str) -> Any:
        return self.client.get(f"/api/v1/orders/{order_id}", headers=self.personas.headers(who))

    @staticmethod
    def history_count(order_id: int) -> int:
        return session.scalar(select(func.count()).select_from(OrderEvent).where(OrderEvent.order_id == order_id))

    @staticmethod
    def status(order_id: int) -> str:
        session.expire_all()
        return session.get(Order, order_id).status


@pytest.fixture
def orders(client, personas) -> OrdersHelper:  # type: ignore[no-untyped-def]
    """Place care and delivery orders over HTTP; move and plan them behind the scenes."""
    return OrdersHelper(client, personas)
