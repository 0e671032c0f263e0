"""District outlines for maps drawn in GCJ-02 or BD-09 (GET /api/v1/districts?crs=)."""
from __future__ import annotations

import pytest

from routing.crs import wgs84_to_bd09, wgs84_to_gcj02
from routing.districts import DistrictIndex
from tests.orders.helpers import assert_problem


def _first_vertex(document: dict, code: str) -> tuple[float, float]:
    feature = next(f for f in document["features"] if f["id"] == code)
    geometry = feature["geometry"]
    ring = geometry["coordinates"][0] if geometry["type"] == "Polygon" else geometry["coordinates"][0][0]
    lon, lat = ring[0]
    return lat, lon


@pytest.mark.parametrize(("crs", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_each_vertex_is_converted_for_the_maps_system(crs, convert) -> None:  # type: ignore[no-untyped-def]
    index = DistrictIndex.default()
    plain, shifted = index.to_geojson(), index.to_geojson(crs)
    for code in index.codes:
        lat, lon = _first_vertex(plain, code)
        assert _first_vertex(shifted, code) == pytest.approx(convert(lat, lon), abs=1e-9)
    # The shift is what the parameter is for: hundreds of metres in Tianjin, not nothing.
    lat, lon = _first_vertex(plain, "heping")
    moved_lat, moved_lon = _first_vertex(shifted, "heping")
    assert abs(moved_lat - lat) + abs(moved_lon - lon) > 0.001


def test_the_api_serves_gcj02_outlines_and_refuses_an_unknown_system(client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("dispatcher_sun")
    plain = client.get("/api/v1/districts", headers=headers).get_json()
    response = client.get("/api/v1/districts?crs=gcj02", headers=headers)
    assert response.status_code == 200
    lat, lon = _first_vertex(plain, "heping")
    assert _first_vertex(response.get_json(), "heping") == pytest.approx(wgs84_to_gcj02(lat, lon), abs=1e-9)
    assert_problem(client.get("/api/v1/districts?crs=mercator", headers=headers), 422, "query.crs")


def test_an_unknown_system_is_refused_by_the_index_too() -> None:
    with pytest.raises(ValueError, match="unknown crs"):
        DistrictIndex.default().to_geojson("mercator")
