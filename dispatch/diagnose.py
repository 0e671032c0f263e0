"""Why a task is unassigned, in the dispatcher's words. Pure functions over a Problem.

Each rule is judged on the task *alone*: could one worker, serving only this task,
do it by the contract's rules? The same screen decides which workers the model may
even consider for a task (:func:`candidate_workers`), so "no one can do this" and
"the model never tried" cannot disagree.

The rules run in this order, and the first that leaves no worker names the reason:

1. ``no_worker_of_kind``: no nurse for a visit, no courier for a delivery (or the
   task is pinned to a worker of the other kind).
2. ``no_worker_with_skills``: nobody of the kind has every skill the task needs,
   or somebody covers the task's district but nobody there has them.
3. ``no_worker_in_district``: workers with the skills exist, but nobody of the
   kind covers the district at all. So a skilled nurse elsewhere does not turn a
   skills gap in the district into a district problem: the dispatcher's fix for
   "nobody in hexi has picc" is a picc nurse in hexi, and the detail names the
   skilled nurses who work elsewhere.
4. ``time_window_unreachable``: leaving as early as allowed, no worker can start
   any stop inside one of its windows within the shift, or a parcel would ride
   longer than ``max_ride`` even straight there.
5. ``shift_too_short``: a window is reachable, but the whole of the task, with the
   worker's breaks, and the way back to ``end`` does not fit in the shift (or a
   task without windows cannot be reached before the shift ends).
6. ``capacity``: the load does not fit any remaining worker's capacity (a
   dimension the worker lacks holds 0), or they may take no tasks (``max_tasks`` 0).
7. ``not_worth_serving``: some worker could serve it alone; it was left out for
   the other tasks.

A pinned task is judged against its pinned worker only. Times in details are in
the worker's own UTC offset (that of its shift), with the date when it is not the
day the shift starts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    serves_alone,
)
from dispatch.problem import Problem, Task, TaskStop, TimeWindow, Worker


@dataclass(frozen=True)
class _Timing:
    """Serving a task alone: ``ok``, or which rule failed (``window`` or ``shift``) and why.

    ``late`` orders failures of one rule (the smaller, the nearer to working):
    for a window, the earliest arrival; for the shift, the time the work would end.
    """

    ok: bool
    failed: str = ""
    why: str = ""
    late: int = 0


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
        ``reason`` from the spec's vocabulary (see the module docstring for the
        order) and a plain-words ``detail``.
    """
    reason, _, detail = _screen(problem, task)
    return Unassigned(task.id, reason, detail)


