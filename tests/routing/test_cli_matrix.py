"""``doorstep routing matrix``: travel tables on the command line, by the configured engine."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from doorstep.cli import cli
from routing.geo import haversine_m
from routing.matrix import geodesic_table
from tests.routing.engine_server import ROAD_FACTOR, EngineServer, osrm_like

PLACES = [
    {"id": "station", "lat": 39.1365, "lon": 117.2108},
    {"id": "binjiang-dao", "lat": 39.1250, "lon": 117.2000},
    {"id": 3, "lat": 39.1030, "lon": 117.1700},
]
POINTS = [(p["lat"], p["lon"]) for p in PLACES]


def _run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["routing", "matrix", *args], input=stdin, env=env)


def test_the_geodesic_tables_of_a_file_are_printed_as_json(tmp_path: Path) -> None:
    path = tmp_path / "places.json"
    path.write_text(json.dumps({"locations": PLACES}))
    result = _run("--mode", "ebike", str(path), env={"DOORSTEP_ROUTING_ENGINE": "geodesic",
                                                     "DOORSTEP_HANDOVER_S": "30"})
    assert result.exit_code == 0, result.output
    durations, distances = geodesic_table(POINTS, "ebike", handover_s=30)
    assert json.loads(result.stdout) == {"durations": durations, "distances": distances}


def test_stdin_is_read_for_a_dash_and_car_is_the_default_mode() -> None:
    result = _run("-", stdin=json.dumps({"locations": PLACES}))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["durations"] == geodesic_table(POINTS, "car")[0]


def test_no_locations_give_empty_tables() -> None:
    result = _run("-", stdin='{"locations": []}')
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"durations": [], "distances": []}


@pytest.mark.parametrize(("doc", "named"), [
    ("{\"locations\": [", "is not JSON: Expecting value at line 1"),
    ('{"places": []}', "-: locations: required"),
    ('{"locations": [[39.1, 117.2]]}', "locations[0]: must be an object"),
    ('{"locations": [{"lat": 39.1, "lon": 117.2}]}', "locations[0].id: required"),
    ('{"locations": [{"id": "a", "lat": 39.1, "lon": 117.2}, {"id": "a", "lat": 39.2, "lon": 117.2}]}',
     "locations[1].id: 'a' is used by an earlier location"),
    ('{"locations": [{"id": "a", "lat": "39.1", "lon": 117.2}]}', "locations[0].lat: required, a number"),
    ('{"locations": [{"id": "a", "lat": 39.1, "lon": 217.2}]}', "locations[0].lon: required, a number of degrees in [-180, 180]"),
    ('{"locations": [{"id": "a", "lat": true, "lon": 117.2}]}', "locations[0].lat"),
])
def test_malformed_input_exits_2_with_one_line_naming_the_field(doc: str, named: str) -> None:
    result = _run("-", stdin=doc)
    assert result.exit_code == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output and result.stdout == ""


def test_a_missing_file_and_an_unknown_mode_are_usage_errors(tmp_path: Path) -> None:
    missing = _run(str(tmp_path / "nowhere.json"))
    assert missing.exit_code == 2 and "Cannot read" in missing.stderr
    bus = _run("--mode", "bus", "-", stdin='{"locations": []}')
    assert bus.exit_code == 2 and "'bus' is not one of" in bus.stderr


def test_a_road_engine_from_the_environment_is_asked_in_chunks_with_progress_on_stderr() -> None:
    rng = np.random.default_rng(5)
    places = [{"id": k, "lat": round(float(lat), 5), "lon": round(float(lon), 5)}
              for k, (lat, lon) in enumerate(zip(rng.uniform(39.05, 39.2, 60), rng.uniform(117.1, 117.3, 60),
                                                 strict=True))]
    with EngineServer(osrm_like(max_locations=40)) as server:
        result = _run("-", stdin=json.dumps({"locations": places}),
                      env={"DOORSTEP_ROUTING_ENGINE": "osrm", "DOORSTEP_ROUTING_URL": server.url,
                           "DOORSTEP_ROUTING_MAX_LOCATIONS": "40", "REDIS_URL": ""})
    assert result.exit_code == 0, result.output
    assert len(server.requests) > 1 and max(r.locations for r in server.requests) <= 40
    distances = json.loads(result.stdout)["distances"]
    a, b = (places[7]["lat"], places[7]["lon"]), (places[52]["lat"], places[52]["lon"])
    assert distances[7][52] == pytest.approx(ROAD_FACTOR * haversine_m(*a, *b), abs=1)
    assert "asking osrm" in result.stderr and f"{len(server.requests)}/{len(server.requests)}" in result.stderr


def test_a_road_engine_without_a_url_is_one_readable_line() -> None:
    result = _run("-", stdin=json.dumps({"locations": PLACES}),
                  env={"DOORSTEP_ROUTING_ENGINE": "valhalla", "DOORSTEP_ROUTING_URL": ""})
    assert result.exit_code == 1
    assert "valhalla routing engine needs a URL (DOORSTEP_ROUTING_URL)" in result.stderr
    assert "Traceback" not in result.output
