"""Every body that takes a point accepts ``crs``: stored in WGS-84, in the district of the original."""
from __future__ import annotations

import pytest

from routing.crs import wgs84_to_bd09, wgs84_to_gcj02
from routing.districts import DistrictIndex
from routing.geo import geodesic_m

CONVERSIONS = [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
CODES = DistrictIndex.default().codes


@pytest.mark.parametrize("code", CODES)
@pytest.mark.parametrize(("crs", "convert"), CONVERSIONS)
def test_an_address_from_a_map_app_lands_where_its_wgs84_original_does(client, personas, code, crs, convert) -> None:  # type: ignore[no-untyped-def]
    original = DistrictIndex.default().centroid(code)
    lat, lon = convert(*original)
    headers = personas.headers("patient_wang")

    address = client.post("/api/v1/patients/me/addresses", headers=headers,
                          json={"label": "pin", "line": "x", "lat": lat, "lon": lon, "crs": crs}).get_json()
    plain = client.post("/api/v1/patients/me/addresses", headers=headers,
                        json={"label": "gps", "line": "x", "lat": original[0], "lon": original[1]}).get_json()

    assert address["district"] == plain["district"] == code
    assert geodesic_m(address["lat"], address["lon"], plain["lat"], plain["lon"]) < 1


@pytest.mark.parametrize(("crs", "convert"), CONVERSIONS)
def test_a_pharmacy_moved_to_a_map_apps_point_is_stored_in_wgs84(client, personas, crs, convert) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("admin_root")
    heping, nankai = DistrictIndex.default().centroid("heping"), DistrictIndex.default().centroid("nankai")
    created = client.post("/api/v1/pharmacies", headers=headers,
                          json={"name": "Branch", "lat": heping[0], "lon": heping[1]}).get_json()
    lat, lon = convert(*nankai)

    moved = client.patch(f"/api/v1/pharmacies/{created['id']}", headers=headers,
                         json={"lat": lat, "lon": lon, "crs": crs})

    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["district"] == "nankai"
    assert geodesic_m(moved.get_json()["lat"], moved.get_json()["lon"], *nankai) < 1


@pytest.mark.parametrize(("crs", "convert"), CONVERSIONS)
def test_a_workers_home_moved_to_a_map_apps_point_is_stored_in_wgs84(client, personas, crs, convert) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("admin_root")
    body = {"kind": "nurse", "name": "Chen Jing", "skills": [], "districts": ["hexi"],
            "home": {"lat": 39.1, "lon": 117.22}, "shifts": []}
    worker = client.post("/api/v1/workers", json=body, headers=headers).get_json()
    home = (39.0900, 117.2100)
    lat, lon = convert(*home)

    patched = client.patch(f"/api/v1/workers/{worker['id']}", headers=headers,
                           json={"home": {"lat": lat, "lon": lon, "crs": crs}})

    assert patched.status_code == 200, patched.get_json()
    assert geodesic_m(patched.get_json()["home"]["lat"], patched.get_json()["home"]["lon"], *home) < 1