def _screen(problem: Problem, task: Task) -> tuple[str, list[Worker], str]:
    kind = task.worker_kind
    pool = list(problem.workers)
    pinned = task.pinned_worker
    if pinned:
        pool = [w for w in pool if w.id == pinned]
    of_kind = [w for w in pool if w.kind == kind]
    if not of_kind:
        who = f"{pinned} is a {pool[0].kind}" if pinned and pool else f"there is no {kind}"
        return NO_WORKER_OF_KIND, [], f"a {task.kind} needs a {kind}; {who}"

    needs = ", ".join(sorted(task.skills))
    skilled = [w for w in of_kind if task.skills <= w.skills]
    in_district = [w for w in of_kind if task.district in w.districts]
    eligible = [w for w in skilled if task.district in w.districts]
    if pinned:
        w = of_kind[0]
        if not skilled:
            missing = ", ".join(sorted(task.skills - w.skills))
            return NO_WORKER_WITH_SKILLS, [], f"pinned to {pinned}, who lacks {missing}"
        if not eligible:
            return (
                NO_WORKER_IN_DISTRICT,
                [],
                f"pinned to {pinned}, who does not work in {task.district}",
            )
    elif not skilled:
        also = "" if in_district else f" (and no {kind} works in {task.district})"
        return NO_WORKER_WITH_SKILLS, [], f"needs {needs}; no {kind} has it{also}"
    elif not eligible and in_district:
        elsewhere = _names(skilled)
        return (
            NO_WORKER_WITH_SKILLS,
            [],
            (
                f"needs {needs}; no {kind} in {task.district} has it "
                f"({elsewhere} {'has' if len(skilled) == 1 else 'have'} it but "
                f"{'works' if len(skilled) == 1 else 'work'} elsewhere)"
            ),
        )
    elif not eligible:
        return NO_WORKER_IN_DISTRICT, [], f"no {kind} works in {task.district}"

    pin = f"pinned to {pinned}; " if pinned else ""
    who = f"{pinned}" if pinned else _group(kind, needs, task.district)
    timings = {w.id: _serve_alone(problem, w, task) for w in eligible}
    on_time = [w for w in eligible if timings[w.id].ok]
    if not on_time:
        fails = [timings[w.id] for w in eligible]
        rule = "window" if all(t.failed == "window" for t in fails) else "shift"
        ruled = [t for t in fails if t.failed == rule]
        best = min(ruled, key=lambda t: t.late)
        reason = TIME_WINDOW_UNREACHABLE if rule == "window" else SHIFT_TOO_SHORT
        if rule == "window" and not best.why:
            return reason, [], f"{pin}{_window_detail(problem, eligible, task, who)}"
        more = (
            f"; no other {_group(kind, needs, task.district)} does better" if len(ruled) > 1 else ""
        )
        return reason, [], f"{pin}{best.why}{more}"

    roomy = [w for w in on_time if _fits(w, task) and w.max_tasks != 0]
    if not roomy:
        fitting = [w for w in on_time if _fits(w, task)]
        if fitting:  # the load fits, but max_tasks is 0
            return CAPACITY, [], f"{pin}{_names(fitting)} may take no tasks (max_tasks 0)"
        load = ", ".join(f"{k}={v}" for k, v in sorted(task.load.items()))
        best = max(on_time, key=lambda w: sum(w.capacity.values()))
        cap = ", ".join(f"{k}={v}" for k, v in sorted(best.capacity.items())) or "nothing"
        return (
            CAPACITY,
            [],
            f"{pin}needs {load}; the largest {kind} who can reach it ({best.id}) holds {cap}",
        )
    detail = (
        f"{pin}{_names(roomy)} could serve it alone, but it was left out for other tasks "
        f"(priority {task.priority})"
    )
    return NOT_WORTH_SERVING, roomy, detail


def _group(kind: str, needs: str, district: str) -> str:
    """``nurse with picc in heping``: the workers a task was screened against."""
    return f"{kind}{f' with {needs}' if needs else ''} in {district}"


def _names(workers: list[Worker]) -> str:
    names = ", ".join(w.id for w in workers[:3])
    return names + (" and others" if len(workers) > 3 else "")


def _fits(worker: Worker, task: Task) -> bool:
    """Does the task's load fit the worker's capacity? A dimension the worker lacks holds 0."""
    return all(v <= worker.capacity.get(k, 0) for k, v in task.load.items())


def _serve_alone(problem: Problem, worker: Worker, task: Task) -> _Timing:
    """Leave as early as allowed, serve the task's stops in order, reach ``end`` by shift end.

    Waiting before a pickup (or before leaving, for a parcel without pickup) is
    allowed, so ``max_ride`` only fails when the drive itself is too long. Windows
    and the ride are checked first, without breaks; then the exact timing of
    :func:`dispatch.plan.serves_alone` (breaks included) decides the shift rule.
    """
    m = problem.matrix_for(worker).durations
    idx = problem.location_index
    origin, t0 = idx[worker.origin], worker.earliest_departure
    last = task.visit or task.dropoff
    first = task.pickup or last
    arrive = t0 + int(m[origin, idx[first.location]])
    ride = int(m[idx[first.location], idx[last.location]]) if task.pickup else arrive - t0
    if task.max_ride_s is not None and ride > task.max_ride_s:
        source = first.location if task.pickup else f"the start ({worker.origin})"
        return _Timing(
            False,
            "window",
            (
                f"the ride from {source} to {last.location} takes {_mins(ride)}, "
                f"over max_ride {_mins(task.max_ride_s)}"
            ),
            ride,
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
                    at,
                )
            return _window_miss(worker, last, at)
    if start is None:
        return _window_miss(worker, first, arrive)
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
            back,
        )
    if not serves_alone(problem, worker, task):
        breaks = ", ".join(
            f"{b.id} ({_mins(b.duration_s)}, starting {_span(b.window, worker)})"
            for b in worker.breaks
        )
        # Would a longer day help? If not, the breaks stand in the way of the window itself.
        endless = replace(worker, shift=TimeWindow(worker.shift.start, _NEVER), end=None)
        if breaks and task.stops[-1][1].windows and not serves_alone(problem, endless, task):
            typ, stop = next(((t, s) for t, s in task.stops if s.windows), task.stops[-1])
            spans = ", ".join(_span(x, worker) for x in stop.windows)
            label = _LABEL[typ] + ("s" if len(stop.windows) > 1 else "")
            why = f"{label} {spans} cannot be met around {worker.id}'s {breaks}"
            return _Timing(False, "window", why, back)
        why = f"{worker.id} cannot fit it and {breaks} into the shift {_span(worker.shift, worker)}"
        if not breaks:
            why = f"{worker.id} cannot fit it into the shift {_span(worker.shift, worker)}"
        return _Timing(False, "shift", why, back)
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


