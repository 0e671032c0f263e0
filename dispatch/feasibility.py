"""Does a plan keep every hard rule of its problem? The project's own plan checker (pure).

:func:`breaches` reads a plan document (or a :class:`~dispatch.plan.Plan`) against a
validated :class:`~dispatch.problem.Problem`, replaying each route with the
problem's own matrices, and lists every breach with the JSON path in the plan at
fault. It is written from the contract (``docs/dispatch-problem.md``), apart from
the timing code in :mod:`dispatch.plan`, so that one can catch the other. Times are
compared exactly, in whole seconds.

The rules, each a breach when broken:

* the plan: ``status`` is ``solved``; each task is served on one route (all its
  stops, each once) or listed once in ``unassigned`` with a known ``reason`` and a
  ``detail``; routes name known workers, one route each;
* a route: begins with a ``start`` at the worker's origin (``en_route.location``
  when re-planning) leaving no earlier than the shift start (or ``en_route.time``);
  ends with an ``end`` stop at ``end`` when the worker has one, and none otherwise;
  finishes by the shift end; reports ``travel_time``, ``distance``,
  ``service_time`` and ``waiting_time`` that add up;
* a task stop: the task's kind suits the worker's kind; the worker has its skills
  and its district; a pinned task is on its pinned worker's route; the stop is at
  the task's location; arrival is the previous departure plus the matrix's travel;
  service starts no earlier than arrival, inside one of the stop's windows (the
  shift when there are none), and lasts the stop's duration;
* deliveries: a pickup comes before its drop-off on the same route; every name in
  ``load`` stays within ``capacity`` all along the route, counting parcels without
  pickup as loaded at the start; ``max_ride`` holds from the end of pickup (or the
  departure) to the start of drop-off;
* breaks: each taken exactly once on a route with tasks, where the worker is
  (after the previous stop, before travelling on), starting inside its window and
  lasting its duration;
* ``max_tasks``: at most that many tasks on the route.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch.plan import REASONS, Plan
from dispatch.problem import Problem, Task, TaskStop, Worker


@dataclass(frozen=True)
class Breach:
    """One broken rule: ``path`` into the plan document (``$.routes[0].stops[3].start``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def breaches(problem: Problem, plan: Plan | dict[str, Any]) -> list[Breach]:
    """Every hard rule of ``problem`` that ``plan`` breaks.

    Parameters
    ----------
    problem
        The validated problem the plan answers.
    plan
        A :class:`~dispatch.plan.Plan` or a plan document (format v1, times as ISO 8601).

    Returns
    -------
    list of Breach
        Empty when the plan is feasible. Malformed plans give breaches, never exceptions.
    """
    doc = plan.to_json() if isinstance(plan, Plan) else plan
    out: list[Breach] = []
    if not isinstance(doc, dict):
        return [Breach("$", "a plan is an object")]
    if doc.get("status") != "solved":
        out.append(Breach("$.status", f"expected 'solved', got {doc.get('status')!r}"))
    tasks = {t.id: t for t in problem.tasks}
    workers = {w.id: w for w in problem.workers}
    served: dict[str, str] = {}  # task id -> path of the route serving it
    routes = doc.get("routes")
    if not isinstance(routes, list):
        out.append(Breach("$.routes", "must be a list"))
        routes = []
    on_route: set[str] = set()
    for i, route in enumerate(routes):
        path = f"$.routes[{i}]"
        wid = route.get("worker") if isinstance(route, dict) else None
        worker = workers.get(wid) if isinstance(wid, str) else None
        if worker is None:
            out.append(Breach(f"{path}.worker", f"unknown worker {wid!r}"))
            continue
        if wid in on_route:
            out.append(Breach(f"{path}.worker", f"{wid} has a second route"))
        on_route.add(wid)
        _Route(problem, worker, tasks, path, out).check(route, served)
    _check_unassigned(doc.get("unassigned"), tasks, served, out)
    return out


def _check_unassigned(
    listed: Any, tasks: dict[str, Task], served: dict[str, str], out: list[Breach]
) -> None:
    if not isinstance(listed, list):
        out.append(Breach("$.unassigned", "must be a list"))
        listed = []
    seen: set[str] = set()
    for i, u in enumerate(listed):
        path = f"$.unassigned[{i}]"
        tid = u.get("task") if isinstance(u, dict) else None
        if tid not in tasks:
            out.append(Breach(f"{path}.task", f"unknown task {tid!r}"))
            continue
        if tid in served:
            out.append(Breach(f"{path}.task", f"{tid} is also served on {served[tid]}"))
        if tid in seen:
            out.append(Breach(f"{path}.task", f"{tid} is listed twice"))
        seen.add(tid)
        if u.get("reason") not in REASONS:
            out.append(Breach(f"{path}.reason", f"unknown reason {u.get('reason')!r}"))
        if not isinstance(u.get("detail"), str) or not u["detail"]:
            out.append(Breach(f"{path}.detail", "a dispatcher needs a detail"))
    missing = [t for t in tasks if t not in served and t not in seen]
    for tid in missing:
        out.append(Breach("$", f"task {tid} is neither on a route nor unassigned"))


class _Route:
    """Replays one route stop by stop, keeping the clock, the place and the load."""

    def __init__(
        self,
        problem: Problem,
        worker: Worker,
        tasks: dict[str, Task],
        path: str,
        out: list[Breach],
    ) -> None:
        self.problem, self.worker, self.tasks, self.path, self.out = (
            problem,
            worker,
            tasks,
            path,
            out,
        )
        matrix = problem.matrix_for(worker)
        self.dur, self.dist = matrix.durations, matrix.distances
        self.idx = problem.location_index

    def breach(self, path: str, message: str) -> None:
        self.out.append(Breach(path, f"{self.worker.id}: {message}"))

    def time(self, stop: dict[str, Any], key: str, path: str) -> int | None:
        value = stop.get(key)
        try:
            t = datetime.fromisoformat(value)
            if t.utcoffset() is None:
                raise ValueError
        except (TypeError, ValueError):
            self.breach(f"{path}.{key}", f"needs a time with a UTC offset, got {value!r}")
            return None
        return int(t.timestamp())

    def check(self, route: dict[str, Any], served: dict[str, str]) -> None:
        w, path = self.worker, self.path
        stops = route.get("stops")
        if not isinstance(stops, list) or not stops or not isinstance(stops[0], dict):
            self.breach(f"{path}.stops", "a route needs stops, beginning with a start")
            return
        if not all(isinstance(s, dict) for s in stops):
            self.breach(f"{path}.stops", "every stop is an object")
            return
        first = stops[0]
        if first.get("type") != "start" or first.get("location") != w.origin:
            self.breach(f"{path}.stops[0]", f"must be a start at {w.origin}")
        t = self.time(first, "departure", f"{path}.stops[0]")
        if t is None:
            return
        if t < w.earliest_departure:
            self.breach(f"{path}.stops[0].departure", "leaves before the shift (or en-route time)")
        here = self.idx[w.origin]
        route_tasks = {s.get("task") for s in stops if s.get("task") in self.tasks}
        departed = t
        load: dict[str, int] = {}
        for tid in route_tasks:  # parcels without pickup leave loaded
            task = self.tasks[tid]
            if task.kind == "delivery" and task.pickup is None:
                for k, v in task.load.items():
                    load[k] = load.get(k, 0) + v
        self.check_load(load, f"{path}.stops[0]", "leaving the start")
        picked: dict[str, int] = {
            tid: departed
            for tid in route_tasks
            if self.tasks[tid].kind == "delivery" and self.tasks[tid].pickup is None
        }
        done: set[tuple[str, str]] = set()
        breaks_taken: set[str] = set()
        travel = distance = service = waiting = 0
        ended = False
        for k, stop in enumerate(stops[1:], start=1):
            sp = f"{path}.stops[{k}]"
            typ = stop.get("type")
            if ended:
                self.breach(sp, "comes after the end stop")
            if typ == "break":
                t = self.check_break(stop, sp, t, breaks_taken)
                continue
            if typ == "end":
                ended = True
                if w.end is None:
                    self.breach(sp, "has an end stop but the worker has no end")
                    continue
                j = self.idx[w.end]
                travel += int(self.dur[here, j])
                distance += int(self.dist[here, j])
                t += int(self.dur[here, j])
                here = j
                if stop.get("location") != w.end:
                    self.breach(f"{sp}.location", f"must be {w.end}")
                arrival = self.time(stop, "arrival", sp)
                if arrival is not None and arrival != t:
                    self.breach(f"{sp}.arrival", f"reported {arrival}, travel gives {t}")
                continue
            if typ not in ("visit", "pickup", "dropoff"):
                self.breach(f"{sp}.type", f"unknown stop type {typ!r}")
                continue
            tid = stop.get("task")
            task = self.tasks.get(tid) if isinstance(tid, str) else None
            if task is None:
                self.breach(f"{sp}.task", f"unknown task {tid!r}")
                continue
            part = self.check_task(task, typ, sp, served, done)
            if part is None:
                continue
            j = self.idx[part.location]
            travel += int(self.dur[here, j])
            distance += int(self.dist[here, j])
            arrive = t + int(self.dur[here, j])
            here = j
            if stop.get("location") != part.location:
                self.breach(f"{sp}.location", f"must be {part.location}")
            arrival, start, end = (self.time(stop, key, sp) for key in ("arrival", "start", "end"))
            if arrival is None or start is None or end is None:
                return
            if arrival != arrive:
                self.breach(f"{sp}.arrival", f"reported {arrival}, travel gives {arrive}")
            if start < arrive:
                self.breach(f"{sp}.start", f"service starts {arrive - start} s before arrival")
            if not any(win.start <= start <= win.end for win in part.windows or (w.shift,)):
                self.breach(f"{sp}.start", f"{tid} {typ} starts outside its windows")
            if end != start + part.duration_s:
                self.breach(f"{sp}.end", f"service must last {part.duration_s} s")
            service += part.duration_s
            waiting += max(0, start - arrive)
            t = max(start + part.duration_s, arrive)
            if typ == "pickup":
                picked[tid] = start + part.duration_s
                for name, v in task.load.items():
                    load[name] = load.get(name, 0) + v
                self.check_load(load, sp, f"after picking up {tid}")
            elif typ == "dropoff":
                if tid not in picked:
                    self.breach(sp, f"{tid} is dropped off before it is picked up")
                elif task.max_ride_s is not None and start - picked[tid] > task.max_ride_s:
                    self.breach(
                        f"{sp}.start",
                        f"{tid} rode {start - picked[tid]} s, over max_ride {task.max_ride_s}",
                    )
                for name, v in task.load.items():
                    load[name] = load.get(name, 0) - v
        self.check_end(ended, t, route, (travel, distance, service, waiting))
        self.check_route_tasks(route_tasks, done, breaks_taken)

    def check_task(
        self,
        task: Task,
        typ: str,
        sp: str,
        served: dict[str, str],
        done: set[tuple[str, str]],
    ) -> TaskStop | None:
        w = self.worker
        if task.worker_kind != w.kind:
            self.breach(f"{sp}.task", f"a {w.kind} cannot do {task.kind} {task.id}")
        if not task.skills <= w.skills:
            missing = ", ".join(sorted(task.skills - w.skills))
            self.breach(f"{sp}.task", f"lacks {missing} for {task.id}")
        if task.district not in w.districts:
            self.breach(f"{sp}.task", f"does not work in {task.district} ({task.id})")
        if task.pinned_worker and task.pinned_worker != w.id:
            self.breach(f"{sp}.task", f"{task.id} is pinned to {task.pinned_worker}")
        if (task.id, typ) in done:
            self.breach(sp, f"{task.id} {typ} appears twice")
        done.add((task.id, typ))
        if served.setdefault(task.id, self.path) != self.path:
            self.breach(f"{sp}.task", f"{task.id} is also on {served[task.id]}")
        part = dict(task.stops).get(typ)
        if part is None:
            self.breach(f"{sp}.type", f"{task.id} has no {typ}")
        return part

    def check_break(self, stop: dict[str, Any], sp: str, t: int, taken: set[str]) -> int:
        b = next((b for b in self.worker.breaks if b.id == stop.get("break")), None)
        if b is None:
            self.breach(f"{sp}.break", f"unknown break {stop.get('break')!r}")
            return t
        if b.id in taken:
            self.breach(f"{sp}.break", f"break {b.id} is taken twice")
        taken.add(b.id)
        start, end = self.time(stop, "start", sp), self.time(stop, "end", sp)
        if start is None or end is None:
            return t
        if start < t:
            self.breach(f"{sp}.start", f"break {b.id} starts before the previous stop ends")
        if not b.window.start <= start <= b.window.end:
            self.breach(f"{sp}.start", f"break {b.id} starts outside its window")
        if end != start + b.duration_s:
            self.breach(f"{sp}.end", f"break {b.id} must last {b.duration_s} s")
        return max(t, start + b.duration_s)

    def check_load(self, load: dict[str, int], sp: str, when: str) -> None:
        for name, amount in sorted(load.items()):
            cap = self.worker.capacity.get(name, 0)
            if amount > cap:
                self.breach(sp, f"carries {name}={amount} {when}, over capacity {cap}")

    def check_end(
        self, ended: bool, t: int, route: dict[str, Any], totals: tuple[int, int, int, int]
    ) -> None:
        w, path = self.worker, self.path
        if w.end is not None and not ended:
            self.breach(f"{path}.stops", f"must end with an end stop at {w.end}")
        if t > w.shift.end:
            self.breach(f"{path}.stops", f"finishes {t - w.shift.end} s after the shift ends")
        names = ("travel_time", "distance", "service_time", "waiting_time")
        for name, value in zip(names, totals, strict=True):
            if route.get(name) != value:
                self.breach(f"{path}.{name}", f"reported {route.get(name)!r}, stops give {value}")

    def check_route_tasks(
        self, route_tasks: set[str], done: set[tuple[str, str]], breaks_taken: set[str]
    ) -> None:
        w, path = self.worker, self.path
        for tid in sorted(route_tasks):
            for typ, _ in self.tasks[tid].stops:
                if (tid, typ) not in done:
                    self.breach(f"{path}.stops", f"{tid} has no {typ} on this route")
        if w.max_tasks is not None and len(route_tasks) > w.max_tasks:
            self.breach(f"{path}.stops", f"{len(route_tasks)} tasks, over max_tasks {w.max_tasks}")
        missing = sorted({b.id for b in w.breaks} - breaks_taken)
        if route_tasks and missing:
            self.breach(f"{path}.stops", f"breaks not taken: {', '.join(missing)}")
