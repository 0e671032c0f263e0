"""Search for a parcel by tracking code, prescription reference or the patient's phone: the
pharmacy's own parcels only, exact matches only, every search audited without its values."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.deliveries import normalise_phone
from orders.models import Patient
from tests.orders.helpers import assert_problem

SEARCH = "/api/v1/delivery-orders/search"


def search(client, personas, who="pharmacist_chen", **params):  # type: ignore[no-untyped-def]
    return client.get(SEARCH, query_string=params, headers=personas.headers(who))


def ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return [order["id"] for order in response.get_json()]


@pytest.fixture
def chen_parcels(orders):  # type: ignore[no-untyped-def]
    """Two parcels of the Heping pharmacy for Wang (older first) and one of Nankai for Liu."""
    first = orders.delivery(ref="RX-S1").get_json()
    second = orders.delivery(ref="RX-S2").get_json()
    nankai = orders.delivery("pharmacist_gao", "patient_liu", ref="RX-S3").get_json()
    return first, second, nankai


def test_a_tracking_code_finds_its_parcel_whatever_the_case(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    first, _second, _nankai = chen_parcels
    assert ids(search(client, personas, tracking_code=first["tracking_code"])) == [first["id"]]
    assert ids(search(client, personas, tracking_code=first["tracking_code"].lower())) == [first["id"]]
    assert ids(search(client, personas, q=f" {first['tracking_code'].lower()} ")) == [first["id"]]


def test_a_prescription_reference_finds_its_parcel(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    _first, second, _nankai = chen_parcels
    assert ids(search(client, personas, prescription_ref="RX-S2")) == [second["id"]]
    assert ids(search(client, personas, q="RX-S2")) == [second["id"]]


@pytest.mark.parametrize("phone", ["13800000001", "138-0000-0001", "+86 138 0000 0001", "0086 13800000001",
                                   "(138) 0000 0001"])
def test_the_patients_phone_in_any_writing_finds_their_parcels_newest_first(client, personas, chen_parcels, phone) -> None:  # type: ignore[no-untyped-def]
    first, second, _nankai = chen_parcels
    assert ids(search(client, personas, phone=phone)) == [second["id"], first["id"]]
    assert ids(search(client, personas, q=phone)) == [second["id"], first["id"]]


def test_a_phone_stored_with_spaces_and_country_code_is_found_by_its_digits(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    first, second, _nankai = chen_parcels
    session.get(Patient, personas["patient_wang"]["patient_id"]).phone = "+86 138-0000-0001"
    session.commit()
    assert ids(search(client, personas, phone="13800000001")) == [second["id"], first["id"]]


def test_only_exact_matches_count(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    first, _second, _nankai = chen_parcels
    assert ids(search(client, personas, phone="1380000000")) == []
    assert ids(search(client, personas, q="RX-S")) == []
    assert ids(search(client, personas, q=first["tracking_code"][:-1])) == []


def test_criteria_together_must_all_match(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    first, second, _nankai = chen_parcels
    assert ids(search(client, personas, phone="13800000001", prescription_ref="RX-S1")) == [first["id"]]
    assert ids(search(client, personas, tracking_code=second["tracking_code"], prescription_ref="RX-S1")) == []


def test_a_pharmacist_of_another_pharmacy_finds_nothing_of_ours(client, personas, chen_parcels) -> None:  # type: ignore[no-untyped-def]
    first, _second, nankai = chen_parcels
    for params in ({"tracking_code": first["tracking_code"]}, {"prescription_ref": "RX-S1"},
                   {"phone": "13800000001"}, {"q": first["tracking_code"]}, {"q": "13800000001"}):
        assert ids(search(client, personas, "pharmacist_gao", **params)) == [], params
    assert ids(search(client, personas, "pharmacist_gao", phone="13800000002")) == [nankai["id"]]


@pytest.mark.parametrize("who", ["patient_wang", "courier_zhao", "nurse_li", "dispatcher_sun", "admin_root"])
def test_only_pharmacists_search(client, personas, chen_parcels, who) -> None:  # type: ignore[no-untyped-def]
    assert_problem(search(client, personas, who, tracking_code=chen_parcels[0]["tracking_code"]), 403)


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}], ids=["nothing", "empty", "blank"])
def test_a_search_for_nothing_is_a_422_naming_query_q(client, personas, params) -> None:  # type: ignore[no-untyped-def]
    assert_problem(search(client, personas, **params), 422, "query.q")


@pytest.mark.parametrize("phone", ["abc", "12", "138 0000 0001 ext 5"])
def test_something_that_is_no_phone_number_is_a_422_naming_query_phone(client, personas, phone) -> None:  # type: ignore[no-untyped-def]
    assert_problem(search(client, personas, phone=phone), 422, "query.phone")


def test_an_unknown_parameter_is_a_422(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert_problem(search(client, personas, name="Wang"), 422, "query.name")


def test_every_search_is_audited_with_its_fields_and_never_the_phone(client, personas, chen_parcels, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.DEBUG):
        search(client, personas, phone="+86 138 0000 0001")
        search(client, personas, q="RX-S1")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "search").order_by(AuditEntry.id)).all()
    assert [(e.actor_user_id, e.entity, e.detail) for e in entries] == [
        (personas["pharmacist_chen"]["user_id"], "delivery_order", {"by": ["phone"]}),
        (personas["pharmacist_chen"]["user_id"], "delivery_order", {"by": ["q"]})]
    assert "0000" not in caplog.text and "13800000001" not in caplog.text
    assert "event=delivery_search" in caplog.text


def test_results_come_in_pages(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    made = [orders.delivery_id(ref=f"RX-P{n}") for n in range(5)]
    page_one = search(client, personas, phone="13800000001", page=1, page_size=2)
    page_three = search(client, personas, phone="13800000001", page=3, page_size=2)
    assert ids(page_one) == made[::-1][:2] and ids(page_three) == made[:1]
    assert '"total": 5' in page_one.headers["X-Pagination"]
    assert_problem(search(client, personas, phone="13800000001", page_size=201), 422)


@pytest.mark.parametrize(("text", "number"), [("13800000001", "13800000001"), ("+8613800000001", "13800000001"),
                                              ("8613800000001", "13800000001"), ("022-2340 0000", "02223400000"),
                                              ("+1 (555) 010 9999", "15550109999"), ("ABC", None), ("1234", None)])
def test_phone_numbers_are_normalised_to_digits_without_chinas_country_code(text, number) -> None:
    assert normalise_phone(text) == number
