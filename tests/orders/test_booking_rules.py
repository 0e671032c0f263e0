"""The hospital's booking rules for a care order's window, and the open-order limit.

The suite's clock stands at Friday 20 November 2026, 09:00 in Tianjin (``SUITE_NOW``);
the defaults are a 24-hour lead time, a 30-day horizon and service hours 08:00-18:00.
"""
from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import func, select

from doorstep.db import session
from doorstep.settings import Settings
from orders.models import CareOrder
from tests.factories import iso
from tests.orders.helpers import assert_problem

FRIDAY, SATURDAY = "2026-11-20", "2026-11-21"


def care_count() -> int:
    return session.scalar(select(func.count()).select_from(CareOrder))


def book(orders, start: str, end: str, date: str = "2026-11-23", **body):  # type: ignore[no-untyped-def]
    return orders.care(window={"start": iso(start, date), "end": iso(end, date)}, **body)


@pytest.mark.parametrize(("start", "end", "date", "field", "words"), [
    ("10:00", "12:00", "2026-11-19", "window.start", "in the past"),
    ("15:00", "17:00", FRIDAY, "window.start", "at least 24 hours after booking"),
    ("08:00", "09:00", SATURDAY, "window.start", "at least 24 hours after booking"),
    ("09:00", "11:00", "2026-12-21", "window.start", "at most 30 days ahead"),
    ("07:00", "09:00", "2026-11-23", "window.start", "Before our service hours, 08:00-18:00 (Asia/Shanghai)"),
    ("16:30", "18:30", "2026-11-23", "window.end", "After our service hours, 08:00-18:00 (Asia/Shanghai)"),
    ("09:00", "09:30", "2026-11-23", "window.end", "the visit takes 45 minutes"),
    ("11:00", "10:00", "2026-11-23", "window.end", "after the start"),
], ids=["past", "too-soon-today", "too-soon-tomorrow", "beyond-horizon", "before-hours", "after-hours",
        "shorter-than-the-visit", "reversed"])
def test_a_window_breaking_a_booking_rule_is_a_422_naming_it_with_the_rule(orders, start, end, date, field,  # type: ignore[no-untyped-def]
                                                                            words) -> None:
    body = assert_problem(book(orders, start, end, date, service_code="picc_maintenance"), 422, field)
    assert any(words in message for message in body["errors"][field]), body["errors"]
    assert care_count() == 0


def test_the_lead_time_message_names_the_earliest_start(orders) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(book(orders, "15:00", "17:00", FRIDAY), 422, "window.start")
    assert "from 2026-11-21T09:0" in body["errors"]["window.start"][0]


def test_the_first_and_last_bookable_days_are_accepted(orders) -> None:  # type: ignore[no-untyped-def]
    assert book(orders, "10:00", "12:00", SATURDAY).status_code == 201  # 25 hours ahead
    assert book(orders, "08:00", "18:00", "2026-12-20").status_code == 201  # day 30, the whole service day


def test_the_rules_are_the_hospitals_settings(orders, hospital) -> None:  # type: ignore[no-untyped-def]
    hospital(booking_lead_hours=2, service_hours=(time(7), time(20)), booking_horizon_days=60)
    assert book(orders, "11:30", "13:00", FRIDAY).status_code == 201
    assert book(orders, "07:00", "08:00", "2026-11-23").status_code == 201
    assert book(orders, "18:00", "20:00", "2026-12-31").status_code == 201
    assert_problem(book(orders, "10:00", "12:00", FRIDAY), 422, "window.start")  # an hour ahead


def test_settings_come_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.from_env({"DOORSTEP_BOOKING_LEAD_HOURS": "48", "DOORSTEP_BOOKING_HORIZON_DAYS": "14",
                                  "DOORSTEP_SERVICE_HOURS": "07:30-20:00", "DOORSTEP_MAX_OPEN_CARE_ORDERS": "5",
                                  "SECRET_KEY": "x" * 40}, tmp_path)
    assert (settings.booking_lead_hours, settings.booking_horizon_days, settings.max_open_care_orders) == (48, 14, 5)
    assert settings.service_hours == (time(7, 30), time(20))
    defaults = Settings.from_env({"SECRET_KEY": "x" * 40}, tmp_path)
    assert (defaults.booking_lead_hours, defaults.booking_horizon_days, defaults.service_hours,
            defaults.max_open_care_orders) == (24, 30, (time(8), time(18)), 3)
    with pytest.raises(ValueError, match="DOORSTEP_SERVICE_HOURS"):
        Settings.from_env({"DOORSTEP_SERVICE_HOURS": "18:00-08:00", "SECRET_KEY": "x" * 40}, tmp_path)


# The open-order limit ----------------------------------------------------------------------

def test_a_fourth_open_order_is_a_409_naming_the_limit_and_writes_nothing(orders) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        orders.care_id()
    body = assert_problem(orders.care(), 409, "open_care_orders")
    assert "(3)" in body["detail"] and "a series counts as one" in body["detail"]
    assert care_count() == 3


def test_final_orders_do_not_count_and_the_limit_is_per_patient(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    first, second, third = orders.care_id(), orders.care_id(), orders.care_id()
    assert orders.care("patient_liu").status_code == 201  # another patient's place is their own
    client.post(f"/api/v1/orders/{first}/cancel", json={}, headers=personas.headers("patient_wang"))
    orders.move(second, "rejected")
    orders.move(third, "accepted", "scheduled", "en_route", "in_progress", "completed")
    for _ in range(3):
        orders.care_id()
    assert_problem(orders.care(), 409, "open_care_orders")


def test_the_limit_is_a_hospital_setting(orders, hospital) -> None:  # type: ignore[no-untyped-def]
    hospital(max_open_care_orders=1)
    orders.care_id()
    assert_problem(orders.care(), 409, "open_care_orders")
