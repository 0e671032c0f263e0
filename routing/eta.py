"""Predicted arrival times along the rest of a worker's route.

The same travel model as the plan (:func:`routing.matrix.geodesic_table`), so
an ETA shown to a patient agrees with the schedule the optimiser built; when
the worker's reported position drifts from the plan, ETAs follow the position.

Each stop: arrive after travelling from the previous point; if its window has
not opened, wait; then stay ``duration_s``. The prediction is the *arrival*
(the moment the worker reaches the door), not the start of service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from routing.matrix import DEFAULT_DETOUR_FACTOR, geodesic_table

if TYPE_CHECKING:
    from routing.travel import Travel

__all__ = ["EtaStop", "estimate_arrivals"]


class EtaStop(TypedDict):
    """A remaining stop, as :func:`estimate_arrivals` reads it."""

    lat: float
    lon: float
    duration_s: int
    window_start_s: NotRequired[int | None]


def estimate_arrivals(
    position: tuple[float, float],
    now_epoch_s: int,
    stops: Sequence[Mapping[str, Any]],
    mode: str = "car",
    *,
    detour_factor: float = DEFAULT_DETOUR_FACTOR,
    handover_s: int = 0,
    travel: Travel | None = None,
) -> list[int]:
    """Predict when the worker reaches each remaining stop.

    Parameters
    ----------
    position
        The worker's last known ``(lat, lon)``, WGS-84 degrees, at ``now_epoch_s``.
    now_epoch_s
        Current time, seconds since the Unix epoch.
    stops
        Remaining stops in route order, each an :class:`EtaStop`: ``lat``,
        ``lon`` (degrees), ``duration_s`` (service time, s) and optionally
        ``window_start_s`` (epoch s; arriving earlier means waiting until then).
    mode, detour_factor, handover_s
        Travel model, as for :func:`routing.matrix.geodesic_table`.
    travel
        The deployment's travel times (:class:`routing.travel.Travel`: a road engine
        and its cache, or geodesic with the deployment's detour and handover), so an
        ETA agrees with the plan; when given, ``detour_factor`` and ``handover_s`` are
        its own and the arguments are ignored.

    Returns
    -------
    list of int
        Arrival time at each stop, epoch seconds, in the order of ``stops``.

    Raises
    ------
    ValueError
        If a stop lacks ``lat``, ``lon`` or ``duration_s``, has a negative
        ``duration_s``, or as for :func:`routing.matrix.geodesic_table`.
    """
    if not stops:
        return []
    points = [position]
    for i, stop in enumerate(stops):
        missing = [key for key in ("lat", "lon", "duration_s") if stop.get(key) is None]
        if missing:
            raise ValueError(f"stops[{i}] lacks {', '.join(missing)}")
        if stop["duration_s"] < 0:
            raise ValueError(f"stops[{i}].duration_s must not be negative")
        points.append((stop["lat"], stop["lon"]))
    if travel is not None:
        durations = travel.arrays(points, mode)[0].tolist()
    else:
        durations, _ = geodesic_table(points, mode, detour_factor=detour_factor, handover_s=handover_s)

    arrivals = []
    clock = int(now_epoch_s)
    for i, stop in enumerate(stops):
        clock += durations[i][i + 1]
        arrivals.append(clock)
        window_start = stop.get("window_start_s")
        if window_start is not None:
            clock = max(clock, int(window_start))
        clock += int(stop["duration_s"])
    return arrivals
