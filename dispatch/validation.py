"""Reading a format-v1 document into :mod:`dispatch.problem` dataclasses, collecting errors.

Every fault becomes ``{"path": "$.tasks[3].windows[0]", "message": ...}``; nothing
here raises on malformed input. :func:`dispatch.problem.parse_problem` is the entry point.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from dispatch.problem import (
    KINDS,
    Break,
    EnRoute,
    Location,
    Matrix,
    Task,
    TaskStop,
    TimeWindow,
    Worker,
)

MAX_MATRIX_ERRORS = 10
MAX_SECONDS = 10**7  # durations and matrix entries (~115 days; ~10,000 km): keeps costs in int64
MAX_AMOUNT = 10**9  # capacities, loads, max_tasks, seed
# Times are kept where any UTC offset can render them, with room for a stop's duration after.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _type(v: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }.get(type(v), type(v).__name__)


def _key(path: str, k: Any) -> str:
    k = str(k)
    return f"{path}.{k}" if k.isidentifier() else f"{path}[{k!r}]"


class Reader:
    """Reads one document, collecting ``{"path", "message"}`` errors instead of raising."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    @staticmethod
    def ids(items: Any) -> set[str]:
        """The string ids in a raw list, whatever else is wrong with its items."""
        items = items if isinstance(items, list) else []
        return {x["id"] for x in items if isinstance(x, dict) and isinstance(x.get("id"), str)}

    def err(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    # -- scalars -----------------------------------------------------------
    def obj(self, v: Any, path: str, required: set[str], optional: set[str]) -> dict | None:
        if not isinstance(v, dict):
            self.err(path, f"must be an object, got {_type(v)}")
            return None
        for k in v:
            if k not in required and k not in optional:
                self.err(_key(path, k), f"unknown key {str(k)!r}")
        for k in sorted(required):
            if v.get(k) is None:
                self.err(_key(path, k), f"missing required key {k!r}")
        return v

    def list_(self, v: Any, path: str) -> list:
        if not isinstance(v, list):
            self.err(path, f"must be a list, got {_type(v)}")
            return []
        return v

    def str_(self, v: Any, path: str) -> str | None:
        if not isinstance(v, str) or not v:
            self.err(path, f"must be a non-empty string, got {_type(v)}")
            return None
        return v

    def int_(self, v: Any, path: str, lo: int = 0, hi: int = MAX_AMOUNT) -> int | None:
        if not isinstance(v, int) or isinstance(v, bool):
            self.err(path, f"must be an integer, got {_type(v)}")
            return None
        if not lo <= v <= hi:
            self.err(path, f"must be between {lo} and {hi}, got {v}")
            return None
        return v

    def number(self, v: Any, path: str, lo: float, hi: float) -> float | None:
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            self.err(path, f"must be a number, got {_type(v)}")
            return None
        if not lo <= v <= hi:
            self.err(path, f"must be between {lo} and {hi}, got {v}")
            return None
        return float(v)

    def strings(self, v: Any, path: str) -> tuple[str, ...]:
        if v is None:
            return ()
        out = (self.str_(x, f"{path}[{i}]") for i, x in enumerate(self.list_(v, path)))
        return tuple(x for x in out if x is not None)

    def time(self, v: Any, path: str) -> tuple[int, int] | None:
        """``(epoch_s, utc_offset_s)`` of an ISO 8601 time with a UTC offset."""
        if not isinstance(v, str):
            self.err(path, f"must be an ISO 8601 time string, got {_type(v)}")
            return None
        try:
            t = datetime.fromisoformat(v)
        except ValueError:
            self.err(path, f"unparsable time {v!r}; expected e.g. 2026-11-23T08:00:00+08:00")
            return None
        if t.tzinfo is None or t.utcoffset() is None:
            self.err(path, f"time {v!r} has no UTC offset (add e.g. +08:00)")
            return None
        if not EARLIEST <= t < LATEST:
            self.err(path, f"time {v!r} is out of range (years 1970 to 8999)")
            return None
        return math.floor(t.timestamp()), int(t.utcoffset().total_seconds())

    def window(self, v: Any, path: str) -> TimeWindow | None:
        if not isinstance(v, list) or len(v) != 2:
            self.err(path, f"must be a [start, end] pair of times, got {_type(v)}")
            return None
        a, b = self.time(v[0], f"{path}[0]"), self.time(v[1], f"{path}[1]")
        if a is None or b is None:
            return None
        if b[0] < a[0]:
            self.err(path, "window ends before it starts")
            return None
        return TimeWindow(a[0], b[0])

    def windows(self, v: Any, path: str) -> tuple[TimeWindow, ...]:
        if v is None:  # absent or null: any time within the shift; [] means the same
            return ()
        ws = (self.window(w, f"{path}[{i}]") for i, w in enumerate(self.list_(v, path)))
        return tuple(sorted((w for w in ws if w is not None), key=lambda w: (w.start, w.end)))

    def amounts(self, v: Any, path: str) -> dict[str, int]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            self.err(path, f"must be an object of named amounts, got {_type(v)}")
            return {}
        out = {k: self.int_(x, _key(path, k)) for k, x in v.items()}
        return {k: x for k, x in out.items() if x is not None}

    def ref(self, v: Any, path: str, known: set[str], what: str) -> str | None:
        s = self.str_(v, path)
        if s is not None and s not in known:
            self.err(path, f"unknown {what} {s!r}")
        return s

    def unique(self, items: list[tuple[str | None, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for item_id, path in items:
            if item_id is None:
                continue
            if item_id in seen:
                self.err(f"{path}.id", f"duplicate {what} id {item_id!r} (also at {seen[item_id]})")
            else:
                seen[item_id] = path

    # -- sections ----------------------------------------------------------
    def locations(self, v: Any) -> list[Location]:
        out, ids = [], []
        for i, x in enumerate(self.list_(v, "$.locations") if v is not None else []):
            p = f"$.locations[{i}]"
            o = self.obj(x, p, {"id", "lat", "lon"}, set())
            if o is None:
                continue
            lid = self.str_(o.get("id"), f"{p}.id") if "id" in o else None
            lat = self.number(o.get("lat"), f"{p}.lat", -90, 90) if "lat" in o else None
            lon = self.number(o.get("lon"), f"{p}.lon", -180, 180) if "lon" in o else None
            ids.append((lid, p))
            if lid is not None and lat is not None and lon is not None:
                out.append(Location(lid, lat, lon))
        self.unique(ids, "location")
        return out

    def matrices(self, d: dict, n: int) -> dict[str, Matrix | None]:
        out: dict[str, Matrix | None] = {}
        if d.get("matrix") is not None:
            out["*"] = self.matrix(d["matrix"], "$.matrix", n)
        if d.get("matrices") is not None:
            ms = self.obj(d["matrices"], "$.matrices", set(), set(KINDS))
            for kind, m in (ms or {}).items():
                if kind in KINDS and m is not None:
                    out[kind] = self.matrix(m, f"$.matrices.{kind}", n)
        return out

    def matrix(self, v: Any, path: str, n: int) -> Matrix | None:
        o = self.obj(v, path, {"durations"}, {"distances"})
        if o is None:
            return None
        dur = self.table(o.get("durations"), f"{path}.durations", n)
        # Like the plan checker, a matrix without distances reports durations as distances.
        dist = self.table(o["distances"], f"{path}.distances", n) if o.get("distances") else dur
        return Matrix.from_lists(dur, dist) if dur is not None and dist is not None else None

    def table(self, v: Any, path: str, n: int) -> list | None:
        if v is None:
            return None
        if not isinstance(v, list) or len(v) != n:
            got = f"{len(v)} rows" if isinstance(v, list) else _type(v)
            self.err(path, f"must be a {n}x{n} list of lists (one row per location), got {got}")
            return None
        bad = 0
        for i, row in enumerate(v):
            if not isinstance(row, list) or len(row) != n:
                got = f"{len(row)} entries" if isinstance(row, list) else _type(row)
                self.err(f"{path}[{i}]", f"must have {n} entries (one per location), got {got}")
                bad += 1
                continue
            for j, x in enumerate(row):
                if type(x) is not int or not 0 <= x <= MAX_SECONDS:
                    bad += 1
                    if bad <= MAX_MATRIX_ERRORS:
                        self.err(
                            f"{path}[{i}][{j}]",
                            f"must be an integer from 0 to {MAX_SECONDS}, got {x!r}",
                        )
        if bad > MAX_MATRIX_ERRORS:
            self.err(path, f"{bad - MAX_MATRIX_ERRORS} more bad entries not listed")
        return None if bad else v

    def workers(self, v: Any, loc_ids: set[str]) -> list[Worker]:
        out, ids = [], []
        for i, x in enumerate(self.list_(v, "$.workers") if v is not None else []):
            p = f"$.workers[{i}]"
            o = self.obj(
                x,
                p,
                {"id", "kind", "districts", "start", "shift"},
                {"skills", "end", "capacity", "breaks", "max_tasks", "en_route"},
            )
            if o is None:
                continue
            n_errors = len(self.errors)
            wid = self.str_(o.get("id"), f"{p}.id") if "id" in o else None
            ids.append((wid, p))
            kind = o.get("kind")
            if "kind" in o and kind not in KINDS:
                self.err(f"{p}.kind", f"must be 'nurse' or 'courier', got {kind!r}")
            start = (
                self.ref(o.get("start"), f"{p}.start", loc_ids, "location")
                if "start" in o
                else None
            )
            end = (
                self.ref(o["end"], f"{p}.end", loc_ids, "location")
                if o.get("end") is not None
                else None
            )
            shift_raw = o.get("shift")
            shift = self.window(shift_raw, f"{p}.shift") if shift_raw is not None else None
            offset = self.time(shift_raw[0], f"{p}.shift[0]") if shift else None
            en_route = self.en_route(o.get("en_route"), f"{p}.en_route", loc_ids, shift)
            earliest = en_route.time if en_route else shift.start if shift else None
            breaks = self.breaks(o.get("breaks"), f"{p}.breaks", shift, earliest)
            max_tasks = (
                self.int_(o["max_tasks"], f"{p}.max_tasks")
                if o.get("max_tasks") is not None
                else None
            )
            worker = Worker(
                wid,
                kind,
                frozenset(self.strings(o.get("skills"), f"{p}.skills")),
                frozenset(self.strings(o.get("districts"), f"{p}.districts")),
                start,
                end,
                shift,
                offset[1] if offset else 0,
                self.amounts(o.get("capacity"), f"{p}.capacity"),
                breaks,
                max_tasks,
                en_route,
            )
            if len(self.errors) == n_errors:
                out.append(worker)
        self.unique(ids, "worker")
        return out

    def en_route(
        self, v: Any, path: str, loc_ids: set[str], shift: TimeWindow | None
    ) -> EnRoute | None:
        if v is None:
            return None
        o = self.obj(v, path, {"location", "time"}, set())
        if o is None or "location" not in o or "time" not in o:
            return None
        loc = self.ref(o["location"], f"{path}.location", loc_ids, "location")
        t = self.time(o["time"], f"{path}.time")
        if t and shift and not shift.start <= t[0] <= shift.end:
            self.err(f"{path}.time", "must fall within the shift")
        return EnRoute(loc, t[0]) if loc and t else None

    def breaks(
        self, v: Any, path: str, shift: TimeWindow | None, earliest: int | None
    ) -> tuple[Break, ...]:
        out, ids = [], []
        for i, x in enumerate(self.list_(v, path) if v is not None else []):
            p = f"{path}[{i}]"
            o = self.obj(x, p, {"id", "window", "duration"}, set())
            if o is None or any(o.get(k) is None for k in ("id", "window", "duration")):
                continue
            bid = self.str_(o["id"], f"{p}.id")
            ids.append((bid, p))
            w = self.window(o["window"], f"{p}.window")
            dur = self.int_(o["duration"], f"{p}.duration", hi=MAX_SECONDS)
            if w is None or dur is None or bid is None:
                continue
            if (
                shift
                and earliest is not None
                and max(w.start, earliest) > min(w.end, shift.end - dur)
            ):
                self.err(p, "cannot be taken within the shift: its window and duration do not fit")
            out.append(Break(bid, w, dur))
        self.unique(ids, "break")
        return tuple(out)

    def tasks(self, v: Any, loc_ids: set[str], worker_ids: set[str]) -> list[Task]:
        common = {"skills", "priority", "preferred_workers", "pinned_worker"}
        optional = {
            "visit": common | {"windows"},
            "delivery": common | {"pickup", "load", "max_ride"},
        }
        required = {"visit": {"location", "duration"}, "delivery": {"dropoff"}}
        out, ids = [], []
        for i, x in enumerate(self.list_(v, "$.tasks") if v is not None else []):
            p = f"$.tasks[{i}]"
            kind = x.get("kind") if isinstance(x, dict) else None
            if not isinstance(kind, str) or kind not in optional:
                o = self.obj(
                    x,
                    p,
                    {"id", "kind", "district"},
                    set().union(*optional.values(), *required.values()),
                )
                if o is not None and "kind" in o:
                    self.err(f"{p}.kind", f"must be 'visit' or 'delivery', got {kind!r}")
                continue
            o = self.obj(x, p, {"id", "kind", "district"} | required[kind], optional[kind])
            n_errors = len(self.errors)
            tid = self.str_(o.get("id"), f"{p}.id") if "id" in o else None
            ids.append((tid, p))
            district = self.str_(o.get("district"), f"{p}.district") if "district" in o else None
            priority = (
                self.int_(o["priority"], f"{p}.priority", 0, 100)
                if o.get("priority") is not None
                else 0
            )
            preferred = self.strings(o.get("preferred_workers"), f"{p}.preferred_workers")
            for j, wid in enumerate(preferred):
                if wid not in worker_ids:
                    self.err(f"{p}.preferred_workers[{j}]", f"unknown worker {wid!r}")
            pinned = (
                self.ref(o["pinned_worker"], f"{p}.pinned_worker", worker_ids, "worker")
                if o.get("pinned_worker") is not None
                else None
            )
            t = {
                "id": tid,
                "kind": kind,
                "district": district,
                "priority": priority,
                "pinned_worker": pinned,
                "preferred_workers": preferred,
                "skills": frozenset(self.strings(o.get("skills"), f"{p}.skills")),
            }
            if kind == "visit":
                t["visit"] = self.stop(o, p, loc_ids, root=True)
            else:
                t["dropoff"] = self.stop(o.get("dropoff"), f"{p}.dropoff", loc_ids)
                if o.get("pickup") is not None:
                    t["pickup"] = self.stop(o["pickup"], f"{p}.pickup", loc_ids)
                t["load"] = self.amounts(o.get("load"), f"{p}.load")
                if o.get("max_ride") is not None:
                    t["max_ride_s"] = self.int_(o["max_ride"], f"{p}.max_ride", hi=MAX_SECONDS)
            if len(self.errors) == n_errors:
                out.append(Task(**t))
        self.unique(ids, "task")
        return out

    def stop(self, v: Any, path: str, loc_ids: set[str], root: bool = False) -> TaskStop | None:
        o = v if root else self.obj(v, path, {"location", "duration"}, {"windows"})
        if o is None or o.get("location") is None or o.get("duration") is None:
            return None
        loc = self.ref(o["location"], f"{path}.location", loc_ids, "location")
        dur = self.int_(o["duration"], f"{path}.duration", hi=MAX_SECONDS)
        windows = self.windows(o.get("windows"), f"{path}.windows")
        return TaskStop(loc, dur, windows) if loc is not None and dur is not None else None

    def options(self, v: Any) -> tuple[float | None, int | None]:
        if v is None:
            return None, None
        # Open on purpose: "anything an engine needs" may go here.
        if not isinstance(v, dict):
            self.err("$.options", f"must be an object, got {_type(v)}")
            return None, None
        limit = (
            self.number(v["time_limit"], "$.options.time_limit", 0, 86400)
            if v.get("time_limit") is not None
            else None
        )
        seed = self.int_(v["seed"], "$.options.seed") if v.get("seed") is not None else None
        return limit, seed
