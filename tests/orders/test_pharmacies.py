"""Pharmacies: admins register and move them; dispatchers read them; a pharmacist sees their own."""
from __future__ import annotations

import pytest

from doorstep.db import session
from orders.models import Pharmacy
from routing.crs import wgs84_to_gcj02
from tests.factories import NANKAI_UNIVERSITY
from tests.orders.helpers import assert_problem

BEIJING = (39.9042, 116.4074)


def test_an_admin_registers_a_pharmacy_and_its_district_is_resolved(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/pharmacies", headers=personas.headers("admin_root"),
                           json={"name": "Nankai Branch", "lat": NANKAI_UNIVERSITY[0], "lon": NANKAI_UNIVERSITY[1]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {**response.get_json(), "name": "Nankai Branch", "district": "nankai"}
    assert session.get(Pharmacy, response.get_json()["id"]) is not None


def test_a_gcj02_point_is_stored_in_wgs84(client, personas) -> None:  # type: ignore[no-untyped-def]
    lat, lon = wgs84_to_gcj02(*NANKAI_UNIVERSITY)
    response = client.post("/api/v1/pharmacies", headers=personas.headers("admin_root"),
                           json={"name": "AMap pin", "lat": lat, "lon": lon, "crs": "gcj02"})
    assert response.get_json()["lat"] == pytest.approx(NANKAI_UNIVERSITY[0], abs=1e-6)


def test_a_pharmacy_outside_every_served_district_is_a_422_naming_lat_and_lon(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/pharmacies", headers=personas.headers("admin_root"),
                           json={"name": "Beijing", "lat": BEIJING[0], "lon": BEIJING[1]})
    assert_problem(response, 422, "lat", "lon")


def test_an_admin_renames_and_moves_a_pharmacy(client, personas) -> None:  # type: ignore[no-untyped-def]
    pharmacy_id = personas["pharmacy"]["heping"]
    url, headers = f"/api/v1/pharmacies/{pharmacy_id}", personas.headers("admin_root")
    assert client.patch(url, json={"name": "Heping Central"}, headers=headers).get_json()["district"] == "heping"
    moved = client.patch(url, json={"lat": NANKAI_UNIVERSITY[0], "lon": NANKAI_UNIVERSITY[1]}, headers=headers)
    assert moved.status_code == 200
    assert moved.get_json() == {**moved.get_json(), "name": "Heping Central", "district": "nankai"}


def test_a_bad_move_is_a_422_and_changes_nothing(client, personas) -> None:  # type: ignore[no-untyped-def]
    pharmacy_id = personas["pharmacy"]["heping"]
    url, headers = f"/api/v1/pharmacies/{pharmacy_id}", personas.headers("admin_root")
    assert_problem(client.patch(url, json={"lat": BEIJING[0], "lon": BEIJING[1]}, headers=headers), 422, "lat")
    assert_problem(client.patch(url, json={"lat": 39.11}, headers=headers), 422, "lon")
    assert_problem(client.patch(url, json={"name": ""}, headers=headers), 422, "name")
    session.expire_all()
    pharmacy = session.get(Pharmacy, pharmacy_id)
    assert (pharmacy.name, pharmacy.lat, pharmacy.district) == ("Heping Hospital Pharmacy", 39.127, "heping")


def test_an_unknown_pharmacy_is_404(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert_problem(client.patch("/api/v1/pharmacies/999999", json={"name": "x"},
                                headers=personas.headers("admin_root")), 404)
    assert_problem(client.get("/api/v1/pharmacies/999999", headers=personas.headers("dispatcher_sun")), 404)


def test_who_sees_which_pharmacies(client, personas) -> None:  # type: ignore[no-untyped-def]
    def names(who: str) -> list[str]:
        response = client.get("/api/v1/pharmacies", headers=personas.headers(who))
        assert response.status_code == 200
        return [p["name"] for p in response.get_json()]

    both = ["Heping Hospital Pharmacy", "Nankai Hospital Pharmacy"]
    assert names("admin_root") == names("dispatcher_sun") == both
    assert names("pharmacist_gao") == ["Nankai Hospital Pharmacy"]
    heping = personas["pharmacy"]["heping"]
    assert_problem(client.get(f"/api/v1/pharmacies/{heping}", headers=personas.headers("pharmacist_gao")), 404)
    assert client.get(f"/api/v1/pharmacies/{heping}", headers=personas.headers("pharmacist_chen")).status_code == 200
