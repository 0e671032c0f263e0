"""``bench.matrix`` runs at a tiny size: the JSON it times is the geodesic table, and a re-plan hits the cache."""

from __future__ import annotations

import numpy as np

from bench.matrix import bare_haversine_m, city_points, main, replan_day, time_geodesic_json
from routing.districts import DistrictIndex
from routing.geo import haversine_m


def test_the_city_points_are_inside_the_districts_and_the_baseline_is_the_haversine() -> None:
    points = city_points(12, seed=2)
    index = DistrictIndex.default()
    assert all(index.locate(lat, lon) is not None for lat, lon in points.tolist())
    metres = bare_haversine_m(points)
    assert metres[3, 7] == np.float64(metres[7, 3])
    assert abs(metres[3, 7] - haversine_m(*points[3], *points[7])) < 0.01


def test_a_tiny_timing_reports_both_times() -> None:
    timing = time_geodesic_json(city_points(40, seed=1), repeat=1, naive=False)
    assert timing.points == 40 and timing.geodesic_json_s > 0 and timing.bare_haversine_s > 0
    assert timing.file_mb > 0 and timing.naive_json_s is None


def test_a_replan_with_two_percent_new_places_asks_only_their_rows_and_columns() -> None:
    morning, replan = replan_day(100, churn=0.02, replans=1, seed=4)
    assert morning.hit_rate == 0.0 and morning.cells_asked == 2 * 100 * 100
    # Two places replaced: per mode, their rows (2 × 100) and the others' columns to them (98 × 2).
    assert replan.cells_asked == 2 * (2 * 100 + 98 * 2)
    assert replan.hit_rate == (98 * 97) / (100 * 99)


def test_the_command_prints_the_ratio_and_the_hit_rates(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--points", "50", "--repeat", "1", "--day", "50", "--replans", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# python -m bench.matrix --points 50")
    assert "ratio" in out and "re-plan 2" in out and "lowest re-plan hit rate" in out
