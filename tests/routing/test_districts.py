"""Point-in-district look-ups over Tianjin's central districts (routing.districts)."""

import itertools
import json
import math
import random

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from routing.districts import DistrictIndex

CODES = ("hebei", "hedong", "heping", "hexi", "hongqiao", "nankai")


@pytest.fixture(scope="module")
def tianjin() -> DistrictIndex:
    """The six central districts shipped with Doorstep."""
    return DistrictIndex.default()


def _area_km2(polygon) -> float:
    # Equirectangular projection at Tianjin's latitude: exact enough for a 10 km city.
    km_per_deg_lat = 110.95
    km_per_deg_lon = 111.32 * math.cos(math.radians(39.12))
    return shapely.transform(polygon, lambda xy: xy * [km_per_deg_lon, km_per_deg_lat]).area


def test_the_default_index_holds_the_six_central_districts(tianjin):
    assert tianjin.codes == CODES
    assert tianjin.district("heping").name == "Heping"
    assert tianjin.district("heping").name_zh == "和平区"
    assert {d.name_zh for d in tianjin} == {
        "和平区",
        "河西区",
        "南开区",
        "河东区",
        "河北区",
        "红桥区",
    }


def test_the_default_index_is_loaded_once(tianjin):
    assert DistrictIndex.default() is tianjin


@pytest.mark.parametrize("code", CODES)
def test_each_districts_representative_point_locates_to_that_district(tianjin, code):
    lat, lon = tianjin.centroid(code)
    assert tianjin.locate(lat, lon) == code


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (39.1250, 117.2000, "heping"),  # Binjiang Dao pedestrian street
        (39.1139, 117.1935, "heping"),  # Anshan Dao, Tianjin Medical University General Hospital
        (39.1030, 117.1700, "nankai"),  # Nankai University
        (39.0930, 117.1630, "nankai"),  # Tianjin Water Park
        (39.0600, 117.2200, "hexi"),  # Meijiang
        (39.1630, 117.1550, "hongqiao"),  # Xigu Park
        (39.1330, 117.2020, "hebei"),  # Italian Style Town, north bank of the Hai River
    ],
)
def test_landmarks_land_in_their_district(tianjin, lat, lon, code):
    assert tianjin.locate(lat, lon) == code


def test_tianjin_railway_station_is_on_the_hedong_hebei_side_of_the_river(tianjin):
    assert tianjin.locate(39.1365, 117.2108) in {"hedong", "hebei"}


def test_beijing_is_in_no_district(tianjin):
    assert tianjin.locate(39.9087, 116.3975) is None
    assert tianjin.locate_many([39.9087], [116.3975]) == [None]


def test_no_two_districts_overlap(tianjin):
    for a, b in itertools.combinations(tianjin, 2):
        assert a.polygon.intersection(b.polygon).area < 1e-12, (a.code, b.code)


def test_the_districts_tile_the_centre_without_gaps(tianjin):
    union = shapely.union_all([d.polygon for d in tianjin])
    assert union.geom_type == "Polygon"
    assert len(union.interiors) == 0


def test_heping_shares_a_border_with_each_of_its_four_neighbours(tianjin):
    heping = tianjin.district("heping").polygon
    for code in ("hexi", "nankai", "hebei", "hedong"):
        shared = heping.intersection(tianjin.district(code).polygon)
        assert shared.length > 0.002, code  # at least ~200 m of common border, no gap


@pytest.mark.parametrize(
    ("code", "official_km2"),
    [("heping", 10), ("hexi", 41), ("nankai", 40), ("hedong", 40), ("hebei", 29), ("hongqiao", 21)],
)
def test_district_areas_are_close_to_the_official_ones(tianjin, code, official_km2):
    assert _area_km2(tianjin.district(code).polygon) == pytest.approx(official_km2, rel=0.15)


def test_a_point_on_a_shared_border_resolves_to_the_first_code_every_time(tianjin):
    heping, hexi = tianjin.district("heping").polygon, tianjin.district("hexi").polygon
    # A vertex both outlines share lies exactly on the border (a midpoint would be
    # off it by rounding).
    shared = set(heping.exterior.coords) & set(hexi.exterior.coords)
    lon, lat = sorted(shared)[1]
    assert heping.covers(shapely.Point(lon, lat)) and hexi.covers(shapely.Point(lon, lat))
    assert {tianjin.locate(lat, lon) for _ in range(20)} == {"heping"}
    assert tianjin.locate_many([lat], [lon]) == ["heping"]


