"""``doorstep routing district``: a point's district on the command line."""
from __future__ import annotations

from click.testing import CliRunner

from doorstep.cli import cli
from routing.crs import wgs84_to_bd09, wgs84_to_gcj02
from routing.districts import DistrictIndex


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["routing", "district", *args])


def test_a_point_in_heping_prints_its_code_and_both_names() -> None:
    lat, lon = DistrictIndex.default().centroid("heping")
    result = _run(str(lat), str(lon))
    assert result.exit_code == 0, result.output
    assert result.output.strip().split("\t") == ["heping", "Heping", "和平区"]


def test_gcj02_and_bd09_points_are_converted_before_the_lookup() -> None:
    lat, lon = DistrictIndex.default().centroid("nankai")
    for convert, crs in ((wgs84_to_gcj02, "gcj02"), (wgs84_to_bd09, "bd09")):
        shown = convert(lat, lon)
        result = _run(str(shown[0]), str(shown[1]), "--crs", crs)
        assert result.exit_code == 0, result.output
        assert result.output.startswith("nankai\t")


def test_a_point_outside_every_district_exits_1_naming_the_served_ones() -> None:
    result = _run("31.2304", "121.4737")  # Shanghai
    assert result.exit_code == 1
    assert "outside every served district" in result.output
    assert "heping" in result.output
    assert "Traceback" not in result.output


def test_an_impossible_latitude_is_a_usage_error_not_a_traceback() -> None:
    result = _run("139.1", "117.2")
    assert result.exit_code == 2
    assert "not a WGS-84" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
