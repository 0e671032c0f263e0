"""Travel times behind one interface: places and a travel mode in, seconds and metres out.

:class:`Travel` is the configured provider: the geodesic model alone (the
default: no server, no cache, a 3,000-place table in about a second), or a
road engine (OSRM, Valhalla) with a cache of cells in front and the geodesic
model behind it for whatever the engine cannot answer. :func:`build_travel`
makes one from plain values (:class:`TravelConfig`); ``doorstep.travel`` reads
them from the settings. Nothing here knows about Flask or the database.

Conventions as :mod:`routing.matrix`: points are ``(lat, lon)`` WGS-84 degrees,
durations whole seconds, distances whole metres, ``table[i][j]`` from point
``i`` to point ``j``. ``handover_s`` (parking, finding the door) is added to
every trip between two different places whatever the engine, since no road
engine knows it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing.cache import DEFAULT_TTL_S, MatrixCache, MemoryCache, RedisCache, place_key
from routing.engines import EngineError, OsrmEngine, RoadEngine, ValhallaEngine, engine_blocks
from routing.geo import pairwise_haversine_m
from routing.matrix import DEFAULT_DETOUR_FACTOR, Table, geodesic_arrays, lat_lon_array, travel_mode

__all__ = ["ENGINES", "Travel", "TravelConfig", "TravelStats", "build_travel", "travel_tables"]

log = logging.getLogger("routing.travel")

ENGINES = ("geodesic", "osrm", "valhalla")

Progress = Callable[[int, int], None]
"""Called with (requests done, requests planned) while a road engine is asked."""


@dataclass(frozen=True)
class TravelConfig:
    """How travel times are made: plain values, read from the settings by the caller.

    Attributes
    ----------
    engine
        ``"geodesic"``, ``"osrm"`` or ``"valhalla"``.
    url
        The road engine's base URL, e.g. ``http://osrm:5000``; required for a road engine.
    timeout_s, retries
        Per request; a failed request is tried ``retries`` more times after 0.25 s, 0.5 s, ...
    max_locations
        Locations (sources plus destinations) one engine request may hold.
    detour_factor, handover_s
        The geodesic model's (:func:`routing.matrix.geodesic_table`); ``handover_s``
        applies to road engines too.
    cache_ttl_s, cache_max_cells
        How long a road engine's cells are kept, and how many in process.
    """

    engine: str = "geodesic"
    url: str | None = None
    timeout_s: float = 10.0
    retries: int = 2
    max_locations: int = 100
    detour_factor: float = DEFAULT_DETOUR_FACTOR
    handover_s: int = 0
    cache_ttl_s: int = DEFAULT_TTL_S
    cache_max_cells: int = 2_000_000


@dataclass
class TravelStats:
    """What the road engine was asked, since the :class:`Travel` was made."""

    requests: int = 0
    cells_asked: int = 0
    cells_filled_geodesically: int = 0


class Travel:
    """The configured provider of travel tables; one per process, so its cache lives on.

    Parameters
    ----------
    engine
        A road engine, or ``None`` for the geodesic model alone.
    cache
        Where a road engine's cells are kept (ignored without an engine:
        computing a geodesic cell is cheaper than looking one up).
    detour_factor, handover_s
        As :func:`routing.matrix.geodesic_table`.
    """

    def __init__(self, engine: RoadEngine | None = None, cache: MatrixCache | None = None, *,
                 detour_factor: float = DEFAULT_DETOUR_FACTOR, handover_s: int = 0) -> None:
        if not detour_factor >= 1.0:
            raise ValueError(f"detour_factor must be at least 1, got {detour_factor!r}")
        if handover_s < 0:
            raise ValueError(f"handover_s must not be negative, got {handover_s!r}")
        self.engine, self.cache = engine, cache if engine is not None else None
        self.detour_factor, self.handover_s = detour_factor, handover_s
        self.stats = TravelStats()

    @property
    def engine_name(self) -> str:
        return self.engine.name if self.engine is not None else "geodesic"

    def tables(self, points: Sequence[tuple[float, float]], mode: str = "car", *,
               on_progress: Progress | None = None) -> tuple[Table, Table]:
        """Durations and distances as lists of lists of int; see :meth:`arrays`."""
        durations, distances = self.arrays(points, mode, on_progress=on_progress)
        return durations.tolist(), distances.tolist()

    def arrays(self, points: Sequence[tuple[float, float]], mode: str = "car", *,
               on_progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Durations and distances between all pairs of points.

        With a road engine: the cells the cache knows, the engine asked for the
        rest (only the rows and columns of new places once the day is known),
        and the geodesic model for cells it could not answer, with a warning.

        Parameters
        ----------
        points
            ``(lat, lon)`` pairs, WGS-84 degrees.
        mode
            ``"walking"``, ``"ebike"`` or ``"car"``.
        on_progress
            Called with (requests done, requests planned) as the engine answers.

        Returns
        -------
        durations_s, distances_m : numpy.ndarray
            ``(n, n)`` int64; zero diagonal.

        Raises
        ------
        ValueError
            If ``mode`` is unknown or a point is not a valid ``(lat, lon)``.
            An engine failure is never raised: it falls back to geodesic.
        """
        travel_mode(mode)
        coords = lat_lon_array(points)
        if self.engine is None:
            return geodesic_arrays(coords, mode, detour_factor=self.detour_factor,
                                   handover_s=self.handover_s)
        # One row per distinct place (1 m apart): duplicates cost nothing and share a key.
        rounded = np.round(coords, 5).reshape(-1, 2)
        _, first, inverse = np.unique(rounded, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)  # places in the order they first appear
        places = rounded[first[order]]
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        inverse = rank[inverse.reshape(-1)]
        seconds, metres = self._road(places, mode, on_progress)
        seconds[~np.eye(len(places), dtype=bool)] += self.handover_s
        durations = np.rint(seconds).astype(np.int64)[np.ix_(inverse, inverse)]
        distances = np.rint(metres).astype(np.int64)[np.ix_(inverse, inverse)]
        return durations, distances

    def _road(self, places: np.ndarray, mode: str, on_progress: Progress | None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Float seconds and metres between distinct places, without handover."""
        assert self.engine is not None
        n = len(places)
        keys = [place_key(lat, lon) for lat, lon in places.tolist()]
        namespace = f"{self.engine.name}:{mode}"
        if self.cache is not None:
            seconds, metres = self.cache.lookup(namespace, keys)
        else:
            seconds, metres = np.full((n, n), np.nan), np.full((n, n), np.nan)
        np.fill_diagonal(seconds, 0.0)
        np.fill_diagonal(metres, 0.0)

        blocks = [block for src, dst in _requests(np.isnan(seconds) | np.isnan(metres))
                  for block in engine_blocks(src, dst, self.engine.max_locations,
                                             dedupes=self.engine.dedupes)]
        failure = None
        for done, (src, dst) in enumerate(blocks, start=1):
            try:
                s, m = self.engine.block(places, src, dst, mode)
            except EngineError as exc:
                failure = str(exc)  # the engine is down or refuses: don't wait on every block
                break
            self.stats.requests += 1
            self.stats.cells_asked += s.size
            cells = np.ix_(src, dst)
            s[src[:, None] == dst[None, :]] = 0.0
            m[src[:, None] == dst[None, :]] = 0.0
            seconds[cells], metres[cells] = s, m
            if self.cache is not None:
                self.cache.store(namespace, [keys[i] for i in src.tolist()],
                                 [keys[j] for j in dst.tolist()], s, m)
            if on_progress is not None:
                on_progress(done, len(blocks))

        holes = np.isnan(seconds) | np.isnan(metres)
        if holes.any():
            self._fill_geodesically(places, mode, seconds, metres, holes)
            count = int(holes.sum())
            self.stats.cells_filled_geodesically += count
            log.warning("event=travel_fallback engine=%s mode=%s cells=%d of=%d reason=%s",
                        self.engine.name, mode, count, n * (n - 1),
                        failure or "the engine found no route")
        return seconds, metres

    def _fill_geodesically(self, places: np.ndarray, mode: str, seconds: np.ndarray,
                           metres: np.ndarray, holes: np.ndarray) -> None:
        rows = np.flatnonzero(holes.any(axis=1))
        road_m = pairwise_haversine_m(places[rows, 0], places[rows, 1], places[:, 0], places[:, 1])
        road_m *= self.detour_factor
        sub = holes[rows]
        metres[rows] = np.where(sub, road_m, metres[rows])
        seconds[rows] = np.where(sub, road_m / travel_mode(mode).speed_m_s, seconds[rows])


def _requests(missing: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rectangles of sources × destinations that cover every missing cell.

    New places (nothing known from or to them) get their row and their
    column; whatever else is missing (a row expired, a null answered before)
    is one rectangle of the rows and columns it touches.
    """
    n = len(missing)
    if n < 2 or not missing.any():
        return []
    everyone = np.arange(n)
    fresh = np.flatnonzero((missing.sum(axis=1) == n - 1) & (missing.sum(axis=0) == n - 1))
    requests = []
    rest = missing.copy()
    if fresh.size:
        requests.append((fresh, everyone))
        known = np.setdiff1d(everyone, fresh)
        if known.size:
            requests.append((known, fresh))
        rest[fresh, :] = False
        rest[:, fresh] = False
    if rest.any():
        requests.append((np.flatnonzero(rest.any(axis=1)), np.flatnonzero(rest.any(axis=0))))
    return requests


def build_travel(config: TravelConfig = TravelConfig(), *, redis_client: Any = None) -> Travel:
    """The provider ``config`` describes, with its cache: Redis when a client is given.

    Raises
    ------
    ValueError
        If the engine is unknown, a road engine has no URL, or a number is out of range.
    """
    engine_name = config.engine.strip().lower()
    if engine_name not in ENGINES:
        raise ValueError(f"unknown routing engine {config.engine!r}; expected one of: {', '.join(ENGINES)}")
    if engine_name == "geodesic":
        return Travel(detour_factor=config.detour_factor, handover_s=config.handover_s)
    if not config.url:
        raise ValueError(f"the {engine_name} routing engine needs a URL (DOORSTEP_ROUTING_URL)")
    kind = OsrmEngine if engine_name == "osrm" else ValhallaEngine
    engine = kind(url=config.url, timeout_s=config.timeout_s, retries=config.retries,
                  max_locations=config.max_locations)
    cache: MatrixCache
    if redis_client is not None:
        cache = RedisCache(redis_client, ttl_s=config.cache_ttl_s)
    else:
        cache = MemoryCache(max_cells=config.cache_max_cells, ttl_s=config.cache_ttl_s)
    return Travel(engine, cache, detour_factor=config.detour_factor, handover_s=config.handover_s)


def travel_tables(points: Sequence[tuple[float, float]], mode: str = "car", *,
                  travel: Travel | None = None) -> tuple[Table, Table]:
    """Durations (s) and distances (m) between all pairs of points, by ``travel``.

    Parameters
    ----------
    points
        ``(lat, lon)`` pairs, WGS-84 degrees.
    mode
        ``"walking"``, ``"ebike"`` or ``"car"``.
    travel
        The configured provider (:func:`build_travel`); default: the geodesic model.

    Returns
    -------
    durations_s, distances_m : list of list of int

    Raises
    ------
    ValueError
        If ``mode`` is unknown or a point is invalid.
    """
    return (travel or Travel()).tables(points, mode)
