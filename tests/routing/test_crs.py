"""WGS-84 / GCJ-02 / BD-09 conversions (routing.crs)."""

import itertools

import pytest

from routing.crs import (
    CRS_NAMES,
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from routing.geo import geodesic_m

TIANANMEN_WGS84 = (39.9087, 116.3975)
TIANANMEN_GCJ02 = (39.9101, 116.4037)  # as Amap shows it, to 4 decimals (±6 m)

# A grid over central Tianjin plus far corners of the GCJ-02 area.
POINTS = [
    (lat, lon)
    for lat, lon in itertools.product(
        [39.03, 39.08, 39.12, 39.16, 39.20], [117.10, 117.17, 117.24, 117.31]
    )
] + [(22.54, 114.06), (45.75, 126.65), (29.65, 91.13)]


def test_tiananmen_shifts_to_its_published_gcj02_position():
    assert geodesic_m(*wgs84_to_gcj02(*TIANANMEN_WGS84), *TIANANMEN_GCJ02) < 8


def test_a_published_gcj02_position_converts_back_near_the_true_one():
    assert geodesic_m(*gcj02_to_wgs84(*TIANANMEN_GCJ02), *TIANANMEN_WGS84) < 8


def test_gcj02_moves_points_in_tianjin_by_a_few_hundred_metres_north_east():
    lat, lon = wgs84_to_gcj02(39.12, 117.20)
    assert lat > 39.12 and lon > 117.20
    assert 300 < geodesic_m(39.12, 117.20, lat, lon) < 800


@pytest.mark.parametrize("point", POINTS)
def test_gcj02_round_trip_is_within_half_a_metre(point):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert geodesic_m(*point, *back) < 0.5
    forth = wgs84_to_gcj02(*gcj02_to_wgs84(*point))
    assert geodesic_m(*point, *forth) < 0.5


@pytest.mark.parametrize("point", POINTS)
def test_bd09_round_trips_are_within_half_a_metre(point):
    assert geodesic_m(*point, *bd09_to_gcj02(*gcj02_to_bd09(*point))) < 0.5
    assert geodesic_m(*point, *bd09_to_wgs84(*wgs84_to_bd09(*point))) < 0.5


def test_bd09_adds_baidus_further_offset_to_gcj02():
    gcj = wgs84_to_gcj02(39.12, 117.20)
    bd = gcj02_to_bd09(*gcj)
    assert bd[0] - gcj[0] == pytest.approx(0.006, abs=0.002)
    assert bd[1] - gcj[1] == pytest.approx(0.0065, abs=0.002)


@pytest.mark.parametrize(
    "point",
    [(51.5007, -0.1246), (35.6812, 139.7671), (40.7580, -73.9855)],
    ids=["london", "tokyo", "new york"],
)
def test_points_outside_china_are_not_shifted_by_gcj02(point):
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point
    assert to_wgs84(*point, "gcj02") == point


def test_to_wgs84_dispatches_on_the_crs_name():
    gcj = wgs84_to_gcj02(39.12, 117.20)
    bd = wgs84_to_bd09(39.12, 117.20)
    assert to_wgs84(39.12, 117.20, "wgs84") == (39.12, 117.20)
    assert geodesic_m(*to_wgs84(*gcj, "gcj02"), 39.12, 117.20) < 0.5
    assert geodesic_m(*to_wgs84(*bd, "bd09"), 39.12, 117.20) < 0.5
    assert CRS_NAMES == ("wgs84", "gcj02", "bd09")


@pytest.mark.parametrize("crs", ["GCJ02", "epsg:4326", "", "baidu"])
def test_an_unknown_crs_is_rejected_naming_the_allowed_ones(crs):
    with pytest.raises(ValueError, match="wgs84, gcj02, bd09"):
        to_wgs84(39.12, 117.20, crs)