def test_locate_many_agrees_with_locate_point_by_point(tianjin):
    rng = np.random.default_rng(3)
    lats = rng.uniform(39.03, 39.20, 2_000)
    lons = rng.uniform(117.09, 117.32, 2_000)
    vertices = [c for d in tianjin for c in d.polygon.exterior.coords]  # on borders
    lats = np.concatenate([lats, [y for _, y in vertices]])
    lons = np.concatenate([lons, [x for x, _ in vertices]])
    many = tianjin.locate_many(lats, lons)
    assert many == [tianjin.locate(lat, lon) for lat, lon in zip(lats, lons)]
    assert None in many and set(many) - {None} == set(CODES)


def test_locate_many_rejects_unequal_lengths(tianjin):
    with pytest.raises(ValueError, match="latitudes"):
        tianjin.locate_many([39.1, 39.2], [117.2])


@pytest.mark.parametrize(
    "make_rng", [random.Random, np.random.default_rng], ids=["random", "numpy"]
)
def test_random_points_fall_inside_their_district_and_repeat_with_the_seed(tianjin, make_rng):
    for code in CODES:
        rng = make_rng(11)
        points = [tianjin.random_point(code, rng) for _ in range(25)]
        assert all(tianjin.locate(lat, lon) == code for lat, lon in points)
        again = make_rng(11)
        assert [tianjin.random_point(code, again) for _ in range(25)] == points


def test_an_unknown_code_raises_key_error(tianjin):
    with pytest.raises(KeyError, match="pudong"):
        tianjin.centroid("pudong")


def test_to_geojson_is_json_ready_and_loads_back_unchanged(tianjin):
    document = json.loads(json.dumps(tianjin.to_geojson(), ensure_ascii=False))
    assert document["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in document["features"]] == list(CODES)
    assert document["features"][2]["properties"] == {
        "code": "heping",
        "name": "Heping",
        "name_zh": "和平区",
    }
    again = DistrictIndex.from_geojson(document)
    for a, b in zip(tianjin, again):
        assert (a.code, a.name, a.name_zh) == (b.code, b.name, b.name_zh)
        assert a.polygon.equals(b.polygon)


def test_to_geojson_returns_a_fresh_document_each_time(tianjin):
    first = tianjin.to_geojson()
    first["features"][0]["geometry"]["coordinates"][0][0][0] = 0.0
    assert tianjin.to_geojson()["features"][0]["geometry"]["coordinates"][0][0][0] != 0.0


def test_districts_load_from_a_geojson_file(tmp_path):
    square = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "west", "name": "West", "name_zh": "西区"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
                },
            },
            {
                "type": "Feature",
                "properties": {"code": "east", "name": "East", "name_zh": "东区"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]],
                },
            },
        ],
    }
    path = tmp_path / "two.geojson"
    path.write_text(json.dumps(square), encoding="utf-8")
    index = DistrictIndex.from_geojson(path)
    assert index.codes == ("east", "west")
    assert index.locate(0.5, 0.5) == "west"
    assert index.locate(0.5, 1.0) == "east"  # on the shared border: first code wins
    assert index.locate(0.5, 2.5) is None


def _one_feature(properties, geometry):
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": properties, "geometry": geometry}],
    }


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
NAMES = {"code": "a", "name": "A", "name_zh": "甲"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        (_one_feature({"code": "a", "name": "A"}, SQUARE), "name_zh"),
        (_one_feature(NAMES, {"type": "Point", "coordinates": [0, 0]}), "Polygon"),
        (_one_feature(NAMES, BOWTIE), "invalid outline"),
        (
            {"type": "FeatureCollection", "features": _one_feature(NAMES, SQUARE)["features"] * 2},
            "duplicate",
        ),
    ],
    ids=["not a collection", "missing name_zh", "a point", "self-intersecting", "duplicate code"],
)
def test_a_malformed_district_file_is_rejected(document, message):
    with pytest.raises(ValueError, match=message):
        DistrictIndex.from_geojson(document)


def test_the_shipped_file_is_a_valid_coverage_with_counter_clockwise_rings():
    from importlib import resources

    text = (
        resources.files("routing")
        .joinpath("data")
        .joinpath("tianjin_districts.geojson")
        .read_text("utf-8")
    )
    polygons = [shape(f["geometry"]) for f in json.loads(text)["features"]]
    assert shapely.coverage_is_valid(polygons)
    assert all(p.exterior.is_ccw for p in polygons)  # RFC 7946 winding