def _window_miss(worker: Worker, stop: TaskStop, arrive: int) -> _Timing:
    if not stop.windows:
        return _Timing(
            False,
            "shift",
            (
                f"{worker.id} cannot reach {stop.location} before the shift ends at "
                f"{_clock(worker.shift.end, worker)}"
            ),
            arrive,
        )
    return _Timing(False, "window", "", arrive)


def _window_detail(problem: Problem, eligible: list[Worker], task: Task, who: str) -> str:
    """Which window is out of reach, and when the workers could be there instead."""
    # The stop that fails for the worker who arrives first (each worker's own arrival).
    m_idx = problem.location_index
    rows = []
    for w in eligible:
        m = problem.matrix_for(w).durations
        t = w.earliest_departure
        here = m_idx[w.origin]
        for typ, stop in task.stops:
            arrive = t + int(m[here, m_idx[stop.location]])
            s = _earliest_start(stop.windows, arrive, w.shift)
            if s is None:
                rows.append((arrive, w, typ, stop))
                break
            t, here = s + stop.duration_s, m_idx[stop.location]
    if not rows:  # only the pair of windows fails together (drop-off too late after pickup)
        w = eligible[0]
        rows = [(w.earliest_departure, w, *task.stops[-1])]
    arrive, w, typ, stop = min(rows, key=lambda r: r[0])
    label = _LABEL[typ]
    plural = len(stop.windows) > 1
    label += f"{'s' if plural else ''} {', '.join(_span(x, w) for x in stop.windows)}"
    latest_end = max(x.shift.end for _, x, _, _ in rows)
    alone = len(eligible) == 1
    if all(x.end < arrive for x in stop.windows):
        someone = w.id if alone else f"any {who}"
        first = "" if alone else f", {w.id}"
        verb = "close" if plural else "closes"
        return f"{label} {verb} before {someone} can arrive (earliest {_clock(arrive, w)}{first})"
    if all(x.start > latest_end for x in stop.windows):
        verb = "open" if plural else "opens"
        whose = f"{w.id}'s shift ends" if alone else f"every {who} has finished"
        return f"{label} {verb} after {whose} ({_clock(latest_end, w)})"
    return (
        f"{label} cannot be met by {w.id if alone else 'any ' + who}: the earliest arrival "
        f"is {_clock(arrive, w)} and the shift ends at {_clock(latest_end, w)}"
    )


_LABEL = {"visit": "window", "pickup": "pickup window", "dropoff": "drop-off window"}
_NEVER = 2**40  # epoch seconds far beyond any valid time: a shift without an end


def _clock(t: int, worker: Worker) -> str:
    """``HH:MM`` in the worker's offset; with the date when not the shift's first day."""
    tz = timezone(timedelta(seconds=worker.utc_offset_s))
    at = datetime.fromtimestamp(t, tz)
    day = datetime.fromtimestamp(worker.shift.start, tz).date()
    return at.strftime("%H:%M") if at.date() == day else at.strftime("%Y-%m-%d %H:%M")


def _span(w: TimeWindow, worker: Worker) -> str:
    return f"{_clock(w.start, worker)}–{_clock(w.end, worker)}"


def _mins(seconds: int) -> str:
    """``25 min``; ``4 h`` or ``2 h 30 min`` from two hours up."""
    m = round(seconds / 60)
    if m < 120:
        return f"{m} min"
    return f"{m // 60} h" + (f" {m % 60} min" if m % 60 else "")
