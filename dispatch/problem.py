"""The dispatch problem, format v1: frozen data, validated once by :func:`parse_problem`.

Conventions (``../shared/specs/dispatch-problem.md``): times become whole epoch
seconds (UTC) here, durations are seconds, distances metres, ids strings. Each
worker keeps the UTC offset of its shift start so a plan is rendered in the
worker's own local time. Nothing here imports the rest of Doorstep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("nurse", "courier")
TASK_KINDS = {"visit": "nurse", "delivery": "courier"}  # task kind -> worker kind
TRAVEL_MODES = {"nurse": "car", "courier": "ebike"}  # for the geodesic fallback


class InvalidProblem(ValueError):
    """A problem document that does not follow format v1.

    Attributes
    ----------
    errors
        Every fault found, each ``{"path": "$.tasks[3].windows[0]", "message": ...}``.
    """

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        first = errors[0] if errors else {"path": "$", "message": "invalid"}
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first['path']}: {first['message']}{more}")


@dataclass(frozen=True)
class TimeWindow:
    """``[start, end]``, both inclusive, epoch seconds."""

    start: int
    end: int


@dataclass(frozen=True)
class Location:
    id: str
    lat: float
    lon: float


@dataclass(frozen=True, eq=False)
class Matrix:
    """Square travel table in the order of ``Problem.locations`` (read-only int64 arrays).

    ``durations[i, j]`` is seconds and ``distances[i, j]`` metres from location i to j.
    """

    durations: np.ndarray
    distances: np.ndarray

    @classmethod
    def from_lists(cls, durations: Any, distances: Any) -> Matrix:
        """From square lists of lists of ints (already checked), as read-only int64 arrays."""
        n = len(durations)
        dur = np.array(durations, dtype=np.int64).reshape(n, n)
        dist = np.array(distances, dtype=np.int64).reshape(n, n)
        dur.flags.writeable = False
        dist.flags.writeable = False
        return cls(dur, dist)


@dataclass(frozen=True)
class Break:
    id: str
    window: TimeWindow
    duration_s: int


@dataclass(frozen=True)
class EnRoute:
    """Re-planning during the day: the worker is at ``location`` at ``time`` (epoch s)."""

    location: str
    time: int


@dataclass(frozen=True)
class Worker:
    """A nurse or a courier for one shift. ``end`` is None when the route ends at its last task."""

    id: str
    kind: str
    skills: frozenset[str]
    districts: frozenset[str]
    start: str
    end: str | None
    shift: TimeWindow
    utc_offset_s: int
    capacity: Mapping[str, int] = field(default_factory=dict)
    breaks: tuple[Break, ...] = ()
    max_tasks: int | None = None
    en_route: EnRoute | None = None

    @property
    def origin(self) -> str:
        """Where the route starts: the en-route position when re-planning, else ``start``."""
        return self.en_route.location if self.en_route else self.start

    @property
    def earliest_departure(self) -> int:
        """Epoch seconds: the en-route time when re-planning, else the shift start."""
        return self.en_route.time if self.en_route else self.shift.start

    def may_serve(self, task: Task) -> bool:
        """Kind, skills, district and pin allow it; time and load are judged elsewhere."""
        return (
            self.kind == task.worker_kind
            and task.skills <= self.skills
            and task.district in self.districts
            and task.pinned_worker in (None, self.id)
        )


@dataclass(frozen=True)
class TaskStop:
    """One place a task is served: a visit's address, a pickup or a drop-off.

    ``windows`` is empty when service may start any time within the shift.
    """

    location: str
    duration_s: int
    windows: tuple[TimeWindow, ...] = ()


@dataclass(frozen=True)
class Task:
    """A visit (``visit`` set) or a delivery (``dropoff`` set, ``pickup`` optional)."""

    id: str
    kind: str
    district: str
    skills: frozenset[str] = frozenset()
    priority: int = 0
    preferred_workers: tuple[str, ...] = ()
    pinned_worker: str | None = None
    visit: TaskStop | None = None
    pickup: TaskStop | None = None
    dropoff: TaskStop | None = None
    load: Mapping[str, int] = field(default_factory=dict)
    max_ride_s: int | None = None

    @property
    def worker_kind(self) -> str:
        return TASK_KINDS[self.kind]

    @property
    def stops(self) -> list[tuple[str, TaskStop]]:
        """``(type, stop)`` in service order: ``visit``, or ``pickup`` then ``dropoff``."""
        if self.visit is not None:
            return [("visit", self.visit)]
        return ([("pickup", self.pickup)] if self.pickup else []) + [("dropoff", self.dropoff)]


@dataclass(frozen=True, eq=False)
class Problem:
    """A validated, immutable problem. Build it with :func:`parse_problem`."""

    locations: tuple[Location, ...]
    workers: tuple[Worker, ...]
    tasks: tuple[Task, ...]
    matrices: Mapping[str, Matrix]  # per worker kind, always present for kinds in use
    time_limit_s: float | None = None
    seed: int | None = None
    location_index: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Any) -> Problem:
        """Same as :func:`parse_problem`."""
        return parse_problem(doc)

    def matrix_for(self, worker: Worker) -> Matrix:
        return self.matrices[worker.kind]

    def worker(self, worker_id: str) -> Worker:
        return next(w for w in self.workers if w.id == worker_id)


def parse_problem(doc: Any) -> Problem:
    """Validate a format-v1 document and build the :class:`Problem`.

    Every fault is collected before raising, so the caller sees them all at once.
    When neither ``matrix`` nor ``matrices`` covers a worker kind, the geodesic
    table from ``routing.matrix.geodesic_table`` is used (``car`` for nurses,
    ``ebike`` for couriers).

    Parameters
    ----------
    doc
        The decoded JSON document; anything is accepted and checked.

    Returns
    -------
    Problem
        Times as epoch seconds, durations in seconds, matrices as int64 arrays.

    Raises
    ------
    InvalidProblem
        With one ``{"path", "message"}`` per fault: unknown keys or ids, duplicate
        ids, wrong types, unparsable times or times without a UTC offset, windows
        that end before they start, matrices of the wrong size, negative numbers,
        a bad ``kind``, a ``priority`` outside 0-100, a ``version`` other than 1.
    """
    from dispatch.validation import Reader  # here, not at the top: it builds these dataclasses

    r = Reader()
    d = r.obj(
        doc, "$", {"version", "locations", "workers", "tasks"}, {"matrix", "matrices", "options"}
    )
    if d is None:
        raise InvalidProblem(r.errors)
    if "version" in d and (d["version"] != 1 or isinstance(d["version"], bool)):
        r.err("$.version", f"unsupported version {d['version']!r}; this optimiser reads version 1")
    locations = r.locations(d.get("locations"))
    # Ids from the raw lists, so that one bad worker does not make every pin to it "unknown".
    loc_ids, worker_ids = r.ids(d.get("locations")), r.ids(d.get("workers"))
    workers = r.workers(d.get("workers"), loc_ids)
    tasks = r.tasks(d.get("tasks"), loc_ids, worker_ids)
    time_limit, seed = r.options(d.get("options"))
    n_locations = len(d["locations"]) if isinstance(d.get("locations"), list) else len(locations)
    given = r.matrices(d, n_locations)
    if r.errors:
        raise InvalidProblem(r.errors)
    matrices = _complete_matrices(given, locations, {w.kind for w in workers})
    return Problem(
        tuple(locations),
        tuple(workers),
        tuple(tasks),
        matrices,
        time_limit,
        seed,
        {loc.id: i for i, loc in enumerate(locations)},
    )


def _complete_matrices(
    given: dict[str, Matrix | None], locations: list[Location], kinds: set[str]
) -> dict[str, Matrix]:
    """Per-kind matrices: ``matrices[kind]``, else ``matrix``, else the geodesic table."""
    out = {}
    for kind in sorted(kinds):
        m = given.get(kind) or given.get("*")
        if m is None:
            m = _geodesic(locations, TRAVEL_MODES[kind])
        out[kind] = m
    return out


def _geodesic(locations: list[Location], mode: str) -> Matrix:
    try:
        from routing.matrix import geodesic_table  # lazily: the optimiser runs without it
    except ImportError as e:
        raise InvalidProblem(
            [
                {
                    "path": "$.matrix",
                    "message": (f"no matrix given and the geodesic fallback is unavailable ({e})"),
                }
            ]
        ) from None
    try:
        durations, distances = geodesic_table([(loc.lat, loc.lon) for loc in locations], mode)
    except ValueError as e:
        raise InvalidProblem([{"path": "$.locations", "message": str(e)}]) from None
    return Matrix.from_lists(durations, distances)
