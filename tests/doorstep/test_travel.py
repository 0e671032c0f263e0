"""The configured travel times: settings → provider and cache, and the day problem built with them."""
from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.service import build_day_problem
from doorstep.settings import Settings
from doorstep.travel import TRAVEL, TravelConfigError, make_travel
from routing.cache import MemoryCache, RedisCache
from routing.engines import OsrmEngine, ValhallaEngine
from routing.geo import haversine_m
from routing.travel import Travel
from tests.dispatch.service_helpers import accepted_visit, ready_parcel
from tests.factories import SERVICE_DATE
from tests.routing.engine_server import ROAD_FACTOR, EngineServer, osrm_like


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"DOORSTEP_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "s" * 40, **env})


def test_geodesic_is_the_default_and_takes_its_tuning_from_the_environment(tmp_path: Path) -> None:
    travel = make_travel(_settings(tmp_path, DOORSTEP_DETOUR_FACTOR="1.5", DOORSTEP_HANDOVER_S="120"))
    assert travel.engine is None and travel.cache is None
    assert (travel.detour_factor, travel.handover_s) == (1.5, 120)


def test_a_road_engine_is_chosen_by_the_environment_with_its_limits(tmp_path: Path) -> None:
    travel = make_travel(_settings(tmp_path, DOORSTEP_ROUTING_ENGINE="valhalla",
                                   DOORSTEP_ROUTING_URL="http://valhalla:8002",
                                   DOORSTEP_ROUTING_TIMEOUT="3", DOORSTEP_ROUTING_RETRIES="1",
                                   DOORSTEP_ROUTING_MAX_LOCATIONS="60", DOORSTEP_ROUTING_CACHE_CELLS="1000"))
    engine = travel.engine
    assert isinstance(engine, ValhallaEngine)
    assert (engine.url, engine.timeout_s, engine.retries, engine.max_locations) == ("http://valhalla:8002", 3, 1, 60)
    assert isinstance(travel.cache, MemoryCache) and travel.cache.max_cells == 1000


def test_with_redis_the_cells_go_to_redis_for_a_day(tmp_path: Path) -> None:
    travel = make_travel(_settings(tmp_path, DOORSTEP_ROUTING_ENGINE="osrm", DOORSTEP_ROUTING_URL="http://osrm:5000",
                                   REDIS_URL="redis://127.0.0.1:6379/0"))
    assert isinstance(travel.engine, OsrmEngine)
    assert isinstance(travel.cache, RedisCache) and travel.cache.ttl_s == 86_400


def test_a_road_engine_without_a_url_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(TravelConfigError, match="DOORSTEP_ROUTING_URL"):
        make_travel(_settings(tmp_path, DOORSTEP_ROUTING_ENGINE="osrm"))
    with pytest.raises(TravelConfigError, match="unknown routing engine 'ors'"):
        make_travel(_settings(tmp_path, DOORSTEP_ROUTING_ENGINE="ors", DOORSTEP_ROUTING_URL="http://x"))


def test_the_day_problem_asks_the_configured_engine_by_car_for_nurses_and_by_bicycle_for_couriers(
        app, personas) -> None:  # type: ignore[no-untyped-def]
    accepted_visit(personas, service_code="picc_maintenance")
    ready_parcel(personas)
    configured = app.extensions[TRAVEL]
    with EngineServer(osrm_like()) as server:
        app.extensions[TRAVEL] = Travel(OsrmEngine(url=server.url), MemoryCache())
        try:
            doc, _ = build_day_problem(SERVICE_DATE)
        finally:
            app.extensions[TRAVEL] = configured
    profiles = {r.path.split("/")[3] for r in server.requests}
    assert profiles == {"driving", "cycling"}
    locations = doc["locations"]
    a, b = (locations[0]["lat"], locations[0]["lon"]), (locations[1]["lat"], locations[1]["lon"])
    assert doc["matrices"]["nurse"]["distances"][0][1] == pytest.approx(ROAD_FACTOR * haversine_m(*a, *b), abs=1)
