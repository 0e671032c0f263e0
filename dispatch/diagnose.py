"""Why a task is unassigned, in the dispatcher's words. Pure functions over a Problem.

The same checks decide which workers the model may even consider for a task
(:func:`candidate_workers`), so "no one can do this" and "the model never tried"
cannot disagree. Checks run in a fixed order and the first that rules out every
worker names the reason: kind, skills, district, time (window or shift),
capacity; a task that passes all of them was feasible alone and was dropped for
others (``not_worth_serving``). The time check serves the task alone, from the
worker's start to its end; breaks are not considered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from dispatch.plan import (
    CAPACITY,
    NO_WORKER_IN_DISTRICT,
    NO_WORKER_OF_KIND,
    NO_WORKER_WITH_SKILLS,
    NOT_WORTH_SERVING,
    SHIFT_TOO_SHORT,
    TIME_WINDOW_UNREACHABLE,
    Unassigned,
)
from dispatch.problem import Problem, Task, TaskStop, TimeWindow, Worker


@dataclass(frozen=True)
class _Timing:
    """Serving a task alone: ``ok``, or which rule failed (``window`` or ``shift``) and why."""

    ok: bool
    failed: str = ""
    why: str = ""


def candidate_workers(problem: Problem, task: Task) -> list[Worker]:
    """Workers who could serve ``task`` on an otherwise empty route.

    Parameters
    ----------
    problem
        The validated problem.
    task
        One of ``problem.tasks``.

    Returns
    -------
    list of Worker
        In ``problem.workers`` order; only the pinned worker is ever considered for a pinned task.
    """
    return _screen(problem, task)[1]


def diagnose(problem: Problem, task: Task) -> Unassigned:
    """The first rule that rules out every worker for ``task``, or ``not_worth_serving``.

    Parameters
    ----------
    problem
        The validated problem.
    task
        An unassigned task of ``problem``.

    Returns
    -------
    Unassigned
        ``reason`` from the spec's vocabulary and a plain-words ``detail``.
    """
    reason, _, detail = _screen(problem, task)
    return Unassigned(task.id, reason, detail)


def _screen(problem: Problem, task: Task) -> tuple[str, list[Worker], str]:
    kind = task.worker_kind
    pool = list(problem.workers)
    pin = ""
    if task.pinned_worker:
        pool = [w for w in pool if w.id == task.pinned_worker]
        pin = f"pinned to {task.pinned_worker}; "
    of_kind = [w for w in pool if w.kind == kind]
    if not of_kind:
        who = f"{task.pinned_worker} is a {pool[0].kind}" if pin and pool else f"there is no {kind}"
        return NO_WORKER_OF_KIND, [], f"a {task.kind} needs a {kind}; {who}"

    needs = ", ".join(sorted(task.skills))
    skilled = [w for w in of_kind if task.skills <= w.skills]
    in_district = [w for w in of_kind if task.district in w.districts]
    if not skilled or (in_district and not [w for w in skilled if w in in_district]):
        where = f" in {task.district}" if skilled else ""
        return NO_WORKER_WITH_SKILLS, [], f"{pin}needs {needs}; no {kind}{where} has it"
    eligible = [w for w in skilled if task.district in w.districts]
    if not eligible:
        extra = f" with {needs}" if needs else ""
        return NO_WORKER_IN_DISTRICT, [], f"{pin}in {task.district}; no {kind}{extra} works there"

    timings = {w.id: _serve_alone(problem, w, task) for w in eligible}
    on_time = [w for w in eligible if timings[w.id].ok]
    if not on_time:
        fails = [timings[w.id] for w in eligible]
        window_only = all(t.failed == "window" for t in fails)
        reason = TIME_WINDOW_UNREACHABLE if window_only else SHIFT_TOO_SHORT
        example = next(t for t in fails if t.failed == ("window" if window_only else "shift"))
        return reason, [], f"{pin}{example.why}"

    roomy = [w for w in on_time if _fits(w, task) and w.max_tasks != 0]
    if not roomy:
        fitting = [w for w in on_time if _fits(w, task)]
        if fitting:  # the load fits, but max_tasks is 0
            who = ", ".join(w.id for w in fitting[:3])
            return CAPACITY, [], f"{pin}{who} may take no tasks (max_tasks 0)"
        load = ", ".join(f"{k}={v}" for k, v in sorted(task.load.items()))
        best = max(on_time, key=lambda w: sum(w.capacity.values()))
        cap = ", ".join(f"{k}={v}" for k, v in sorted(best.capacity.items())) or "nothing"
        return (
            CAPACITY,
            [],
            f"{pin}needs {load}; the largest {kind} who can reach it ({best.id}) holds {cap}",
        )
    detail = (
        f"{pin}{', '.join(w.id for w in roomy[:3])}{' and others' if len(roomy) > 3 else ''} "
        f"could serve it alone, but it was left out for other tasks (priority {task.priority})"
    )
    return NOT_WORTH_SERVING, roomy, detail


def _fits(worker: Worker, task: Task) -> bool:
    """Does the task's load fit the worker's capacity? A dimension the worker lacks holds 0."""
    return all(v <= worker.capacity.get(k, 0) for k, v in task.load.items())


def _serve_alone(problem: Problem, worker: Worker, task: Task) -> _Timing:
    """Leave as early as allowed, serve the task's stops in order, reach ``end`` by shift end.

    Waiting before a pickup (or before leaving, for a parcel without pickup) is
    allowed, so ``max_ride`` only fails when the drive itself is too long.
    """
    m = problem.matrix_for(worker).durations
    idx = problem.location_index
    origin, t0 = idx[worker.origin], worker.earliest_departure
    last = task.visit or task.dropoff
    first = task.pickup or last
    arrive = t0 + int(m[origin, idx[first.location]])
    ride = int(m[idx[first.location], idx[last.location]]) if task.pickup else arrive - t0
    if task.max_ride_s is not None and ride > task.max_ride_s:
        return _Timing(
            False,
            "window",
            (
                f"the ride from {first.location if task.pickup else worker.origin} "
                f"to {last.location} takes {_mins(ride)}, over max_ride {_mins(task.max_ride_s)}"
            ),
        )
    if task.pickup is None:
        start = _earliest_start(last.windows, arrive, worker.shift)
    else:
        start = _earliest_pair(task, worker, arrive, ride)
    if start is None and task.pickup is not None:
        pickup = _earliest_start(first.windows, arrive, worker.shift)
        if pickup is not None:  # the pickup is reachable, the drop-off is not
            at = pickup + first.duration_s + ride
            if task.max_ride_s is not None and last.windows and at <= last.windows[-1].end:
                return _Timing(
                    False,
                    "window",
                    (
                        f"between its pickup and drop-off windows the parcel would ride longer "
                        f"than max_ride {_mins(task.max_ride_s)}"
                    ),
                )
            return _window_miss(worker, last, at, "dropoff")
    if start is None:
        return _window_miss(worker, first, arrive, task.stops[0][0])
    back = (
        start + last.duration_s + (int(m[idx[last.location], idx[worker.end]]) if worker.end else 0)
    )
    if back > worker.shift.end:
        return _Timing(
            False,
            "shift",
            (
                f"{worker.id}'s shift ends at {_clock(worker.shift.end, worker)}, but serving it "
                f"{'and getting back ' if worker.end else ''}takes until {_clock(back, worker)}"
            ),
        )
    return _Timing(True)


def _earliest_start(windows: tuple[TimeWindow, ...], arrive: int, shift: TimeWindow) -> int | None:
    """First time at or after ``arrive`` inside a window (the shift when there are none)."""
    for w in windows or (shift,):
        if arrive <= w.end:
            s = max(arrive, w.start)
            return s if s <= shift.end else None
    return None


def _earliest_pair(task: Task, worker: Worker, arrive: int, travel: int) -> int | None:
    """Earliest drop-off start over all pickup/drop-off window pairs, honouring ``max_ride``."""
    p, d = task.pickup, task.dropoff
    best = None
    for wp in p.windows or (worker.shift,):
        pickup = max(arrive, wp.start)
        if pickup > min(wp.end, worker.shift.end):
            continue
        for wd in d.windows or (worker.shift,):
            drop = max(wd.start, pickup + p.duration_s + travel)
            if drop > min(wd.end, worker.shift.end):
                continue
            # The pickup may wait until max_ride is met, but not past its window.
            if task.max_ride_s is None or drop - task.max_ride_s - p.duration_s <= wp.end:
                best = drop if best is None else min(best, drop)
                break
    return best


def _window_miss(worker: Worker, stop: TaskStop, arrive: int, typ: str) -> _Timing:
    if not stop.windows:
        return _Timing(
            False,
            "shift",
            (
                f"{worker.id} cannot reach {stop.location} before the shift ends at "
                f"{_clock(worker.shift.end, worker)}"
            ),
        )
    spans = ", ".join(f"{_clock(w.start, worker)}-{_clock(w.end, worker)}" for w in stop.windows)
    return _Timing(
        False,
        "window",
        (
            f"the {_LABEL.get(typ, typ)} window ({spans}) cannot be met: the earliest "
            f"{worker.kind} ({worker.id}) arrives at {_clock(arrive, worker)} and the shift is "
            f"{_clock(worker.shift.start, worker)}-{_clock(worker.shift.end, worker)}"
        ),
    )


_LABEL = {"dropoff": "drop-off"}


def _clock(t: int, worker: Worker) -> str:
    tz = timezone(timedelta(seconds=worker.utc_offset_s))
    return datetime.fromtimestamp(t, tz).strftime("%H:%M")


def _mins(seconds: int) -> str:
    return f"{round(seconds / 60)} min"
