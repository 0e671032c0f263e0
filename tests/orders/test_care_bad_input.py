"""Bad input for care orders: notes, text in any script, control characters and oversized bodies."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from doorstep.db import session
from orders.models import CareOrder
from tests.orders.helpers import assert_problem

EMOJI_AND_RTL = "Door code 4711 🔑🏠 — المريض يستخدم كرسيًا متحركًا — החולה שומע חלש — 轮椅出入"


def care_count() -> int:
    return session.scalar(select(func.count()).select_from(CareOrder))


def test_emoji_and_right_to_left_notes_are_kept_intact(orders, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.care(notes=EMOJI_AND_RTL + "\nSecond line\twith a tab")
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["id"]
    assert orders.get(order_id, "patient_wang").get_json()["notes"] == EMOJI_AND_RTL + "\nSecond line\twith a tab"


def test_notes_of_2000_characters_are_accepted_and_2001_refused(orders) -> None:  # type: ignore[no-untyped-def]
    assert orders.care(notes="护" * 2000).status_code == 201
    assert_problem(orders.care(notes="护" * 2001), 422, "notes")
    assert care_count() == 1


@pytest.mark.parametrize("notes", ["bell \x07", "escape \x1b[31mred", "backspace\x08", "C1 \x85 control"],
                         ids=["bel", "ansi-escape", "backspace", "c1"])
def test_control_characters_in_notes_are_a_422_naming_notes(orders, notes) -> None:  # type: ignore[no-untyped-def]
    body = assert_problem(orders.care(notes=notes), 422, "notes")
    assert "control characters" in body["errors"]["notes"][0]
    assert care_count() == 0


@pytest.mark.parametrize("path", ["/api/v1/care-orders", "/api/v1/care-orders/series"])
def test_a_1_mb_body_is_a_413_problem_and_writes_nothing(client, personas, path) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps({"service_code": "oral_care", "address_id": personas["patient_wang"]["address_id"],
                          "window": {"start": "2026-11-23T09:00:00+08:00", "end": "2026-11-23T10:00:00+08:00"},
                          "notes": "x" * 1_000_000})
    response = client.post(path, data=payload, content_type="application/json",
                           headers=personas.headers("patient_wang", **{"Idempotency-Key": "big"}))
    assert_problem(response, 413)
    assert care_count() == 0


def test_a_large_dispatch_problem_is_still_accepted_by_size(client, personas) -> None:  # type: ignore[no-untyped-def]
    # The solve endpoint takes whole problem documents; its limit is larger (doorstep.api.LARGE_BODIES).
    response = client.post("/api/v1/dispatch/solve", data=json.dumps({"padding": "x" * 300_000}),
                           content_type="application/json", headers=personas.headers("dispatcher_sun"))
    assert response.status_code != 413 and response.status_code < 500
