"""``GET /orders?sort=``: newest first unless asked otherwise; pages never overlap or skip."""
from __future__ import annotations

import pytest

from tests.factories import iso
from tests.orders.helpers import assert_problem


@pytest.fixture
def parcels(orders):  # type: ignore[no-untyped-def]
    """Four parcels made in this order, on windows that run the other way round (ids oldest first)."""
    days = ["2026-11-26", "2026-11-25", "2026-11-24", "2026-11-23"]
    return [orders.delivery_id(ref=f"RX-SORT-{n}", window={"start": iso("09:00", day), "end": iso("12:00", day)})
            for n, day in enumerate(days)]


def listed(client, personas, query):  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/orders?{query}", headers=personas.headers("pharmacist_chen"))
    assert response.status_code == 200, response.get_json()
    return [order["id"] for order in response.get_json()]


@pytest.mark.parametrize(("sort", "expected"), [
    (None, [3, 2, 1, 0]), ("-created_at", [3, 2, 1, 0]), ("created_at", [0, 1, 2, 3]),
    ("service_date", [3, 2, 1, 0]), ("-service_date", [0, 1, 2, 3]),
    ("window_start", [3, 2, 1, 0]), ("-window_start", [0, 1, 2, 3]),
])
def test_the_list_sorts_by_the_field_asked_for(client, personas, parcels, sort, expected) -> None:  # type: ignore[no-untyped-def]
    query = f"sort={sort}" if sort else ""
    assert listed(client, personas, query) == [parcels[i] for i in expected]


def test_pages_of_a_sorted_list_follow_on(client, personas, parcels) -> None:  # type: ignore[no-untyped-def]
    pages = [listed(client, personas, f"sort=service_date&page={n}&page_size=3") for n in (1, 2)]
    assert pages == [[parcels[3], parcels[2], parcels[1]], [parcels[0]]]


def test_an_unknown_sort_is_a_422_naming_it(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/orders?sort=patient_name", headers=personas.headers("pharmacist_chen"))
    assert_problem(response, 422, "query.sort")
