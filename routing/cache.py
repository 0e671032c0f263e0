"""A cache of travel-matrix cells, so re-planning during the day asks a road engine only for what is new.

A cell is one trip, from a place to a place, for one engine and travel mode
(the *namespace*, e.g. ``"osrm:car"``). Places are keyed by their coordinates
rounded to 5 decimals (about 1 m), so the same address read twice is the same
key. Cells are stored by origin: a Redis hash per origin (one ``HMGET`` per row,
all rows in one pipelined round trip), or a dict per origin in process. Each
row expires ``ttl_s`` after its last write (a day by default: road times change
with works and seasons, not by the hour).

Only what a road engine answered is stored; a geodesic stand-in for a failed or
null cell is not, so the engine is asked again next time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from redis.exceptions import RedisError

__all__ = ["DEFAULT_TTL_S", "CacheStats", "MatrixCache", "MemoryCache", "RedisCache", "place_key"]

log = logging.getLogger("routing.cache")

DEFAULT_TTL_S = 86_400


def place_key(lat: float, lon: float) -> str:
    """The cache key of a place: ``"lat,lon"`` rounded to 5 decimals (about 1 m)."""
    return f"{lat:.5f},{lon:.5f}"


@dataclass
class CacheStats:
    """Cells found and not found, off the diagonal, since creation or :meth:`reset`."""

    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        """Hits over lookups, 0 when nothing was looked up."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def reset(self) -> None:
        self.hits = self.misses = 0


