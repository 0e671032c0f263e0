"""The deployment's districts come from ``DOORSTEP_DISTRICTS_FILE``, loaded once, used everywhere."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from doorstep import geography
from doorstep.app import create_app
from doorstep.cli import cli
from doorstep.geography import DistrictsFileError, load_districts
from routing.districts import DistrictIndex
from tests.factories import BINJIANG_DAO
from tests.orders.helpers import assert_problem

# Two squares of the open sea south of Tianjin's centre: nowhere near the shipped districts.
RIVERSIDE = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"code": "north", "name": "North", "name_zh": "北区"},
         "geometry": {"type": "Polygon",
                      "coordinates": [[[118.0, 38.5], [118.1, 38.5], [118.1, 38.6], [118.0, 38.6], [118.0, 38.5]]]}},
        {"type": "Feature", "properties": {"code": "south", "name": "South", "name_zh": "南区"},
         "geometry": {"type": "Polygon",
                      "coordinates": [[[118.0, 38.4], [118.1, 38.4], [118.1, 38.5], [118.0, 38.5], [118.0, 38.4]]]}},
    ],
}
IN_NORTH = (38.55, 118.05)


@pytest.fixture
def riverside_file(tmp_path: Path) -> Path:
    """A deployment's own districts file with two districts, ``north`` and ``south``."""
    path = tmp_path / "riverside.geojson"
    path.write_text(json.dumps(RIVERSIDE), encoding="utf-8")
    return path


@pytest.fixture
def riverside(app, riverside_file, monkeypatch):  # type: ignore[no-untyped-def]
    """The session's app serving the riverside districts instead of Tianjin's, for one test."""
    monkeypatch.setitem(app.extensions, geography.DISTRICTS, load_districts(riverside_file))
    return app


def test_without_a_file_the_shipped_tianjin_districts_are_served(app) -> None:  # type: ignore[no-untyped-def]
    assert geography.districts(app) is DistrictIndex.default()


def test_init_app_loads_the_configured_file_once(settings, riverside_file) -> None:  # type: ignore[no-untyped-def]
    bare = Flask("bare")
    bare.config["SETTINGS"] = settings.with_overrides(districts_file=riverside_file)
    geography.init_app(bare)
    assert geography.districts(bare).codes == ("north", "south")


def test_the_districts_api_serves_the_configured_districts(riverside, client, personas) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/districts", headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 200
    assert [f["id"] for f in response.get_json()["features"]] == ["north", "south"]


def test_an_address_resolves_against_the_configured_districts(riverside, client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang")
    response = client.post("/api/v1/patients/me/addresses", headers=headers,
                           json={"label": "home", "line": "x", "lat": IN_NORTH[0], "lon": IN_NORTH[1]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["district"] == "north"
    # Binjiang Dao is in Heping, which this deployment does not serve.
    response = client.post("/api/v1/patients/me/addresses", headers=headers,
                           json={"label": "old", "line": "y", "lat": BINJIANG_DAO[0], "lon": BINJIANG_DAO[1]})
    assert_problem(response, 422, "lat", "lon")


def test_a_worker_may_only_serve_configured_districts(riverside, client, personas) -> None:  # type: ignore[no-untyped-def]
    body = {"kind": "nurse", "name": "Gao Lin", "skills": [], "districts": ["north", "heping"],
            "home": {"lat": IN_NORTH[0], "lon": IN_NORTH[1]}, "shifts": []}
    response = client.post("/api/v1/workers", headers=personas.headers("admin_root"), json=body)
    assert_problem(response, 422, "districts.1")


def test_the_command_line_reads_the_districts_file(riverside_file, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOORSTEP_DISTRICTS_FILE", str(riverside_file))
    result = CliRunner().invoke(cli, ["routing", "district", str(IN_NORTH[0]), str(IN_NORTH[1])])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("north\t")


BROKEN = {
    "not JSON": ("{'type': 'FeatureCollection'", "not JSON"),
    "not a collection": (json.dumps({"type": "Feature"}), "FeatureCollection"),
    "no districts": (json.dumps({"type": "FeatureCollection", "features": []}), "no features"),
    "a point": (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a", "name": "A", "name_zh": "甲"},
         "geometry": {"type": "Point", "coordinates": [117.2, 39.1]}}]}), "Polygon or MultiPolygon"),
    "no name": (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a"}, "geometry": RIVERSIDE["features"][0]["geometry"]}]}),
        "lacks properties: name, name_zh"),
    "bad coordinates": (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a", "name": "A", "name_zh": "甲"},
         "geometry": {"type": "Polygon", "coordinates": [["x"]]}}]}), "unreadable coordinates"),
    "a bow tie": (json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "a", "name": "A", "name_zh": "甲"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}}]}),
        "invalid outline"),
    "a feature that is a string": (json.dumps({"type": "FeatureCollection", "features": ["heping"]}),
                                   "not a GeoJSON Feature"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_districts_file_stops_the_app_naming_the_file_and_the_fault(settings, tmp_path, case) -> None:  # type: ignore[no-untyped-def]
    text, fault = BROKEN[case]
    path = tmp_path / "districts.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DistrictsFileError) as raised:
        create_app(settings.with_overrides(districts_file=path))
    assert str(path) in str(raised.value) and fault in str(raised.value)


def test_a_missing_districts_file_stops_the_app(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nowhere.geojson"
    with pytest.raises(DistrictsFileError, match="No such file"):
        create_app(settings.with_overrides(districts_file=path))


def test_the_command_line_names_a_broken_file_in_one_line(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "districts.geojson"
    path.write_text("[]", encoding="utf-8")
    monkeypatch.setenv("DOORSTEP_DISTRICTS_FILE", str(path))
    result = CliRunner().invoke(cli, ["routing", "district", "39.12", "117.2"])
    assert result.exit_code == 1
    assert str(path) in result.output and "FeatureCollection" in result.output
    assert "Traceback" not in result.output
