"""Travel matrices: how long and how far from every location to every other.

The default provider needs no road network. It takes the great-circle
distance, stretches it by a detour factor (streets are not straight lines;
1.3 is typical for a grid city such as central Tianjin) and divides by an
average door-to-door speed for the worker's mode of travel. A road engine
(OSRM, Valhalla, ...) can replace it later behind :class:`MatrixProvider`.

Conventions: points are ``(lat, lon)`` WGS-84 degrees; durations are whole
seconds and distances whole metres, rounded to nearest; ``table[i][j]`` is
from ``points[i]`` to ``points[j]``, the shape ``dispatch-problem.md`` expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from routing.geo import check_lat_lon, pairwise_haversine_m

__all__ = [
    "DEFAULT_DETOUR_FACTOR",
    "MODES",
    "SPEED_M_S",
    "GeodesicProvider",
    "MatrixProvider",
    "Table",
    "TravelMode",
    "geodesic_arrays",
    "geodesic_table",
    "lat_lon_array",
    "travel_mode",
    "travel_time_s",
]

Table = list[list[int]]

DEFAULT_DETOUR_FACTOR = 1.3

# Rows per block: bounds the float temporaries to a few MB whatever the size.
_BLOCK_ROWS = 256


@dataclass(frozen=True)
class TravelMode:
    """How a worker moves between stops.

    Attributes
    ----------
    name
        Identifier used in the API and in ``geodesic_table(mode=...)``.
    speed_m_s
        Average door-to-door speed over the detoured distance, m/s, including
        lights and junctions but not parking or handover.
    """

    name: str
    speed_m_s: float


MODES: dict[str, TravelMode] = {
    "walking": TravelMode("walking", 1.2),
    "ebike": TravelMode("ebike", 4.5),  # couriers
    "car": TravelMode("car", 7.0),  # nurses; about 25 km/h, urban average
}
"""Every known travel mode by name."""

SPEED_M_S: dict[str, float] = {name: mode.speed_m_s for name, mode in MODES.items()}
"""Speed per mode name, m/s."""


def travel_mode(name: str) -> TravelMode:
    """Look up a travel mode by name.

    Parameters
    ----------
    name
        One of the keys of :data:`MODES`.

    Returns
    -------
    TravelMode

    Raises
    ------
    ValueError
        If ``name`` is not a known mode; the message lists the known ones.
    """
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown travel mode {name!r}; expected one of: {', '.join(sorted(MODES))}"
        ) from None


def geodesic_table(
    points: Sequence[tuple[float, float]],
    mode: str = "car",
    *,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    handover_s: int = 0,
) -> tuple[Table, Table]:
    """Durations and distances between all pairs of points, without a road network.

    ``distance = haversine × detour_factor`` and
    ``duration = distance / speed(mode) + handover_s``, each rounded to the
    nearest integer. Vectorised: 3,000 points take about a second, most of it
    building the Python lists (:func:`geodesic_arrays` skips them).

    Parameters
    ----------
    points
        ``(lat, lon)`` pairs, WGS-84 degrees.
    mode
        A key of :data:`MODES`: ``"walking"``, ``"ebike"`` or ``"car"``.
    detour_factor
        Road distance over straight-line distance, at least 1.
    handover_s
        Seconds added to every trip between two *different* places (parking,
        finding the door, handing over). Not added on the diagonal, nor
        between two points at the same coordinates (same building: no re-parking).

    Returns
    -------
    durations_s : list of list of int
        Seconds; square, zero diagonal, symmetric.
    distances_m : list of list of int
        Metres; square, zero diagonal, symmetric.

    Raises
    ------
    ValueError
        If ``mode`` is unknown, ``detour_factor`` is below 1, ``handover_s`` is
        negative, or a point is not a valid ``(lat, lon)``.
    """
    durations, distances = geodesic_arrays(
        points, mode, detour_factor=detour_factor, handover_s=handover_s
    )
    return durations.tolist(), distances.tolist()


def geodesic_arrays(
    points: Sequence[tuple[float, float]],
    mode: str = "car",
    *,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    handover_s: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Durations and distances between all pairs of points, as int64 arrays.

    The same tables as :func:`geodesic_table` without building Python lists:
    what a caller that writes JSON from numpy or fills a cache wants.

    Parameters
    ----------
    points, mode, detour_factor, handover_s
        As for :func:`geodesic_table`.

    Returns
    -------
    durations_s : numpy.ndarray
        ``(n, n)`` int64 seconds; zero diagonal, symmetric.
    distances_m : numpy.ndarray
        ``(n, n)`` int64 metres; zero diagonal, symmetric.

    Raises
    ------
    ValueError
        As for :func:`geodesic_table`.
    """
    speed_m_s = travel_mode(mode).speed_m_s
    if not detour_factor >= 1.0:
        raise ValueError(f"detour_factor must be at least 1, got {detour_factor!r}")
    if handover_s < 0:
        raise ValueError(f"handover_s must not be negative, got {handover_s!r}")
    coords = _as_lat_lon_array(points)
    lats, lons = coords[:, 0], coords[:, 1]

    n = len(coords)
    distances = np.empty((n, n), dtype=np.int64)
    durations = np.empty((n, n), dtype=np.int64)
    for start in range(0, n, _BLOCK_ROWS):
        rows = slice(start, min(start + _BLOCK_ROWS, n))
        road_m = pairwise_haversine_m(lats[rows], lons[rows], lats, lons)
        road_m *= detour_factor
        distances[rows] = np.rint(road_m)
        seconds = road_m / speed_m_s
        if handover_s:
            seconds[road_m > 0] += handover_s
        durations[rows] = np.rint(seconds)
    np.fill_diagonal(distances, 0)
    np.fill_diagonal(durations, 0)
    return durations, distances


