"""Solomon and Gehring-Homberger VRPTW instances through the optimiser, against best-knowns.

    python -m bench.solomon [--set solomon|homberger200] [--time-limit 10] [INSTANCE ...]

Each instance becomes a problem document in the DIMACS convention that the
best-known distances in ``bks.json`` use: every arc's length is its Euclidean
distance truncated to one decimal, and travel time equals that length. The
matrix holds tenths as whole "seconds" (lengths x 10, truncated), windows and
service times are scaled the same way, so the plan's travel time / 10 is the
DIMACS distance of its routes, comparable to ``bks.json`` with no rounding gap.

Prints per instance: vehicles used (fleet), customers served, distance, gap to
the best-known distance, breaches found by the plan checker, and seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
SETS = ("solomon", "homberger200")
BASE = datetime(2026, 1, 5, tzinfo=timezone.utc)
SCALE = 10
"""Tenths of a unit per "second": the DIMACS truncation to one decimal, kept exact."""


def read_instance(path: Path) -> tuple[int, int, list[dict[str, float]]]:
    """(fleet size, capacity, rows) of a Solomon-format file; row 0 is the depot."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    i = next(k for k, ln in enumerate(lines) if ln[0].upper() == "NUMBER")
    fleet, capacity = int(lines[i + 1][0]), int(lines[i + 1][1])
    keys = ("no", "x", "y", "demand", "ready", "due", "service")
    rows = [
        dict(zip(keys, map(float, ln[:7]), strict=True))
        for ln in lines[i + 2 :]
        if ln[0].isdigit() and len(ln) >= 7
    ]
    return fleet, capacity, rows


def dimacs_matrix(rows: list[dict[str, float]]) -> list[list[int]]:
    """Euclidean lengths in tenths, truncated (floor(10 * d), as DIMACS 2021 counts them)."""
    return [
        [int(math.floor(SCALE * math.hypot(a["x"] - b["x"], a["y"] - b["y"]) + 1e-9)) for b in rows]
        for a in rows
    ]


def to_problem(path: Path) -> dict[str, Any]:
    """A dispatch problem: the depot is every courier's start and end, customers are parcels."""
    fleet, capacity, rows = read_instance(path)
    depot = rows[0]

    def at(t: float) -> str:
        return (BASE + timedelta(seconds=round(t * SCALE))).isoformat()

    matrix = dimacs_matrix(rows)
    shift = [at(depot["ready"]), at(depot["due"])]
    return {
        "version": 1,
        "locations": [
            {"id": f"n{int(r['no'])}", "lat": r["y"] / 1000, "lon": r["x"] / 1000} for r in rows
        ],
        "matrix": {"durations": matrix, "distances": matrix},
        "workers": [
            {
                "id": f"v{k}",
                "kind": "courier",
                "skills": [],
                "districts": ["all"],
                "start": "n0",
                "end": "n0",
                "shift": shift,
                "capacity": {"parcels": capacity},
            }
            for k in range(fleet)
        ],
        "tasks": [
            {
                "id": f"c{int(r['no'])}",
                "kind": "delivery",
                "district": "all",
                "priority": 100,
                "load": {"parcels": int(r["demand"])},
                "dropoff": {
                    "location": f"n{int(r['no'])}",
                    "duration": round(r["service"] * SCALE),
                    "windows": [[at(r["ready"]), at(r["due"])]],
                },
            }
            for r in rows[1:]
        ],
    }


def run_instance(path: Path, bks: dict[str, Any], time_limit: float, seed: int) -> dict[str, Any]:
    """Solve one instance and measure it the DIMACS way."""
    from tests.dispatch.check_plan import check
    from dispatch.search import solve_document

    problem = to_problem(path)
    began = time.monotonic()
    plan = solve_document(problem, time_limit_s=time_limit, seed=seed)
    seconds = time.monotonic() - began
    breaches, _ = check(problem, plan)
    distance = plan["summary"]["travel_time"] / SCALE
    best = bks[path.stem]["distance"]
    return {
        "instance": path.stem,
        "vehicles": len(plan["routes"]),
        "fleet": len(problem["workers"]),
        "served": plan["summary"]["assigned"],
        "customers": len(problem["tasks"]),
        "distance": distance,
        "bks": best,
        "gap_pct": 100 * (distance - best) / best,
        "breaches": len(breaches),
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", help="names, e.g. C101 R105 (default: all)")
    parser.add_argument("--set", dest="which", choices=SETS, default="solomon")
    parser.add_argument("--time-limit", type=float, default=None, help="s (default 10; 30 for 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON line per instance")
    args = parser.parse_args(argv)
    folder = DATA / args.which
    bks = json.loads((folder / "bks.json").read_text())
    names = args.instances or sorted(bks)
    limit = args.time_limit or (10.0 if args.which == "solomon" else 30.0)
    print(
        f"{args.which}: {len(names)} instances, {limit:g} s each, seed {args.seed}", file=sys.stderr
    )
    header = f"{'instance':<9} {'veh':>7} {'served':>8} {'distance':>9} {'bks':>8} {'gap %':>6} "
    print(header + f"{'breach':>6} {'s':>5}")
    rows = []
    for k, name in enumerate(names, 1):
        print(f"[{k}/{len(names)}] {name} ...", file=sys.stderr, flush=True)
        r = run_instance(folder / f"{name}.txt", bks, limit, args.seed)
        rows.append(r)
        if args.json:
            print(json.dumps(r), flush=True)
            continue
        print(
            f"{r['instance']:<9} {r['vehicles']:>3}/{r['fleet']:<3} "
            f"{r['served']:>4}/{r['customers']:<3} {r['distance']:>9.1f} {r['bks']:>8.1f} "
            f"{r['gap_pct']:>6.2f} {r['breaches']:>6} {r['seconds']:>5.1f}",
            flush=True,
        )
    gaps = [r["gap_pct"] for r in rows]
    complete = sum(r["served"] == r["customers"] for r in rows)
    print(
        f"mean gap {sum(gaps) / len(gaps):.2f} %, max gap {max(gaps):.2f} %, "
        f"all served on {complete}/{len(rows)}, breaches {sum(r['breaches'] for r in rows)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
