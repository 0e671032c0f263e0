"""Admins keep the catalogue: create, edit, price, withdraw; everyone else only reads it."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.models import CareOrder, CatalogueItem
from tests.orders.helpers import assert_problem

# Bookings are checked against the clock: book three days before the personas' service date.
NOW = "2026-11-20T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _booking_day() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


URL = "/api/v1/catalogue/services"
NEW_ITEM = {"code": "picc_removal", "name": "PICC line removal", "name_zh": "PICC导管拔除",
            "category": "specialty", "skills": ["picc"], "duration_minutes": 40, "price_fen": 28_000,
            "preparation_notes": "Have your PICC maintenance booklet ready.",
            "preparation_notes_zh": "请准备好PICC维护手册。",
            "eligibility": {"rule": "triage_always"}}


def create(client, personas, who="admin_root", **overrides):  # type: ignore[no-untyped-def]
    return client.post(URL, json={**NEW_ITEM, **overrides}, headers=personas.headers(who))


def patch(client, personas, code, who="admin_root", **body):  # type: ignore[no-untyped-def]
    return client.patch(f"{URL}/{code}", json=body, headers=personas.headers(who))


def listed(client, personas, who="patient_wang"):  # type: ignore[no-untyped-def]
    response = client.get(URL, headers=personas.headers(who))
    assert response.status_code == 200
    return {item["code"]: item for item in response.get_json()}


def test_an_admin_adds_an_item_that_patients_then_see_with_its_preparation_notes(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = create(client, personas)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["required_qualification"] == "home_care_qualified" and body["active"] is True
    assert [p["price_fen"] for p in body["prices"]] == [28_000]
    assert body["prices"][0]["set_by"] == personas["admin_root"]["user_id"]
    item = listed(client, personas)["picc_removal"]
    assert item["preparation_notes_zh"] == "请准备好PICC维护手册。" and item["price_fen"] == 28_000
    assert item["eligibility"] == {"rule": "triage_always"} and item["name_zh"] == "PICC导管拔除"
    audit = session.scalar(select(AuditEntry).where(AuditEntry.entity == "catalogue_item"))
    assert (audit.action, audit.entity_id, audit.actor_user_id) == ("create", "picc_removal",
                                                                    personas["admin_root"]["user_id"])


def test_a_code_in_use_is_a_409_naming_code(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert_problem(create(client, personas, code="stoma_care"), 409, "code")


def test_bad_fields_are_422s_naming_each_and_nothing_is_written(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = create(client, personas, code="Bad Code", category="luxury", duration_minutes=0, price_fen=-1,
                      eligibility={"rule": "diagnosis_in", "codes": ["heart"]})
    body = assert_problem(response, 422, "code", "category", "duration_minutes", "price_fen")
    assert any(key.startswith("eligibility") for key in body["errors"]), body
    assert_problem(create(client, personas, eligibility={"rule": "discharged_within_days"}), 422)
    assert_problem(create(client, personas, eligibility={"rule": "none", "days": 3}), 422)
    assert_problem(create(client, personas, eligibility={"rule": "sometimes"}), 422)
    assert session.scalar(select(CatalogueItem).where(CatalogueItem.code.in_(["picc_removal", "Bad Code"]))) is None


def test_non_admins_may_not_create_edit_or_withdraw(client, personas) -> None:  # type: ignore[no-untyped-def]
    for who in ("patient_wang", "nurse_li", "courier_zhao", "pharmacist_chen", "dispatcher_sun"):
        assert_problem(create(client, personas, who=who), 403)
        assert_problem(patch(client, personas, "stoma_care", who=who, price_fen=1), 403)
        assert_problem(client.delete(f"{URL}/stoma_care", headers=personas.headers(who)), 403)
        assert_problem(client.get(URL, query_string={"include_inactive": "true"}, headers=personas.headers(who)), 403)
    session.expire_all()
    stoma = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "stoma_care"))
    assert stoma.active and stoma.price_on(datetime.now(UTC)) == 22_000
    assert session.scalar(select(CatalogueItem).where(CatalogueItem.code == "picc_removal")) is None


def test_an_unknown_code_is_a_404_for_admins_and_others(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert_problem(patch(client, personas, "home_surgery", name="x"), 404)
    assert_problem(client.delete(f"{URL}/home_surgery", headers=personas.headers("admin_root")), 404)
    assert_problem(client.get(f"{URL}/home_surgery", headers=personas.headers("patient_wang")), 404)


def test_an_admin_edits_names_notes_skills_and_the_rule(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = patch(client, personas, "enema", name_zh="清洁灌肠", skills=["basic_care", "enema"],
                     preparation_notes="Keep the bathroom free.", eligibility={"rule": "diagnosis_in",
                                                                              "codes": ["k59.0", "K59.0", "K56"]})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name_zh"] == "清洁灌肠" and body["skills"] == ["basic_care", "enema"]
    assert body["eligibility"] == {"rule": "diagnosis_in", "codes": ["K59.0", "K56"]}
    assert listed(client, personas)["enema"]["preparation_notes"] == "Keep the bathroom free."


def test_withdrawing_keeps_the_item_and_its_orders_but_stops_listing_and_booking(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id(service_code="enema")
    response = client.delete(f"{URL}/enema", headers=personas.headers("admin_root"))
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert "enema" not in listed(client, personas)
    assert_problem(client.get(f"{URL}/enema", headers=personas.headers("patient_wang")), 404)
    assert client.get(f"{URL}/enema", headers=personas.headers("admin_root")).status_code == 200
    everything = client.get(URL, query_string={"include_inactive": "true"}, headers=personas.headers("admin_root"))
    assert {i["code"]: i["active"] for i in everything.get_json()}["enema"] is False
    body = assert_problem(orders.care(service_code="enema"), 422, "service_code")
    assert body["errors"]["service_code"]
    assert orders.get(order_id, "patient_wang").get_json()["service_code"] == "enema"
    again = patch(client, personas, "enema", active=True)
    assert again.status_code == 200 and "enema" in listed(client, personas)


def test_an_order_keeps_the_price_it_was_booked_at_after_a_price_change(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    before = orders.care_id(service_code="stoma_care")
    response = patch(client, personas, "stoma_care", price_fen=25_000)
    assert response.status_code == 200, response.get_json()
    assert [p["price_fen"] for p in response.get_json()["prices"]] == [22_000, 25_000]
    after = orders.care_id(service_code="stoma_care")
    assert orders.get(before, "patient_wang").get_json()["price_fen"] == 22_000
    assert orders.get(after, "patient_wang").get_json()["price_fen"] == 25_000
    assert listed(client, personas)["stoma_care"]["price_fen"] == 25_000
    session.expire_all()
    assert session.get(CareOrder, before).price_fen == 22_000


def test_a_future_price_applies_only_from_its_date(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = patch(client, personas, "oral_care", price_fen=12_000, price_effective_from=tomorrow)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["price_fen"] == 11_000
    assert orders.get(orders.care_id(service_code="oral_care"), "patient_wang").get_json()["price_fen"] == 11_000
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "oral_care"))
    assert item.price_on(datetime.now(UTC) + timedelta(days=2)) == 12_000


def test_a_price_cannot_be_backdated_or_dated_without_a_price(client, personas) -> None:  # type: ignore[no-untyped-def]
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert_problem(patch(client, personas, "oral_care", price_fen=1, price_effective_from=yesterday),
                   422, "price_effective_from")
    assert_problem(patch(client, personas, "oral_care", price_effective_from=yesterday), 422, "price_fen")
    assert len(session.scalar(select(CatalogueItem).where(CatalogueItem.code == "oral_care")).prices) == 1


def test_the_patients_list_has_the_new_fields_and_only_active_items(client, personas) -> None:  # type: ignore[no-untyped-def]
    items = listed(client, personas, "patient_liu")
    picc = items["picc_maintenance"]
    assert {"preparation_notes", "preparation_notes_zh", "eligibility", "required_qualification"} <= set(picc)
    assert "prices" not in picc and all(item["active"] for item in items.values())


def test_every_shipped_item_has_preparation_notes_in_english_and_chinese(client, personas) -> None:  # type: ignore[no-untyped-def]
    items = listed(client, personas)
    assert len(items) == 21
    for code, item in items.items():
        assert item["preparation_notes"] and any("\u4e00" <= ch <= "\u9fff" for ch in item["preparation_notes_zh"]), code
