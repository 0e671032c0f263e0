"""Great-circle distances (routing.geo)."""

import numpy as np
import pytest

from routing.geo import EARTH_RADIUS_M, geodesic_m, haversine_m, pairwise_haversine_m

TIANJIN_STATION = (39.1365, 117.2108)
BINJIANG_DAO = (39.1250, 117.2000)


def test_one_degree_of_latitude_is_the_mean_radius_times_pi_over_180():
    assert haversine_m(39.0, 117.2, 40.0, 117.2) == pytest.approx(EARTH_RADIUS_M * np.pi / 180)
    assert haversine_m(39.0, 117.2, 40.0, 117.2) == pytest.approx(111_195, abs=1)


def test_tianjin_station_is_about_one_and_a_half_kilometres_from_binjiang_dao():
    # By hand: 0.0115° of latitude ≈ 1,277 m north, 0.0108° of longitude at 39.13° N
    # ≈ 932 m east, so about 1,580 m as the crow flies.
    assert haversine_m(*TIANJIN_STATION, *BINJIANG_DAO) == pytest.approx(1_580, rel=0.10)


def test_haversine_is_within_half_a_percent_of_the_ellipsoidal_geodesic():
    for a, b in [(TIANJIN_STATION, BINJIANG_DAO), ((39.05, 117.10), (39.20, 117.32))]:
        assert haversine_m(*a, *b) == pytest.approx(geodesic_m(*a, *b), rel=0.005)


def test_distance_is_symmetric_and_zero_to_itself():
    assert haversine_m(*TIANJIN_STATION, *BINJIANG_DAO) == haversine_m(
        *BINJIANG_DAO, *TIANJIN_STATION
    )
    assert haversine_m(*TIANJIN_STATION, *TIANJIN_STATION) == 0.0


def test_pairwise_distances_match_the_scalar_formula():
    lats = np.array([39.1365, 39.1250, 39.0600, 39.1630])
    lons = np.array([117.2108, 117.2000, 117.2200, 117.1550])
    table = pairwise_haversine_m(lats, lons, lats, lons)
    for i in range(4):
        for j in range(4):
            assert table[i, j] == pytest.approx(
                haversine_m(lats[i], lons[i], lats[j], lons[j]), abs=1e-6
            )


@pytest.mark.parametrize("point", [(117.2, 39.1), (float("nan"), 117.2), (39.1, 190.0)])
def test_a_point_that_is_not_lat_lon_in_degrees_is_rejected(point):
    with pytest.raises(ValueError, match="lat, lon"):
        haversine_m(*point, *BINJIANG_DAO)
    with pytest.raises(ValueError, match="lat, lon"):
        geodesic_m(*point, *BINJIANG_DAO)
