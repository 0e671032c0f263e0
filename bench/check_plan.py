#!/usr/bin/env python3
# Copied unchanged from ../shared/tools/check_plan.py (the independent plan checker) so the suite needs nothing outside the repo.
"""Independent checker for a dispatch plan against its problem (format v1).

    check_plan.py PROBLEM.json PLAN.json [--quiet]

Needs the problem's explicit `matrix`. Prints a JSON summary on the last line;
exits 1 when the plan breaks a hard rule (each breach is printed), 2 on unusable
input. Standard library only, so it runs anywhere.
"""
import json
import sys
from datetime import datetime

TOL = 1  # seconds of slack for rounding in reported times


def ts(s):
    return int(datetime.fromisoformat(s).timestamp())


def windows_of(obj, shift):
    ws = obj.get("windows") or [shift]
    return [(ts(a), ts(b)) for a, b in ws]


def check(problem, plan):
    errs = []
    loc_index = {loc["id"]: i for i, loc in enumerate(problem["locations"])}
    mats = problem.get("matrices") or {}
    workers = {w["id"]: w for w in problem["workers"]}
    tasks = {t["id"]: t for t in problem["tasks"]}
    seen = {}
    totals = {"assigned": 0, "assigned_priority": 0, "travel_time": 0, "distance": 0}

    routes = plan.get("routes") or []
    used_workers = set()
    for r in routes:
        wid = r.get("worker")
        w = workers.get(wid)
        if w is None:
            errs.append(f"route for unknown worker {wid!r}")
            continue
        if wid in used_workers:
            errs.append(f"worker {wid} has two routes")
        used_workers.add(wid)
        m = mats.get(w["kind"]) or problem["matrix"]
        errs += check_route(w, r, tasks, loc_index, m["durations"], m.get("distances") or m["durations"],
                            seen, totals)

    for u in plan.get("unassigned") or []:
        tid = u.get("task")
        if tid not in tasks:
            errs.append(f"unassigned lists unknown task {tid!r}")
            continue
        if tid in seen:
            errs.append(f"task {tid} is both routed and unassigned")
        seen[tid] = "unassigned"
        if not u.get("reason"):
            errs.append(f"unassigned task {tid} has no reason")
    missing = [t for t in tasks if t not in seen]
    if missing:
        errs.append(f"{len(missing)} tasks neither routed nor unassigned, e.g. {missing[:5]}")
    totals["unassigned"] = sum(1 for v in seen.values() if v == "unassigned")
    totals["tasks"] = len(tasks)
    return errs, totals