class MatrixCache(Protocol):
    """Where travel cells are kept between plans."""

    stats: CacheStats

    def lookup(self, namespace: str, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and metres between every pair of ``keys``, NaN where unknown.

        ``keys`` are distinct; the diagonal is left NaN and not counted.
        """
        ...

    def store(self, namespace: str, sources: Sequence[str], destinations: Sequence[str],
              seconds: np.ndarray, metres: np.ndarray) -> None:
        """Keep a block of cells; NaN cells are skipped."""
        ...


def _count(stats: CacheStats, seconds: np.ndarray) -> None:
    n = len(seconds)
    found = int(np.count_nonzero(~np.isnan(seconds))) - int(np.count_nonzero(~np.isnan(np.diag(seconds))))
    stats.hits += found
    stats.misses += n * (n - 1) - found


def _cells(sources: Sequence[str], destinations: Sequence[str], seconds: np.ndarray,
           metres: np.ndarray) -> Any:
    """``(origin, {destination: (s, m)})`` for each row, without NaN cells."""
    known = ~(np.isnan(seconds) | np.isnan(metres))
    for i, origin in enumerate(sources):
        cols = np.flatnonzero(known[i]).tolist()
        if cols:
            yield origin, {destinations[j]: (float(seconds[i, j]), float(metres[i, j])) for j in cols}


class MemoryCache:
    """Cells in this process, at most ``max_cells`` (least recently used rows go first).

    Parameters
    ----------
    max_cells
        Bound on the cells kept; each takes about 150 bytes, so the default
        two million is about 300 MB at worst.
    ttl_s
        Seconds a row is kept after its last write.
    clock
        Monotonic seconds; tests pass a fake one.
    """

    def __init__(self, max_cells: int = 2_000_000, ttl_s: int = DEFAULT_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_cells < 1 or ttl_s < 1:
            raise ValueError("max_cells and ttl_s must be positive")
        self.max_cells, self.ttl_s, self._clock = max_cells, ttl_s, clock
        self._rows: OrderedDict[tuple[str, str], tuple[float, dict[str, tuple[float, float]]]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        """Cells kept."""
        return self._size

    def lookup(self, namespace: str, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(keys)
        seconds = np.full((n, n), np.nan)
        metres = np.full((n, n), np.nan)
        now = self._clock()
        with self._lock:
            for i, origin in enumerate(keys):
                entry = self._rows.get((namespace, origin))
                if entry is None:
                    continue
                if entry[0] <= now:
                    self._drop((namespace, origin))
                    continue
                self._rows.move_to_end((namespace, origin))
                row = entry[1]
                for j, destination in enumerate(keys):
                    cell = row.get(destination)
                    if cell is not None and i != j:
                        seconds[i, j], metres[i, j] = cell
        _count(self.stats, seconds)
        return seconds, metres

    def store(self, namespace: str, sources: Sequence[str], destinations: Sequence[str],
              seconds: np.ndarray, metres: np.ndarray) -> None:
        expires = self._clock() + self.ttl_s
        with self._lock:
            for origin, cells in _cells(sources, destinations, seconds, metres):
                entry = self._rows.pop((namespace, origin), None)
                row = entry[1] if entry else {}
                before = len(row)
                row.update(cells)
                self._size += len(row) - before
                self._rows[(namespace, origin)] = (expires, row)
            while self._size > self.max_cells and self._rows:
                self._drop(next(iter(self._rows)))

    def _drop(self, key: tuple[str, str]) -> None:
        _, row = self._rows.pop(key)
        self._size -= len(row)


class RedisCache:
    """Cells in Redis, shared by every web and Celery process: a hash per origin.

    Parameters
    ----------
    client
        A ``redis.Redis`` (or anything with its ``pipeline``).
    ttl_s
        Seconds a row is kept after its last write.
    prefix
        Key prefix; a row is ``{prefix}:{namespace}:{origin}``.

    Redis being away is not an error: lookups find nothing and stores are
    dropped, with one warning per call.
    """

    def __init__(self, client: Any, ttl_s: int = DEFAULT_TTL_S, prefix: str = "doorstep:travel") -> None:
        if ttl_s < 1:
            raise ValueError("ttl_s must be positive")
        self.client, self.ttl_s, self.prefix = client, ttl_s, prefix
        self.stats = CacheStats()

    def _key(self, namespace: str, origin: str) -> str:
        return f"{self.prefix}:{namespace}:{origin}"

    def lookup(self, namespace: str, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        n = len(keys)
        seconds = np.full((n, n), np.nan)
        metres = np.full((n, n), np.nan)
        if n > 1:
            try:
                pipe = self.client.pipeline(transaction=False)
                for origin in keys:
                    pipe.hmget(self._key(namespace, origin), list(keys))
                rows = pipe.execute()
            except (RedisError, OSError) as exc:
                log.warning("event=travel_cache_unavailable op=lookup error=%s", type(exc).__name__)
                rows = []
            if rows:
                _fill(rows, seconds, metres)
        _count(self.stats, seconds)
        return seconds, metres

    def store(self, namespace: str, sources: Sequence[str], destinations: Sequence[str],
              seconds: np.ndarray, metres: np.ndarray) -> None:
        try:
            pipe = self.client.pipeline(transaction=False)
            for origin, cells in _cells(sources, destinations, seconds, metres):
                key = self._key(namespace, origin)
                pipe.hset(key, mapping={d: f"{s:.1f},{m:.1f}" for d, (s, m) in cells.items()})
                pipe.expire(key, self.ttl_s)
            pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("event=travel_cache_unavailable op=store error=%s", type(exc).__name__)


def _fill(rows: list[list[Any]], seconds: np.ndarray, metres: np.ndarray) -> None:
    """Parse HMGET answers (``b"s,m"`` or None) into the tables in one numpy pass."""
    flat = [value for row in rows for value in row]
    known = np.fromiter((value is not None for value in flat), dtype=bool, count=len(flat))
    if not known.any():
        return
    text = ",".join(v.decode() if isinstance(v, bytes) else v for v in flat if v is not None)
    numbers = np.array(text.split(","), dtype=float).reshape(-1, 2)
    diagonal = np.eye(len(seconds), dtype=bool).reshape(-1)
    found = np.flatnonzero(known)
    keep = ~diagonal[found]
    seconds.flat[found[keep]] = numbers[keep, 0]
    metres.flat[found[keep]] = numbers[keep, 1]
