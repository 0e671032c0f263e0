"""Helpers for the desk pages: sign in through the form, and rows the board reads.

Orders, plans, routes, stops and alarms are written directly as rows: the board
only reads them, and this keeps these tests independent of the optimiser.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from dispatch.models import Alarm, Plan, Route, Stop
from doorstep.db import session
from orders.lifecycle import record_creation
from orders.models import CareOrder, DeliveryItem, DeliveryOrder, Order
from tests.factories import PASSWORD, SERVICE_DATE, at

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD, **extra: str) -> Any:
    """Open the sign-in page (which starts the session) and post the form with its token."""
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    return client.post("/admin/login", data={"username": username, "password": password,
                                             "csrf_token": token, **extra})


def board_html(client: Any, date: str = SERVICE_DATE) -> str:
    response = client.get(f"/admin/board?date={date}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def count_cell(html: str, status: str, kind: str) -> str:
    """The text of the counts table's cell for ``status`` × ``kind`` (``care``/``delivery``/``total``)."""
    row = re.search(rf'<tr data-status="{status}">(.*?)</tr>', html, re.DOTALL)
    assert row, f"no row for status {status}"
    cell = re.search(rf'<td class="num" data-kind="{kind}">\s*([^<]*?)\s*</td>', row.group(1))
    assert cell, f"no {kind} cell in the {status} row"
    return cell.group(1)


class Rows:
    """Makes the rows the board reads, for the personas of ``tests/factories.py``."""

    def __init__(self, personas: Any) -> None:
        self.personas = personas
        self._refs = 0

    def care_order(self, status: str = "accepted", *, patient: str = "patient_wang",
                   district: str = "heping", date: str = SERVICE_DATE) -> CareOrder:
        order = CareOrder(status=status, patient_id=self.personas[patient]["patient_id"],
                          address_id=self.personas[patient]["address_id"], district=district,
                          window_start=at("09:00", date), window_end=at("12:00", date), service_date=date,
                          service_code="vital_signs_check", skills=["basic_care"], duration_minutes=30,
                          price_fen=8000)
        return self._add(order)

    def delivery_order(self, status: str = "ready", *, patient: str = "patient_liu",
                       district: str = "nankai", date: str = SERVICE_DATE, pharmacy: str = "heping",
                       cold_chain: bool = False) -> DeliveryOrder:
        self._refs += 1
        order = DeliveryOrder(status=status, patient_id=self.personas[patient]["patient_id"],
                              address_id=self.personas[patient]["address_id"], district=district,
                              service_date=date, pharmacy_id=self.personas["pharmacy"][pharmacy],
                              window_start=at("14:00", date), window_end=at("18:00", date),
                              prescription_ref=f"RX-ADMIN-{self._refs}", tracking_code=f"DSTEST{self._refs:06d}",
                              prescription_hold=f"RX-ADMIN-{self._refs}", cold_chain=cold_chain,
                              items=[DeliveryItem(name="Metformin 500 mg", quantity=2, unit="box")])
        return self._add(order)

    def _add(self, order: Order) -> Any:
        session.add(order)
        session.flush()
        record_creation(order, None)
        session.commit()
        return order

    def plan(self, *, status: str = "done", date: str = SERVICE_DATE, routes: Sequence[tuple[str, list[Any]]] = (),
             unassigned: list[dict[str, Any]] | None = None, created: str = "07:00") -> Plan:
        """A plan whose routes are ``[(persona, [(stop_type, order_or_None, "HH:MM"), ...])]``."""
        plan = Plan(date=date, status=status, progress=1.0 if status == "done" else 0.0,
                    created_at=at(created, date), finished_at=at(created, date) if status == "done" else None,
                    unassigned=unassigned, summary={"solve_seconds": 1.5} if status == "done" else None)
        for persona, stops in routes:
            route = Route(worker_id=self.personas[persona]["worker_id"], travel_time_s=1500, distance_m=8200)
            for sequence, (stop_type, order, hhmm) in enumerate(stops):
                route.stops.append(Stop(sequence=sequence, type=stop_type, order_id=order.id if order else None,
                                        start=at(hhmm, date), arrival=at(hhmm, date)))
            plan.routes.append(route)
        session.add(plan)
        session.commit()
        return plan

    def alarm(self, persona: str, note: str | None = None, acknowledged_by: str | None = None) -> Alarm:
        alarm = Alarm(worker_id=self.personas[persona]["worker_id"], lat=39.1201, lon=117.1987, note=note,
                      at=at("10:15"),
                      acknowledged_by=self.personas[acknowledged_by]["user_id"] if acknowledged_by else None)
        session.add(alarm)
        session.commit()
        return alarm


@pytest.fixture
def rows(personas):  # type: ignore[no-untyped-def]
    """Row makers for orders, plans and alarms on ``SERVICE_DATE``."""
    return Rows(personas)


@pytest.fixture
def pharmacist(client, personas):  # type: ignore[no-untyped-def]
    """The test client, signed in to the pharmacy desk as pharmacist_chen (Heping's pharmacy)."""
    response = sign_in(client, "pharmacist_chen")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture
def dispatcher(client, personas):  # type: ignore[no-untyped-def]
    """The test client, signed in to the desk as dispatcher_sun."""
    response = sign_in(client, "dispatcher_sun")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
