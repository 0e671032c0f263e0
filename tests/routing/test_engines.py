"""Road engines at their HTTP boundary: OSRM's table and Valhalla's sources_to_targets.

Each test runs a real local HTTP server (``engine_server``) that replays a
recorded response or computes one in the engine's format.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from routing.engines import EngineError, OsrmEngine, ValhallaEngine, engine_blocks
from routing.geo import haversine_m
from routing.matrix import geodesic_table
from routing.travel import Travel, TravelConfig, build_travel
from tests.routing.engine_server import (
    ROAD_FACTOR,
    EngineServer,
    failing_first,
    osrm_like,
    recorded,
    replay,
    sleeping,
    valhalla_like,
)

STATION = (39.1365, 117.2108)
BINJIANG_DAO = (39.1250, 117.2000)
NANKAI_UNIVERSITY = (39.1030, 117.1700)
THREE = [STATION, BINJIANG_DAO, NANKAI_UNIVERSITY]


def _road_travel(kind: type, url: str, **options: object) -> Travel:
    return Travel(kind(url=url, **options))


def _city(n: int, seed: int = 7) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(39.05, 39.20, n).round(5), rng.uniform(117.10, 117.30, n).round(5),
                    strict=True))


# --- recorded responses ------------------------------------------------------------------

def test_osrm_durations_and_distances_are_read_from_its_table_rounded_to_whole_units() -> None:
    with EngineServer(replay("osrm_table_three_places.json", profile="driving",
                             coordinates=THREE)) as server:
        durations, distances = _road_travel(OsrmEngine, server.url).tables(THREE, "car")
    assert durations == [[0, 301, 713], [297, 0, 468], [706, 472, 0]]
    assert distances == [[0, 2186, 5874], [2151, 0, 3703], [5811, 3755, 0]]
    assert len(server.requests) == 1
    assert "sources" not in server.requests[0].query  # a square table asks for all-to-all


def test_valhalla_kilometres_become_metres_and_the_car_is_auto_costing() -> None:
    with EngineServer(replay("valhalla_matrix_three_places.json", profile="auto",
                             coordinates=THREE)) as server:
        durations, distances = _road_travel(ValhallaEngine, server.url).tables(THREE, "car")
    assert distances == [[0, 2186, 5874], [2151, 0, 3703], [5811, 3755, 0]]
    assert durations == [[0, 301, 713], [297, 0, 468], [706, 472, 0]]
    assert server.requests[0].body["units"] == "kilometers"


@pytest.mark.parametrize(("mode", "osrm", "valhalla"),
                         [("car", "driving", "auto"), ("ebike", "cycling", "bicycle"),
                          ("walking", "foot", "pedestrian")])
def test_each_travel_mode_asks_for_its_engine_profile(mode: str, osrm: str, valhalla: str) -> None:
    with EngineServer(osrm_like()) as server:
        _road_travel(OsrmEngine, server.url).tables(THREE, mode)
    assert server.requests[0].path.startswith(f"/table/v1/{osrm}/")
    with EngineServer(valhalla_like()) as server:
        _road_travel(ValhallaEngine, server.url).tables(THREE, mode)
    assert server.requests[0].body["costing"] == valhalla


def test_a_null_cell_is_filled_geodesically_and_the_others_kept(caplog: pytest.LogCaptureFixture) -> None:
    geodesic_s, geodesic_m = geodesic_table(THREE, "car")
    for kind, name in ((OsrmEngine, "osrm_table_one_unreachable.json"),
                       (ValhallaEngine, "valhalla_matrix_one_unreachable.json")):
        with caplog.at_level(logging.WARNING, logger="routing.travel"):
            caplog.clear()
            with EngineServer(replay(name)) as server:
                durations, distances = _road_travel(kind, server.url).tables(THREE, "car")
        assert (durations[0][2], distances[0][2]) == (geodesic_s[0][2], geodesic_m[0][2])
        assert (durations[0][1], distances[0][1]) == (301, 2186)
        assert durations[2][0] == 706
        assert "event=travel_fallback" in caplog.text and "cells=1 " in caplog.text


# --- chunking ----------------------------------------------------------------------------

def test_a_250_place_table_is_assembled_from_requests_of_at_most_100_locations() -> None:
    points = _city(250)
    with EngineServer(osrm_like(max_locations=100)) as server:
        durations, distances = _road_travel(OsrmEngine, server.url).arrays(points, "car")
    assert len(server.requests) > 1
    assert max(r.locations for r in server.requests) <= 100
    assert server.cells() == 250 * 250
    for i, j in ((0, 249), (249, 0), (17, 180), (120, 121), (200, 3)):
        expected_m = ROAD_FACTOR * haversine_m(*points[i], *points[j])
        assert distances[i, j] == pytest.approx(expected_m, abs=1)
        assert durations[i, j] == pytest.approx(expected_m / 8.0, abs=1)
    assert (np.diag(durations) == 0).all()
    assert (durations == durations.T).all()  # the stand-in is symmetric: every block landed in its place


def test_valhalla_blocks_stay_within_its_default_2500_pairs() -> None:
    points = _city(120)
    with EngineServer(valhalla_like(max_pairs=2500)) as server:
        travel = _road_travel(ValhallaEngine, server.url)
        _, distances = travel.arrays(points, "ebike")
    assert all(len(r.body["sources"]) * len(r.body["targets"]) <= 2500 for r in server.requests)
    assert travel.stats.cells_filled_geodesically == 0
    assert distances[5, 100] == pytest.approx(ROAD_FACTOR * haversine_m(*points[5], *points[100]), abs=2)


def test_the_blocks_cover_every_pair_once_whatever_the_shape() -> None:
    for n_src, n_dst, limit in ((250, 250, 100), (1, 3000, 100), (3000, 2, 100), (7, 9, 10), (99, 99, 100)):
        sources, destinations = np.arange(n_src), np.arange(n_dst)
        seen = np.zeros((n_src, n_dst), dtype=int)
        for src, dst in engine_blocks(sources, destinations, limit, dedupes=False):
            assert len(src) + len(dst) <= limit
            seen[np.ix_(src, dst)] += 1
        assert (seen == 1).all()


def test_a_square_table_within_the_limit_is_one_osrm_request() -> None:
    blocks = list(engine_blocks(np.arange(100), np.arange(100), 100, dedupes=True))
    assert len(blocks) == 1


def test_chunked_requests_report_progress_to_the_last_one() -> None:
    seen: list[tuple[int, int]] = []
    with EngineServer(osrm_like()) as server:
        _road_travel(OsrmEngine, server.url).arrays(_city(150), "car",
                                                    on_progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] == len(server.requests) > 1


# --- timeouts, retries, fallback ---------------------------------------------------------

def test_a_server_that_fails_once_is_asked_again_and_its_answer_used() -> None:
    with EngineServer(failing_first(osrm_like(), failures=1)) as server:
        travel = _road_travel(OsrmEngine, server.url, retries=2, backoff_s=0.01)
        durations, _ = travel.tables(THREE, "car")
    assert len(server.requests) == 2
    assert travel.stats.cells_filled_geodesically == 0
    assert durations[0][1] == round(ROAD_FACTOR * haversine_m(*STATION, *BINJIANG_DAO) / 8.0)


def test_a_refused_request_is_not_retried_and_names_the_engine_code() -> None:
    with EngineServer(lambda r: (400, recorded("osrm_too_big.json"))) as server:
        engine = OsrmEngine(url=server.url, retries=2, backoff_s=0.01)
        with pytest.raises(EngineError, match="HTTP 400 TooBig"):
            engine.block(np.array(THREE), np.arange(3), np.arange(3), "car")
    assert len(server.requests) == 1


def test_a_server_slower_than_the_timeout_falls_back_to_geodesic_with_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    with EngineServer(sleeping(osrm_like(), seconds=1.5)) as server:
        travel = _road_travel(OsrmEngine, server.url, timeout_s=0.2, retries=1, backoff_s=0.01)
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="routing.travel"):
            tables = travel.tables(THREE, "car")
        elapsed = time.monotonic() - began
    assert tables == geodesic_table(THREE, "car")
    assert elapsed < 1.2  # two attempts of 0.2 s, not the server's 1.5 s
    assert len(server.requests) == 2
    assert "event=travel_fallback engine=osrm" in caplog.text
    assert "TimeoutError" in caplog.text


def test_an_unreachable_engine_falls_back_without_coordinates_in_the_log(
        caplog: pytest.LogCaptureFixture) -> None:
    with EngineServer(osrm_like()) as server:
        url = server.url  # closed on leaving: nothing listens there any more
    travel = _road_travel(OsrmEngine, url, timeout_s=0.5, retries=1, backoff_s=0.01)
    with caplog.at_level(logging.WARNING):
        tables = travel.tables(THREE, "ebike")
    assert tables == geodesic_table(THREE, "ebike")
    assert "event=travel_fallback" in caplog.text
    assert "39.1" not in caplog.text and "117.2" not in caplog.text


def test_the_factory_builds_the_configured_engine_or_says_what_is_missing() -> None:
    assert build_travel(TravelConfig()).engine is None
    assert isinstance(build_travel(TravelConfig(engine="osrm", url="http://osrm:5000")).engine, OsrmEngine)
    assert isinstance(build_travel(TravelConfig(engine="Valhalla", url="http://v:8002")).engine,
                      ValhallaEngine)
    with pytest.raises(ValueError, match="needs a URL"):
        build_travel(TravelConfig(engine="osrm"))
    with pytest.raises(ValueError, match="unknown routing engine 'graphhopper'"):
        build_travel(TravelConfig(engine="graphhopper", url="http://x"))


def test_geodesic_tuning_comes_from_the_config() -> None:
    travel = build_travel(TravelConfig(detour_factor=1.5, handover_s=60))
    assert travel.tables(THREE, "car") == geodesic_table(THREE, "car", detour_factor=1.5, handover_s=60)
    assert travel.tables(THREE, "car") != geodesic_table(THREE, "car")


def test_handover_is_added_to_a_road_engine_trip_between_two_places() -> None:
    with EngineServer(replay("osrm_table_three_places.json")) as server:
        durations, _ = Travel(OsrmEngine(url=server.url), handover_s=90).tables(THREE, "car")
    assert durations == [[0, 391, 803], [387, 0, 558], [796, 562, 0]]