def lat_lon_array(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """``points`` as an ``(n, 2)`` float array of ``(lat, lon)``.

    Raises
    ------
    ValueError
        If the shape is not ``(n, 2)`` or a point is not a valid ``(lat, lon)``;
        the message names the first bad point.
    """
    return _as_lat_lon_array(points)


def _as_lat_lon_array(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """``points`` as an ``(n, 2)`` float array, validated in one vectorised pass."""
    coords = np.asarray(points, dtype=float)
    if coords.size == 0:
        return np.empty((0, 2))
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"points must be (lat, lon) pairs, got an array of shape {coords.shape}")
    ok = (np.abs(coords[:, 0]) <= 90.0) & (np.abs(coords[:, 1]) <= 180.0)  # NaN fails too
    if not ok.all():
        i = int(np.argmin(ok))
        check_lat_lon(float(coords[i, 0]), float(coords[i, 1]))  # raises with the values
    return coords


def travel_time_s(
    origin: tuple[float, float],
    destination: tuple[float, float],
    mode: str = "car",
    *,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    handover_s: int = 0,
) -> int:
    """One entry of :func:`geodesic_table`, for a single trip.

    Parameters
    ----------
    origin, destination
        ``(lat, lon)``, WGS-84 degrees.
    mode, detour_factor, handover_s
        As for :func:`geodesic_table`.

    Returns
    -------
    int
        Seconds, identical to ``geodesic_table([origin, destination], ...)[0][0][1]``.

    Raises
    ------
    ValueError
        As for :func:`geodesic_table`.
    """
    durations, _ = geodesic_table(
        [origin, destination], mode, detour_factor=detour_factor, handover_s=handover_s
    )
    return durations[0][1]


class MatrixProvider(Protocol):
    """Anything that can build travel tables: the geodesic model, a road engine."""

    def table(self, points: Sequence[tuple[float, float]], mode: str) -> tuple[Table, Table]:
        """Return ``(durations_s, distances_m)`` for ``points`` as in :func:`geodesic_table`."""
        ...


@dataclass(frozen=True)
class GeodesicProvider:
    """:func:`geodesic_table` with its tuning fixed, as a :class:`MatrixProvider`."""

    detour_factor: float = DEFAULT_DETOUR_FACTOR
    handover_s: int = 0

    def table(
        self, points: Sequence[tuple[float, float]], mode: str = "car"
    ) -> tuple[Table, Table]:
        """Return ``(durations_s, distances_m)``; see :func:`geodesic_table`."""
        return geodesic_table(
            points, mode, detour_factor=self.detour_factor, handover_s=self.handover_s
        )
