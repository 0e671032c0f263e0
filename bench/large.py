"""The large-city benchmark: a generated day solved within its limit, checked, measured.

    python -m bench.large                         # large (2,500 tasks) at 60 s, medium at 30 s
    python -m bench.large --size large --time-limit 60 --seed 1
    python -m bench.large --size medium --max-part-stops none   # components only

Each run is its own process, so that its peak memory is its own: the main
process's peak (generating the document, parsing it, solving), and the peak
of the whole process tree while solving, sampled from ``/proc`` every 0.2 s. Wall time is that of
:func:`dispatch.search.solve` alone, as a caller that already holds a problem
sees it. Breaches are counted by the independent plan checker
(``tests/dispatch/check_plan.py``). Timings depend on the machine and on what else it
runs; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

TARGETS = {"small": 10.0, "medium": 30.0, "large": 60.0}
"""Default time limit (s) per size: the issue's targets."""


def run_one(size: str, seed: int, limit: float, district_split: str, processes: int | None) -> dict:
    """Generate, parse, solve and check one day in this process; return the figures."""
    from tests.dispatch import check_plan
    from bench.city import make_city
    from dispatch import decompose, split
    from dispatch.problem import parse_problem
    from dispatch.search import solve

    began = time.monotonic()
    doc = make_city(size, seed=seed)
    generated = time.monotonic()
    problem = parse_problem(doc)
    parsed = time.monotonic()
    rss_before_mb = _rss_now_mb()
    if district_split not in ("default", "monolithic"):
        split.MAX_PART_STOPS = None if district_split == "none" else int(district_split)
    if processes is not None:
        decompose.processes_for = lambda *_: processes  # type: ignore[assignment]
    monolithic = district_split == "monolithic"
    sampler = _TreeRss()
    sampler.start()
    t = time.monotonic()
    plan = solve(problem, time_limit_s=limit, seed=seed, decompose=not monolithic)
    wall = time.monotonic() - t
    sampler.stop()
    out = plan.to_json()
    breaches, totals = check_plan.check(doc, out)
    priority_total = sum(task.get("priority", 0) for task in doc["tasks"])
    return {
        "size": size,
        "seed": seed,
        "tasks": len(problem.tasks),
        "workers": len(problem.workers),
        "locations": len(problem.locations),
        "limit_s": limit,
        "split": district_split,
        "parts": plan.stats.get("parts", 1),
        "processes": plan.stats.get("processes", 1),
        "wall_s": round(wall, 2),
        "generate_s": round(generated - began, 2),
        "parse_s": round(parsed - generated, 2),
        "assigned": totals["assigned"],
        "unassigned": totals["unassigned"],
        "priority_served": round(totals["assigned_priority"] / max(priority_total, 1), 4),
        "travel_h": round(totals["travel_time"] / 3600, 1),
        "objective": out["summary"]["objective"],
        "breaches": len(breaches),
        "breach_examples": breaches[:3],
        "reasons": dict(Counter(u["reason"] for u in out["unassigned"])),
        "rss_before_solve_mb": rss_before_mb,
        "peak_rss_mb": _maxrss_mb(resource.RUSAGE_SELF),
        "peak_rss_child_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        "peak_tree_mb": sampler.peak_mb,
    }


class _TreeRss(threading.Thread):
    """Samples the resident memory of this process and all its descendants, summed.

    ``ru_maxrss`` of the children is no help here: Linux carries a parent's peak
    over into a child that is forked and then execs (``spawn``), so it reports the
    parent's document-sized peak for every child.
    """

    def __init__(self, every_s: float = 0.2):
        super().__init__(daemon=True)
        self.every_s, self.peak_mb = every_s, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(os.getpid()))
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _tree_rss_mb(root: int) -> int:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    kib = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as f:
                kib += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return round(kib / 1024)


def _maxrss_mb(who: int) -> int:
    kib = resource.getrusage(who).ru_maxrss  # KiB on Linux
    return round(kib / 1024 / (1024 if platform.system() == "Darwin" else 1))


def _rss_now_mb() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024)
    except OSError:
        return None
    return None


COLUMNS = (
    ("size", "size"),
    ("tasks", "tasks"),
    ("workers", "workers"),
    ("split", "max stops"),
    ("parts", "parts"),
    ("processes", "procs"),
    ("limit_s", "limit s"),
    ("wall_s", "wall s"),
    ("assigned", "assigned"),
    ("unassigned", "unassigned"),
    ("priority_served", "priority served"),
    ("travel_h", "travel h"),
    ("breaches", "breaches"),
    ("peak_rss_mb", "peak MB (main)"),
    ("peak_tree_mb", "peak MB (tree, solving)"),
)


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as a plain-text table, one row per run."""
    cells = [[h for _, h in COLUMNS]]
    for r in rows:
        cells.append(
            [f"{r[k]:.1%}" if k == "priority_served" else str(r.get(k, "")) for k, _ in COLUMNS]
        )
    widths = [max(len(row[c]) for row in cells) for c in range(len(COLUMNS))]
    lines = ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.large", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", action="append", choices=sorted(TARGETS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, help="seconds; default 60 large, 30 medium")
    parser.add_argument(
        "--max-part-stops",
        dest="district_split",
        default="default",
        help="stops above which a part is cut by district and area; 'none' (components only), "
        "or 'monolithic' (one model)",
    )
    parser.add_argument("--processes", type=int, help="force this many processes (1: in turn)")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args(argv)
    sizes = args.size or ["large", "medium"]
    if args.one:
        limit = args.time_limit or TARGETS[sizes[0]]
        figures = run_one(sizes[0], args.seed, limit, args.district_split, args.processes)
        print(json.dumps(figures))
        return 0
    rows = []
    for size in sizes:
        cmd = [
            sys.executable,
            "-m",
            "bench.large",
            "--one",
            "--size",
            size,
            "--seed",
            str(args.seed),
        ]
        cmd += ["--max-part-stops", args.district_split]
        if args.time_limit:
            cmd += ["--time-limit", str(args.time_limit)]
        if args.processes:
            cmd += ["--processes", str(args.processes)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{size}: {json.dumps({k: row[k] for k in ('reasons', 'breach_examples', 'generate_s', 'parse_s', 'rss_before_solve_mb')})}",
            file=sys.stderr,
        )
    print(table(rows))
    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, "
        f"{_cores()} cores; command: python -m bench.large {' '.join(argv or sys.argv[1:])}"
    )
    return 0


def _cores() -> int:
    from dispatch.decompose import _cores as cores

    return cores()


if __name__ == "__main__":
    sys.exit(main())
