"""Road engines over HTTP: OSRM's table service and Valhalla's sources_to_targets.

A small client of our own on the standard library's ``urllib.request`` (no
runtime dependency to keep up to date). Each engine answers one *block*:
some sources to some destinations, as float seconds and metres with NaN where
the engine found no route; :func:`engine_blocks` cuts a big request into
blocks that each hold at most ``max_locations`` locations (OSRM's default
``--max-table-size`` is 100; Valhalla's default is 2,500 location pairs,
which 50 × 50 respects).

Failures raise :class:`EngineError` with a reason that holds no coordinates
(OSRM puts them in the URL): the caller logs it and falls back to geodesic.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np

__all__ = [
    "OSRM_PROFILES",
    "VALHALLA_COSTINGS",
    "EngineError",
    "OsrmEngine",
    "RoadEngine",
    "ValhallaEngine",
    "engine_blocks",
]

OSRM_PROFILES = {"car": "driving", "ebike": "cycling", "walking": "foot"}
VALHALLA_COSTINGS = {"car": "auto", "ebike": "bicycle", "walking": "pedestrian"}
_METRES_PER_UNIT = {"kilometers": 1000.0, "km": 1000.0, "miles": 1609.344, "mi": 1609.344}


class EngineError(Exception):
    """A road engine could not answer. ``str(exc)`` is safe to log: no coordinates."""


class RoadEngine(Protocol):
    """A travel-time service that answers blocks of a matrix."""

    name: str
    max_locations: int
    dedupes: bool  # a location both source and destination counts once

    def block(
        self, coords: np.ndarray, sources: np.ndarray, destinations: np.ndarray, mode: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and metres from ``coords[sources]`` to ``coords[destinations]``.

        ``coords`` is ``(n, 2)`` ``(lat, lon)``; the result is two float
        arrays of shape ``(len(sources), len(destinations))``, NaN where the
        engine has no route. Raises :class:`EngineError`.
        """
        ...


@dataclass(frozen=True)
class _Http:
    """Timeouts and retries shared by the engines."""

    url: str
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.25
    max_locations: int = 100

    def __post_init__(self) -> None:
        if self.max_locations < 2:
            raise ValueError(f"max_locations must be at least 2, got {self.max_locations!r}")
        if self.retries < 0:
            raise ValueError(f"retries must not be negative, got {self.retries!r}")

    def _fetch(self, request: urllib.request.Request, engine: str) -> Any:
        """The JSON answer, trying again after a short backoff on transient failures.

        Connection errors, timeouts and 429/5xx answers are transient; any other
        HTTP error (a request too big, a location off the map) would fail the
        same way again.
        """
        reason = "no attempt"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                reason = f"HTTP {exc.code}{_error_code(exc)}"
                if exc.code != 429 and exc.code < 500:
                    raise EngineError(f"{engine} refused the request: {reason}") from None
            except urllib.error.URLError as exc:
                reason = type(exc.reason).__name__ if isinstance(exc.reason, BaseException) else "URLError"
            except (TimeoutError, OSError) as exc:
                reason = type(exc).__name__
            except ValueError:
                reason = "not JSON"
        raise EngineError(f"{engine} failed after {self.retries + 1} attempts: {reason}")


def _error_code(exc: urllib.error.HTTPError) -> str:
    """OSRM's ``code`` or Valhalla's ``error_code`` from an error body, never its message."""
    try:
        body = json.loads(exc.read() or b"{}")
    except (ValueError, OSError):
        return ""
    code = body.get("code") or body.get("error_code") if isinstance(body, dict) else None
    return f" {code}" if isinstance(code, str | int) and len(str(code)) <= 40 else ""


@dataclass(frozen=True)
class OsrmEngine(_Http):
    """OSRM's ``GET /table/v1/{profile}/{lon,lat;...}?annotations=duration,distance``."""

    name: ClassVar[str] = "osrm"
    dedupes: ClassVar[bool] = True

    def block(
        self, coords: np.ndarray, sources: np.ndarray, destinations: np.ndarray, mode: str
    ) -> tuple[np.ndarray, np.ndarray]:
        wanted = list(dict.fromkeys([*sources.tolist(), *destinations.tolist()]))
        position = {index: k for k, index in enumerate(wanted)}
        path = ";".join(f"{coords[i, 1]:.6f},{coords[i, 0]:.6f}" for i in wanted)
        query = "annotations=duration,distance"
        if not (sources.tolist() == wanted == destinations.tolist()):
            query += "&sources=" + ";".join(str(position[i]) for i in sources.tolist())
            query += "&destinations=" + ";".join(str(position[i]) for i in destinations.tolist())
        url = f"{self.url.rstrip('/')}/table/v1/{OSRM_PROFILES[mode]}/{path}?{query}"
        answer = self._fetch(urllib.request.Request(url, headers={"Accept": "application/json"}), "osrm")
        if not isinstance(answer, dict) or answer.get("code") != "Ok":
            code = answer.get("code") if isinstance(answer, dict) else None
            raise EngineError(f"osrm answered code {str(code)[:40]}")
        shape = (len(sources), len(destinations))
        return _grid(answer.get("durations"), shape, "osrm"), _grid(answer.get("distances"), shape, "osrm")


