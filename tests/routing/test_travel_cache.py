"""The matrix-cell cache: re-planning asks the road engine only for what is new.

The cache under test is Redis when ``REDIS_URL`` is set (the suite's production
setup) and the in-process one otherwise; each Redis test writes under its own
key prefix and deletes it afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import numpy as np
import pytest

from routing.cache import MatrixCache, MemoryCache, RedisCache, place_key
from routing.engines import OsrmEngine
from routing.travel import Travel
from tests.routing.engine_server import EngineServer, osrm_like, replay

REDIS_URL = os.environ.get("REDIS_URL")


def _day(n: int, seed: int = 3) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    return list(zip(rng.uniform(39.05, 39.20, n).round(5), rng.uniform(117.10, 117.30, n).round(5),
                    strict=True))


@pytest.fixture
def cache() -> Iterator[MatrixCache]:
    """Redis under a private prefix when ``REDIS_URL`` is set, else a fresh in-process cache."""
    if not REDIS_URL:
        yield MemoryCache()
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"doorstep-test:{uuid.uuid4().hex}"
    yield RedisCache(client, ttl_s=600, prefix=prefix)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_the_second_plan_of_the_same_places_asks_the_engine_nothing(cache: MatrixCache) -> None:
    points = _day(30)
    with EngineServer(osrm_like()) as server:
        travel = Travel(OsrmEngine(url=server.url), cache)
        first = travel.tables(points, "car")
        asked = len(server.requests)
        cache.stats.reset()
        second = travel.tables(points, "car")
    assert asked >= 1 and len(server.requests) == asked
    assert second == first
    assert cache.stats.hit_rate == 1.0 and cache.stats.hits == 30 * 29


def test_one_new_place_asks_only_its_row_and_its_column(cache: MatrixCache) -> None:
    points = _day(40)
    new = (39.11111, 117.22222)
    with EngineServer(osrm_like()) as server:
        travel = Travel(OsrmEngine(url=server.url), cache)
        travel.tables(points, "car")
        before = len(server.requests)
        durations, _ = travel.tables([*points[:20], new, *points[20:]], "car")
        later = server.requests[before:]
    assert later, "the new place was not asked for"
    for request in later:
        coords = request.osrm_coordinates
        sources = [coords[int(i)] for i in request.query["sources"].split(";")]
        destinations = [coords[int(i)] for i in request.query["destinations"].split(";")]
        assert sources == [new] or destinations == [new]
    assert server.cells() - 40 * 40 == 41 + 40  # its row (with itself) and its column
    assert durations[20][21] > 0 and durations[0][20] > 0


def test_a_cancelled_order_asks_nothing(cache: MatrixCache) -> None:
    points = _day(25)
    with EngineServer(osrm_like()) as server:
        travel = Travel(OsrmEngine(url=server.url), cache)
        full = np.array(travel.tables(points, "car")[0])
        before = len(server.requests)
        fewer = np.array(travel.tables(points[:10] + points[11:], "car")[0])
    assert len(server.requests) == before
    assert (fewer == np.delete(np.delete(full, 10, axis=0), 10, axis=1)).all()


def test_places_a_few_centimetres_apart_share_cells_but_modes_do_not(cache: MatrixCache) -> None:
    points = _day(10)
    nudged = [(lat + 2e-7, lon - 2e-7) for lat, lon in points]
    with EngineServer(osrm_like()) as server:
        travel = Travel(OsrmEngine(url=server.url), cache)
        travel.tables(points, "car")
        before = len(server.requests)
        travel.tables(nudged, "car")
        assert len(server.requests) == before
        travel.tables(points, "ebike")
        assert len(server.requests) > before
    assert place_key(39.123456789, 117.2) == "39.12346,117.20000"


def test_cells_the_engine_could_not_answer_are_asked_again_next_time(cache: MatrixCache) -> None:
    three = [(39.1365, 117.2108), (39.125, 117.2), (39.103, 117.17)]
    with EngineServer(replay("osrm_table_one_unreachable.json")) as server:
        travel = Travel(OsrmEngine(url=server.url), cache)
        travel.tables(three, "car")
        travel.tables(three, "car")
    assert len(server.requests) == 2
    second = server.requests[1]
    assert second.query["sources"] == "0" and second.query["destinations"] == "1"  # 0 → 2 alone
    assert second.osrm_coordinates == [three[0], three[2]]


def test_cached_cells_are_used_when_the_engine_is_down_later(cache: MatrixCache) -> None:
    points = _day(12)
    with EngineServer(osrm_like()) as server:
        url = server.url
        first = Travel(OsrmEngine(url=url), cache).tables(points, "car")
    travel = Travel(OsrmEngine(url=url, timeout_s=0.5, retries=0), cache)
    assert travel.tables(points, "car") == first
    assert travel.stats.cells_filled_geodesically == 0


def test_the_in_process_cache_keeps_at_most_its_bound_dropping_the_least_recently_used() -> None:
    cache = MemoryCache(max_cells=50)
    keys = [f"k{i}" for i in range(10)]
    block = np.ones((10, 10))
    cache.store("osrm:car", keys[:5], keys, block[:5], block[:5])  # 50 cells
    cache.lookup("osrm:car", keys[:2])  # k0 and k1 are used again
    cache.store("osrm:car", keys[5:6], keys, block[:1], block[:1])
    assert len(cache) <= 50
    seconds, _ = cache.lookup("osrm:car", keys)
    assert not np.isnan(seconds[0, 1]) and not np.isnan(seconds[5, 1])
    assert np.isnan(seconds[2, 1])  # k2 was the least recently used row


def test_in_process_rows_expire_after_their_ttl() -> None:
    now = [0.0]
    cache = MemoryCache(ttl_s=100, clock=lambda: now[0])
    cache.store("osrm:car", ["a"], ["a", "b"], np.array([[0.0, 5.0]]), np.array([[0.0, 50.0]]))
    now[0] = 99.0
    assert cache.lookup("osrm:car", ["a", "b"])[0][0, 1] == 5.0
    now[0] = 100.5
    assert np.isnan(cache.lookup("osrm:car", ["a", "b"])[0][0, 1])
    assert len(cache) == 0


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL")
def test_redis_rows_are_hashes_with_a_ttl(cache: MatrixCache) -> None:
    assert isinstance(cache, RedisCache)
    cache.store("osrm:car", ["a", "b"], ["a", "b"], np.array([[0.0, 61.5], [60.0, 0.0]]),
                np.array([[0.0, 400.0], [390.0, 0.0]]))
    key = f"{cache.prefix}:osrm:car:a"
    assert cache.client.hget(key, "b") == b"61.5,400.0"
    assert 0 < cache.client.ttl(key) <= 600
    seconds, metres = cache.lookup("osrm:car", ["a", "b"])
    assert (seconds[0, 1], metres[1, 0]) == (61.5, 390.0)


def test_an_unreachable_redis_finds_nothing_instead_of_failing() -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    cache = RedisCache(client)
    seconds, _ = cache.lookup("osrm:car", ["a", "b"])
    assert np.isnan(seconds).all() and cache.stats.misses == 2
    cache.store("osrm:car", ["a"], ["b"], np.ones((1, 1)), np.ones((1, 1)))  # dropped, no error
