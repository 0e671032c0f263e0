"""Another pharmacy's pharmacist tries every parcel endpoint with our ids: 404s, empty lists, no change."""
from __future__ import annotations

import pytest

from tests.factories import iso
from tests.orders.helpers import assert_problem

NEXT_DAY = {"start": iso("09:00", "2026-11-24"), "end": iso("12:00", "2026-11-24")}

# (method, path template, body) of every endpoint that takes a parcel's id.
BY_ID = [
    ("get", "/api/v1/orders/{id}", None),
    ("post", "/api/v1/delivery-orders/{id}/review", {"approved": True}),
    ("get", "/api/v1/delivery-orders/{id}/label", None),
    ("post", "/api/v1/delivery-orders/{id}/redeliver", {"window": NEXT_DAY}),
    ("post", "/api/v1/delivery-orders/{id}/return", {"reason": "Not ours to return"}),
    ("post", "/api/v1/orders/{id}/cancel", {"reason": "Not ours to cancel"}),
]


@pytest.fixture(params=["awaiting_review", "failed"])
def heping_parcel(request, orders):  # type: ignore[no-untyped-def]
    """A Heping parcel waiting for review, or one whose delivery failed."""
    parcel = orders.delivery_id(ref="RX-HEPING")
    if request.param == "failed":
        orders.move(parcel, "ready", "scheduled", "picked_up", "out_for_delivery", "failed")
    return parcel


@pytest.mark.parametrize(("method", "path", "body"), BY_ID, ids=[f"{m} {p}" for m, p, _ in BY_ID])
def test_a_pharmacist_of_another_pharmacy_gets_404_and_changes_nothing(
        client, orders, personas, heping_parcel, method, path, body) -> None:  # type: ignore[no-untyped-def]
    before = orders.get(heping_parcel, "pharmacist_chen").get_json()
    call = getattr(client, method)
    kwargs = {"json": body} if body is not None else {}
    assert_problem(call(path.format(id=heping_parcel), headers=personas.headers("pharmacist_gao"), **kwargs), 404)
    assert orders.get(heping_parcel, "pharmacist_chen").get_json() == before


def test_lists_and_search_show_another_pharmacy_nothing(client, orders, personas, heping_parcel) -> None:  # type: ignore[no-untyped-def]
    gao = personas.headers("pharmacist_gao")
    code = orders.get(heping_parcel, "pharmacist_chen").get_json()["tracking_code"]
    assert client.get("/api/v1/orders", headers=gao).get_json() == []
    assert client.get("/api/v1/orders?kind=delivery&district=heping", headers=gao).get_json() == []
    for params in ({"tracking_code": code}, {"prescription_ref": "RX-HEPING"}, {"phone": "13800000001"}):
        assert client.get("/api/v1/delivery-orders/search", query_string=params, headers=gao).get_json() == []


def test_our_own_pharmacist_reaches_every_one_of_those_endpoints(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    """The other side of the 404s above: the same calls work for the parcel's own pharmacy."""
    chen = personas.headers("pharmacist_chen")
    review_me, fail_me, return_me, cancel_me = (orders.delivery_id(ref=f"RX-OWN-{n}") for n in range(4))
    for parcel in (fail_me, return_me):
        orders.move(parcel, "ready", "scheduled", "picked_up", "out_for_delivery", "failed")
    assert client.get(f"/api/v1/orders/{review_me}", headers=chen).status_code == 200
    assert client.post(f"/api/v1/delivery-orders/{review_me}/review", json={"approved": True},
                       headers=chen).status_code == 200
    assert client.get(f"/api/v1/delivery-orders/{review_me}/label", headers=chen).status_code == 200
    assert client.post(f"/api/v1/delivery-orders/{fail_me}/redeliver", json={"window": NEXT_DAY},
                       headers=chen).status_code == 200
    assert client.post(f"/api/v1/delivery-orders/{return_me}/return", json={"reason": "Moved"},
                       headers=chen).status_code == 200
    assert client.post(f"/api/v1/orders/{cancel_me}/cancel", json={"reason": "Duplicate"},
                       headers=chen).status_code == 200
