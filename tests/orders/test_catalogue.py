"""The home-care catalogue: shipped data, idempotent seeding, and what the API lists."""
from __future__ import annotations

from sqlalchemy import func, select

from doorstep.db import session
from orders.catalogue import catalogue_data, seed_catalogue
from orders.models import CatalogueItem
from tests.orders.helpers import assert_problem

KNOWN_SKILLS = {"basic_care", "injection", "blood_sampling", "wound_care", "stoma_care", "picc", "catheter_care",
                "pressure_injury_care", "nasogastric_care", "tracheostomy_care", "rn_5y"}
CONTRACT_FIELDS = {"code", "name", "name_zh", "category", "skills", "duration_minutes", "price_fen",
                   "required_qualification", "eligibility", "preparation_notes", "preparation_notes_zh", "active"}


def test_the_shipped_catalogue_has_about_twenty_items_of_both_categories() -> None:
    items = catalogue_data()
    assert 18 <= len(items) <= 25
    assert {item["category"] for item in items} == {"basic", "specialty"}
    assert len({item["code"] for item in items}) == len(items)


def test_every_specialty_item_needs_the_rn_5y_qualification_and_no_basic_item_does() -> None:
    for item in catalogue_data():
        assert ("rn_5y" in item["skills"]) == (item["category"] == "specialty"), item["code"]


def test_items_use_known_skills_chinese_names_and_realistic_prices() -> None:
    for item in catalogue_data():
        assert set(item["skills"]) <= KNOWN_SKILLS and item["skills"], item["code"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in item["name_zh"]), item["code"]
        assert 10_000 <= item["price_fen"] <= 40_000, item["code"]  # 100 to 400 yuan
        assert 15 <= item["duration_minutes"] <= 90, item["code"]


def test_the_catalogue_covers_the_specialty_care_the_hospital_offers() -> None:
    codes = {item["code"] for item in catalogue_data()}
    assert {"wound_dressing_change", "stoma_care", "picc_maintenance", "urinary_catheter_care",
            "pressure_injury_care", "incontinence_dermatitis_care", "nasogastric_tube_care",
            "intramuscular_injection", "venous_blood_sampling"} <= codes


def test_seeding_twice_inserts_nothing_the_second_time(client) -> None:  # type: ignore[no-untyped-def]
    assert seed_catalogue() == len(catalogue_data())
    assert seed_catalogue() == 0
    assert session.scalar(select(func.count()).select_from(CatalogueItem)) == len(catalogue_data())


def test_seeding_restores_a_missing_code_and_keeps_an_edited_price(client) -> None:  # type: ignore[no-untyped-def]
    seed_catalogue()
    session.delete(session.scalar(select(CatalogueItem).where(CatalogueItem.code == "enema")))
    stoma = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "stoma_care"))
    stoma.price_fen = 23_500
    session.commit()
    assert seed_catalogue() == 1
    session.commit()
    assert session.scalar(select(CatalogueItem.price_fen).where(CatalogueItem.code == "stoma_care")) == 23_500


def test_the_endpoint_lists_active_items_with_exactly_the_contract_fields(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/catalogue/services", headers=personas.headers("patient_wang"))
    assert response.status_code == 200
    items = response.get_json()
    assert len(items) == len(catalogue_data())
    assert all(set(item) == CONTRACT_FIELDS for item in items)
    picc = next(item for item in items if item["code"] == "picc_maintenance")
    assert picc["category"] == "specialty" and picc["skills"] == ["picc", "rn_5y"] and picc["name_zh"]


def test_a_withdrawn_item_is_not_listed_and_cannot_be_booked(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    enema = session.scalar(select(CatalogueItem).where(CatalogueItem.code == "enema"))
    enema.active = False
    session.commit()
    listed = client.get("/api/v1/catalogue/services", headers=personas.headers("nurse_li")).get_json()
    assert "enema" not in {item["code"] for item in listed}
    assert_problem(orders.care(service_code="enema"), 422, "service_code")


def test_every_role_may_read_the_catalogue_but_strangers_may_not(client, personas) -> None:  # type: ignore[no-untyped-def]
    for who in ("patient_liu", "nurse_zhou", "courier_zhao", "pharmacist_gao", "dispatcher_sun", "admin_root"):
        assert client.get("/api/v1/catalogue/services", headers=personas.headers(who)).status_code == 200
    assert_problem(client.get("/api/v1/catalogue/services"), 401)