@dataclass(frozen=True)
class ValhallaEngine(_Http):
    """Valhalla's ``POST /sources_to_targets``; its distances (km by default) become metres."""

    name: ClassVar[str] = "valhalla"
    dedupes: ClassVar[bool] = False

    def block(
        self, coords: np.ndarray, sources: np.ndarray, destinations: np.ndarray, mode: str
    ) -> tuple[np.ndarray, np.ndarray]:
        def places(indices: np.ndarray) -> list[dict[str, float]]:
            return [{"lat": float(coords[i, 0]), "lon": float(coords[i, 1])} for i in indices.tolist()]

        body = {"sources": places(sources), "targets": places(destinations),
                "costing": VALHALLA_COSTINGS[mode], "units": "kilometers"}
        request = urllib.request.Request(
            f"{self.url.rstrip('/')}/sources_to_targets", data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        answer = self._fetch(request, "valhalla")
        cells = answer.get("sources_to_targets") if isinstance(answer, dict) else None
        shape = (len(sources), len(destinations))
        if isinstance(cells, dict):  # verbose=false: {"durations": [[...]], "distances": [[...]]}
            seconds, distances = cells.get("durations"), cells.get("distances")
        elif isinstance(cells, list) and all(isinstance(row, list) for row in cells):
            seconds = [[_number(c, "time") for c in row] for row in cells]
            distances = [[_number(c, "distance") for c in row] for row in cells]
        else:
            raise EngineError("valhalla answered without sources_to_targets")
        per_unit = _METRES_PER_UNIT.get(str(answer.get("units", "kilometers")).lower())
        if per_unit is None:
            raise EngineError("valhalla answered in unknown units")
        return _grid(seconds, shape, "valhalla"), _grid(distances, shape, "valhalla") * per_unit


def _number(cell: Any, key: str) -> Any:
    return cell.get(key) if isinstance(cell, dict) else None


def _grid(rows: Any, shape: tuple[int, int], engine: str) -> np.ndarray:
    """A table from JSON as floats, ``null`` as NaN; the wrong shape is an :class:`EngineError`."""
    try:
        grid = np.array(rows, dtype=float)  # None becomes NaN
    except (TypeError, ValueError):
        raise EngineError(f"{engine} answered a malformed table") from None
    if grid.shape != shape:
        raise EngineError(f"{engine} answered a {grid.shape} table for {shape}")
    grid[grid < 0] = np.nan
    return grid


def engine_blocks(
    sources: np.ndarray, destinations: np.ndarray, max_locations: int, *, dedupes: bool
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Cut ``sources × destinations`` into blocks of at most ``max_locations`` locations.

    Parameters
    ----------
    sources, destinations
        Index arrays.
    max_locations
        Locations one request may hold, sources plus destinations.
    dedupes
        Whether a location both source and destination counts once (OSRM):
        then a square table of up to ``max_locations`` points is one request.

    Yields
    ------
    (numpy.ndarray, numpy.ndarray)
        The sources and destinations of each block, covering every pair once.
    """
    n_src, n_dst = len(sources), len(destinations)
    if n_src == 0 or n_dst == 0:
        return
    same = dedupes and n_src == n_dst and bool(np.array_equal(sources, destinations))
    if (same and n_src <= max_locations) or n_src + n_dst <= max_locations:
        yield sources, destinations
        return
    half = max_locations // 2
    if n_src <= half:
        rows, cols = n_src, max_locations - n_src
    elif n_dst <= half:
        rows, cols = max_locations - n_dst, n_dst
    else:
        rows, cols = half, max_locations - half
    for r in range(0, n_src, rows):
        for c in range(0, n_dst, cols):
            yield sources[r:r + rows], destinations[c:c + cols]
