"""Geodesic travel tables (routing.matrix)."""

import random

import pytest

from routing.geo import haversine_m
from routing.matrix import (
    MODES,
    SPEED_M_S,
    GeodesicProvider,
    MatrixProvider,
    geodesic_table,
    travel_mode,
    travel_time_s,
)

STATION = (39.1365, 117.2108)
BINJIANG_DAO = (39.1250, 117.2000)
NANKAI_UNIVERSITY = (39.1030, 117.1700)
MEIJIANG = (39.0600, 117.2200)
POINTS = [STATION, BINJIANG_DAO, NANKAI_UNIVERSITY, MEIJIANG]


def test_tables_are_square_symmetric_ints_with_a_zero_diagonal():
    for table in geodesic_table(POINTS, "car"):
        assert len(table) == 4 and all(len(row) == 4 for row in table)
        assert all(type(value) is int for row in table for value in row)
        assert [table[i][i] for i in range(4)] == [0, 0, 0, 0]
        assert all(table[i][j] == table[j][i] for i in range(4) for j in range(4))
        assert all(table[i][j] > 0 for i in range(4) for j in range(4) if i != j)


def test_road_distance_is_the_straight_line_stretched_by_the_detour_factor():
    _, distances = geodesic_table([STATION, BINJIANG_DAO], detour_factor=1.3)
    straight_m = haversine_m(*STATION, *BINJIANG_DAO)
    assert distances[0][1] == round(1.3 * straight_m)
    _, straight = geodesic_table([STATION, BINJIANG_DAO], detour_factor=1.0)
    assert straight[0][1] == round(straight_m)


def test_station_to_binjiang_dao_by_car_is_about_five_minutes():
    # About 1,580 m straight, 2,050 m by road, at 7 m/s: just under 300 s.
    durations, distances = geodesic_table([STATION, BINJIANG_DAO], "car")
    assert distances[0][1] == pytest.approx(2_054, rel=0.10)
    assert durations[0][1] == pytest.approx(distances[0][1] / 7.0, abs=1)


def test_the_same_trip_takes_longest_walking_then_by_ebike_then_by_car():
    times = {mode: geodesic_table(POINTS, mode)[0][0][3] for mode in ("walking", "ebike", "car")}
    assert times["walking"] > times["ebike"] > times["car"] > 0
    assert SPEED_M_S == {"walking": 1.2, "ebike": 4.5, "car": 7.0}


def test_distances_do_not_depend_on_the_mode():
    assert geodesic_table(POINTS, "walking")[1] == geodesic_table(POINTS, "car")[1]


def test_an_unknown_mode_is_rejected_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="'bus'.*car, ebike, walking"):
        geodesic_table(POINTS, "bus")
    with pytest.raises(ValueError, match="unknown travel mode"):
        travel_mode("Car")


def test_handover_time_is_added_between_different_places_but_not_within_one():
    same_building = (STATION[0], STATION[1])
    plain, _ = geodesic_table([STATION, BINJIANG_DAO, same_building], "ebike")
    with_handover, _ = geodesic_table(
        [STATION, BINJIANG_DAO, same_building], "ebike", handover_s=120
    )
    assert with_handover[0][1] == plain[0][1] + 120
    assert with_handover[1][0] == plain[1][0] + 120
    assert with_handover[0][2] == 0 and with_handover[0][0] == 0


def test_no_points_give_empty_tables():
    assert geodesic_table([]) == ([], [])


def test_a_single_point_gives_a_one_by_one_zero_table():
    assert geodesic_table([STATION], handover_s=60) == ([[0]], [[0]])


@pytest.mark.parametrize(
    "points",
    [[(117.2108, 39.1365)], [(39.1, float("nan"))], [(39.1, 117.2, 0.0)]],
    ids=["lon-lat swapped", "nan", "three numbers"],
)
def test_a_point_that_is_not_a_lat_lon_pair_is_rejected(points):
    with pytest.raises(ValueError):
        geodesic_table(points)


@pytest.mark.parametrize("kwargs", [{"detour_factor": 0.9}, {"handover_s": -1}])
def test_nonsense_tuning_is_rejected(kwargs):
    with pytest.raises(ValueError):
        geodesic_table(POINTS, **kwargs)


def test_three_thousand_points_give_a_full_table_quickly():
    rng = random.Random(7)
    points = [(rng.uniform(39.05, 39.19), rng.uniform(117.10, 117.30)) for _ in range(3_000)]
    durations, distances = geodesic_table(points, "ebike")
    assert len(durations) == len(distances) == 3_000
    assert len(durations[-1]) == len(distances[-1]) == 3_000
    assert durations[1234][2345] == durations[2345][1234] > 0


def test_travel_time_is_the_table_entry_for_that_pair():
    for mode in MODES:
        table, _ = geodesic_table([MEIJIANG, STATION], mode, handover_s=30)
        assert travel_time_s(MEIJIANG, STATION, mode, handover_s=30) == table[0][1]


def test_the_geodesic_provider_serves_the_same_tables():
    provider: MatrixProvider = GeodesicProvider(detour_factor=1.4, handover_s=60)
    assert provider.table(POINTS, "ebike") == geodesic_table(
        POINTS, "ebike", detour_factor=1.4, handover_s=60
    )
