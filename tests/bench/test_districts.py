"""``bench.districts`` runs at a small size and prints its figure."""

from __future__ import annotations

from bench.districts import main, measure
from routing.districts import DistrictIndex


def test_a_small_run_locates_every_point_and_agrees_with_locate() -> None:
    result = measure(DistrictIndex.default(), 2_000, seed=3, repeat=1)
    assert result.points == 2_000 and result.agree
    assert 0.05 < result.inside_share < 0.95  # in and around the city
    assert result.points_per_s > 0


def test_the_command_prints_points_per_second(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--points", "1000", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# python -m bench.districts --points 1000 --repeat 1")
    assert "points/s" in out and "same answers: yes" in out
