"""What booking a care order costs, and the two short-lived copies that save queries on it.

A web process keeps a catalogue item it read (``Settings.catalogue_cache_s``) and
that an account was active (``Settings.active_user_cache_s``). Changes written
through the process count at once; changes written elsewhere (another worker,
the CLI, plain SQL) count once the copy's seconds have passed.
"""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, update

from doorstep.db import session
from doorstep.models import User
from orders.models import CatalogueItem
from tests.orders.helpers import assert_problem


@pytest.fixture
def statements(app):  # type: ignore[no-untyped-def]
    """The SQL statements the app sends while the test runs (lower case)."""
    sent: list[str] = []
    engine = app.extensions["doorstep.engine"]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def later(monkeypatch):  # type: ignore[no-untyped-def]
    """Move the clock the two copies read by ``seconds``, as another worker's change ages."""
    import doorstep.auth
    import orders.catalogue

    def move(seconds: float) -> None:
        for module in (doorstep.auth, orders.catalogue):
            now = module._clock()
            monkeypatch.setattr(module, "_clock", lambda now=now: now + seconds)

    return move


def test_a_booking_answers_with_its_creation_event_without_reading_history_questions_or_catalogue(
        orders, personas, statements) -> None:  # type: ignore[no-untyped-def]
    orders.care_id()  # the first booking reads the item
    statements.clear()
    order = orders.care(service_code="wound_dressing_change", start="13:00", end="15:00").get_json()
    assert [(h["from"], h["to"], h["by"]) for h in order["history"]] == [
        (None, "requested", personas["patient_wang"]["user_id"])]
    assert order["questions"] == []
    reads = [s for s in statements if s.startswith("select")]
    assert not [s for s in reads if "from order_events" in s or "from care_questions" in s or "catalogue" in s]
    assert not [s for s in reads if "from users" in s]  # the account was seen active a moment ago
    assert len(statements) <= 11, statements  # was 16: see bench/orders_profile.py


def test_an_admin_price_change_applies_to_the_next_booking_at_once(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    assert orders.care(service_code="stoma_care").get_json()["price_fen"] == 22_000
    response = client.patch("/api/v1/catalogue/services/stoma_care", json={"price_fen": 23_500},
                            headers=personas.headers("admin_root"))
    assert response.status_code == 200, response.get_json()
    booked = orders.care(service_code="stoma_care", start="13:00", end="15:00")
    assert booked.get_json()["price_fen"] == 23_500


def test_a_withdrawn_item_is_refused_at_once(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    orders.care_id(service_code="stoma_care")
    assert client.delete("/api/v1/catalogue/services/stoma_care",
                         headers=personas.headers("admin_root")).status_code == 200
    assert_problem(orders.care(service_code="stoma_care", start="13:00", end="15:00"), 422, "service_code")


def test_a_change_written_elsewhere_reaches_bookings_once_the_copy_expires(orders, hospital, later) -> None:  # type: ignore[no-untyped-def]
    hospital(catalogue_cache_s=5)
    orders.care_id(service_code="stoma_care")
    # Plain SQL: no ORM event, as when another process or the CLI writes it.
    session.execute(update(CatalogueItem).where(CatalogueItem.code == "stoma_care").values(active=False))
    session.commit()
    assert orders.care(service_code="stoma_care", start="12:00", end="14:00").status_code == 201
    later(5.1)
    assert_problem(orders.care(service_code="stoma_care", start="15:00", end="17:00"), 422, "service_code")


def test_without_the_copy_every_booking_reads_the_catalogue(orders, hospital, statements) -> None:  # type: ignore[no-untyped-def]
    hospital(catalogue_cache_s=0)
    orders.care_id()
    statements.clear()
    orders.care_id(start="13:00", end="15:00")
    assert [s for s in statements if s.startswith("select") and "from catalogue_items" in s]


def test_a_deactivated_account_is_refused_at_once_when_deactivated_here(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    orders.care_id()  # seen active
    session.get(User, personas["patient_wang"]["user_id"]).active = False
    session.commit()
    assert client.get("/api/v1/patients/me", headers=personas.headers("patient_wang")).status_code == 401


def test_a_deactivation_written_elsewhere_counts_within_the_copys_seconds(client, orders, personas, hospital, later) -> None:  # type: ignore[no-untyped-def]
    hospital(active_user_cache_s=5)
    orders.care_id()  # seen active
    session.execute(update(User).where(User.id == personas["patient_wang"]["user_id"]).values(active=False))
    session.commit()
    headers = personas.headers("patient_wang")
    assert client.get("/api/v1/patients/me", headers=headers).status_code == 200
    later(5.1)
    assert client.get("/api/v1/patients/me", headers=headers).status_code == 401
    assert client.get("/api/v1/patients/me", headers=headers).status_code == 401  # never remembered inactive