def check_route(w, r, tasks, loc_index, dur, dist, seen, totals):
    errs = []
    wid = w["id"]
    shift = w["shift"]
    s0, s1 = ts(shift[0]), ts(shift[1])
    stops = r.get("stops") or []
    if not stops or stops[0].get("type") != "start":
        return [f"{wid}: route does not begin with a start stop"]
    en_route = w.get("en_route")
    start_loc = en_route["location"] if en_route else w["start"]
    earliest = ts(en_route["time"]) if en_route else s0
    if stops[0].get("location", start_loc) != start_loc:
        errs.append(f"{wid}: starts at {stops[0].get('location')} not {start_loc}")
    t = ts(stops[0]["departure"]) if stops[0].get("departure") else earliest
    if t < earliest - TOL:
        errs.append(f"{wid}: leaves before shift start / en-route time")
    here = loc_index[start_loc]
    cap = w.get("capacity") or {}
    load = {}
    picked = {}  # task id -> pickup end time
    dropped = set()
    n_tasks = set()
    breaks_taken = set()
    breaks = {b["id"]: b for b in w.get("breaks") or []}
    skills = set(w.get("skills") or [])
    districts = set(w.get("districts") or [])
    travel = distance = 0

    # parcels with no pickup are loaded at the start
    route_tasks = {s.get("task") for s in stops if s.get("task")}
    for tid in route_tasks:
        task = tasks.get(tid)
        if task and task["kind"] == "delivery" and not task.get("pickup"):
            for k, v in (task.get("load") or {}).items():
                load[k] = load.get(k, 0) + v
            picked[tid] = t
    for k, v in load.items():
        if v > cap.get(k, 0):
            errs.append(f"{wid}: start load {k}={v} over capacity {cap.get(k, 0)}")

    for s in stops[1:]:
        typ = s.get("type")
        if typ == "break":
            b = breaks.get(s.get("break"))
            if b is None:
                errs.append(f"{wid}: unknown break {s.get('break')}")
                continue
            bs, be = ts(s["start"]), ts(s["end"])
            lo, hi = ts(b["window"][0]), ts(b["window"][1])
            if bs < t - TOL or not (lo - TOL <= bs <= hi + TOL) or be - bs < b["duration"] - TOL:
                errs.append(f"{wid}: break {b['id']} misplaced")
            breaks_taken.add(b["id"])
            t = max(t, be)
            continue
        if typ == "end":
            end_loc = w.get("end")
            if end_loc is None:
                errs.append(f"{wid}: end stop but worker has no end")
                continue
            j = loc_index[end_loc]
            t += dur[here][j]
            travel += dur[here][j]
            distance += dist[here][j]
            here = j
            continue
        tid = s.get("task")
        task = tasks.get(tid)
        if task is None:
            errs.append(f"{wid}: unknown task {tid!r}")
            continue
        if typ not in ("visit", "pickup", "dropoff"):
            errs.append(f"{wid}: stop of unknown type {typ!r}")
            continue
        key = (tid, typ)
        if key in seen:
            errs.append(f"task {tid} ({typ}) appears twice")
        seen[key] = wid
        seen[tid] = wid
        n_tasks.add(tid)
        kind_ok = (task["kind"] == "visit" and w["kind"] == "nurse" and typ == "visit") or (
            task["kind"] == "delivery" and w["kind"] == "courier" and typ in ("pickup", "dropoff"))
        if not kind_ok:
            errs.append(f"{wid}: {w['kind']} given {task['kind']} {tid} as {typ}")
        if not set(task.get("skills") or []) <= skills:
            errs.append(f"{wid}: lacks skills {sorted(set(task['skills']) - skills)} for {tid}")
        if task.get("district") not in districts:
            errs.append(f"{wid}: {tid} in district {task.get('district')} outside {sorted(districts)}")
        if task.get("pinned_worker") and task["pinned_worker"] != wid:
            errs.append(f"{tid} pinned to {task['pinned_worker']} but routed to {wid}")
        part = task if typ == "visit" else task.get(typ)
        if part is None:
            errs.append(f"{wid}: {tid} has no {typ}")
            continue
        j = loc_index[part["location"]]
        arrive = t + dur[here][j]
        travel += dur[here][j]
        distance += dist[here][j]
        here = j
        start = ts(s["start"])
        if start < arrive - TOL:
            errs.append(f"{wid}: {tid} {typ} starts {arrive - start}s before arrival is possible")
        if not any(a - TOL <= start <= b + TOL for a, b in windows_of(part, shift)):
            errs.append(f"{wid}: {tid} {typ} starts outside its windows")
        end = start + part.get("duration", 0)
        if "end" in s and abs(ts(s["end"]) - end) > TOL:
            errs.append(f"{wid}: {tid} {typ} end inconsistent with duration")
        t = end
        if typ == "pickup":
            if tid in picked:
                errs.append(f"{wid}: {tid} picked up twice")
            picked[tid] = end
            for k, v in (task.get("load") or {}).items():
                load[k] = load.get(k, 0) + v
                if load[k] > cap.get(k, 0):
                    errs.append(f"{wid}: {k} load {load[k]} over capacity {cap.get(k, 0)} at {tid}")
        elif typ == "dropoff":
            if tid not in picked:
                errs.append(f"{wid}: {tid} dropped off before pickup")
            elif task.get("max_ride") is not None and start - picked[tid] > task["max_ride"] + TOL:
                errs.append(f"{wid}: {tid} rode {start - picked[tid]}s > max_ride {task['max_ride']}")
            dropped.add(tid)
            for k, v in (task.get("load") or {}).items():
                load[k] = load.get(k, 0) - v
        if typ in ("visit", "dropoff"):
            totals["assigned"] += 1
            totals["assigned_priority"] += task.get("priority", 0)

    if w.get("end") is not None and stops[-1].get("type") != "end":
        errs.append(f"{wid}: worker has an end location but the route has no end stop")
    for tid in route_tasks:
        task = tasks.get(tid)
        if task and task["kind"] == "delivery" and tid not in dropped:
            errs.append(f"{wid}: {tid} picked up but never dropped off")
    if t > s1 + TOL:
        errs.append(f"{wid}: finishes {t - s1}s after shift end")
    if w.get("max_tasks") is not None and len(n_tasks) > w["max_tasks"]:
        errs.append(f"{wid}: {len(n_tasks)} tasks > max_tasks {w['max_tasks']}")
    if n_tasks and set(breaks) - breaks_taken:
        errs.append(f"{wid}: breaks not taken: {sorted(set(breaks) - breaks_taken)}")
    totals["travel_time"] += travel
    totals["distance"] += distance
    return errs


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 2:
        print(__doc__)
        return 2
    try:
        problem = json.load(open(args[0]))
        plan = json.load(open(args[1]))
    except (OSError, ValueError) as e:
        print(f"unusable input: {e}")
        return 2
    if "matrix" not in problem and not problem.get("matrices"):
        print("the problem has no explicit matrix; cannot check times")
        return 2
    errs, totals = check(problem, plan)
    if "--quiet" not in argv:
        for e in errs[:50]:
            print("BREACH", e)
        if len(errs) > 50:
            print(f"... and {len(errs) - 50} more")
    totals["breaches"] = len(errs)
    print(json.dumps(totals))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
