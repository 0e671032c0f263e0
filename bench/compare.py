"""Our optimiser side by side with VROOM and PyVRP on the same problems and time budget.

    python -m bench.compare PROBLEM [PROBLEM ...] [--time-limit 30] [--seed 1] [--threads 2]

A PROBLEM is a problem document (``city.json``), a Solomon-format instance file
(``bench/data/solomon/C101.txt``) or a generator:

* ``city:SIZE[:SEED]``: :func:`bench.city.make_city` (small, medium, large);
* ``testcity:N[:SEED]``: the test suite's two-district city with N tasks;
* ``solomon:NAME`` / ``homberger200:NAME``: an instance of ``bench/data``.

Each engine gets the same budget: ours through :func:`dispatch.search.solve_document`,
VROOM at exploration level 5 with ``--threads`` threads and a timeout, PyVRP with
``MaxRuntime`` and the seed (only where its model fits; see :mod:`bench.peers`).
Every plan goes through the independent checker, which also does the counting, so
all engines are measured by one ruler: tasks served, priority served, travel time
and breaches of hard rules (and how many tasks they name: served, but not by the
rules). Then ratios ours / theirs.

Progress goes to stderr, the tables to stdout; ``--json FILE`` also writes the
numbers. A benchmark prints; it never asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.dispatch.check_plan import check
from bench.peers import PeerRun, solve_pyvrp, solve_vroom

DATA = Path(__file__).resolve().parent / "data"
ENGINES = ("ours", "vroom", "pyvrp")
METRICS = ("served", "priority", "travel")
HEADER = (
    f"{'engine':<8}{'served':>8}{'priority':>10}{'travel_s':>10}{'breaches':>10}"
    f"{'(tasks)':>8}{'seconds':>9}"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.compare", description=__doc__.split("\n")[0]
    )
    parser.add_argument("problems", nargs="+", help="file.json, instance.txt or a generator")
    parser.add_argument("--time-limit", type=float, default=30.0, help="s per engine (30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2, help="VROOM's threads (2)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="ours,vroom,pyvrp")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--plans", type=Path, help="save each engine's plan in this folder")
    parser.add_argument(
        "--without-preferences",
        action="store_true",
        help="drop preferred_workers first: VROOM cannot model them, and honouring them "
        "trades travel for continuity of care, so travel is compared like for like",
    )
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    results = []
    for spec in args.problems:
        name, doc = load_problem(spec)
        if args.without_preferences:
            name += " (no preferences)"
            for task in doc["tasks"]:
                task.pop("preferred_workers", None)
        rows = compare(name, doc, engines, args.time_limit, args.seed, args.threads, args.plans)
        print(render(name, doc, args.time_limit, rows), flush=True)
        results.append({"problem": name, "time_limit": args.time_limit, "engines": rows})
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def load_problem(spec: str) -> tuple[str, dict[str, Any]]:
    """A name and a problem document (with explicit matrices) from a path or generator spec."""
    kind, _, rest = spec.partition(":")
    if kind == "city" and rest:
        from bench.city import make_city

        size, _, seed = rest.partition(":")
        return spec, make_city(size, seed=int(seed or 1))
    if kind == "testcity" and rest:
        from tests.dispatch.city import make_city as make_test_city

        n, _, seed = rest.partition(":")
        return spec, make_test_city(int(n), seed=int(seed or 7))
    if kind in ("solomon", "homberger200") and rest:
        return spec, _solomon(DATA / kind / f"{rest}.txt")
    path = Path(spec)
    if path.suffix.lower() == ".txt":
        return path.stem, _solomon(path)
    return path.stem, _with_matrices(json.loads(path.read_text()))


def _solomon(path: Path) -> dict[str, Any]:
    from bench.solomon import to_problem

    return to_problem(path)


def _with_matrices(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with the matrices our parser would compute, so the checker can time it."""
    if doc.get("matrix") or doc.get("matrices"):
        return doc
    from dispatch.problem import parse_problem

    problem = parse_problem(doc)
    doc = dict(doc)
    doc["matrices"] = {
        kind: {"durations": m.durations.tolist(), "distances": m.distances.tolist()}
        for kind, m in problem.matrices.items()
    }
    return doc


def compare(
    name: str,
    doc: dict[str, Any],
    engines: list[str],
    time_limit: float,
    seed: int,
    threads: int,
    plans_dir: Path | None,
) -> list[dict[str, Any]]:
    """Run each engine on ``doc`` and measure its plan with the checker."""
    runners: dict[str, Callable[[], PeerRun]] = {
        "ours": lambda: _ours(doc, time_limit, seed),
        "vroom": lambda: solve_vroom(doc, time_limit_s=time_limit, threads=threads),
        "pyvrp": lambda: solve_pyvrp(doc, time_limit_s=time_limit, seed=seed),
    }
    rows = []
    for engine in engines:
        _progress(f"{name}: {engine} solving ({time_limit:g} s budget)")
        run = runners[engine]()
        rows.append(measure(doc, run))
        _progress(f"{name}: {engine} done in {run.seconds:.1f} s {run.note}".rstrip())
        if plans_dir is not None and run.plan is not None:
            plans_dir.mkdir(parents=True, exist_ok=True)
            (plans_dir / f"{name.replace(':', '-')}.{engine}.json").write_text(json.dumps(run.plan))
    return rows


def _ours(doc: dict[str, Any], time_limit: float, seed: int) -> PeerRun:
    from dispatch.search import solve_document

    began = time.monotonic()
    plan = solve_document(doc, time_limit_s=time_limit, seed=seed)
    return PeerRun("ours", plan, time.monotonic() - began)


def measure(doc: dict[str, Any], run: PeerRun) -> dict[str, Any]:
    """The checker's counts for one engine's plan; only the note when there is no plan."""
    row: dict[str, Any] = {"engine": run.engine, "seconds": round(run.seconds, 1), "note": run.note}
    if run.plan is None:
        return row
    errors, totals = check(doc, run.plan)
    row.update(
        served=totals["assigned"],
        priority=totals["assigned_priority"],
        travel=totals["travel_time"],
        breaches=len(errors),
        tasks_in_breach=len(_tasks_named(doc, errors)),
        breach_examples=errors[:3],
    )
    return row


def _tasks_named(doc: dict[str, Any], errors: list[str]) -> set[str]:
    """Tasks a breach names (e.g. a parcel over its ride limit): served, but not by the rules."""
    ids = {t["id"] for t in doc["tasks"]}
    return {w for e in errors for w in e.replace(":", " ").split() if w in ids}


def render(name: str, doc: dict[str, Any], time_limit: float, rows: list[dict[str, Any]]) -> str:
    """One table per problem, then ours / theirs for each peer that produced a plan."""
    total_priority = sum(t.get("priority", 0) for t in doc["tasks"])
    title = (
        f"== {name}: {len(doc['tasks'])} tasks (priority {total_priority}), "
        f"{len(doc['workers'])} workers, {time_limit:g} s each =="
    )
    lines = [
        title,
        HEADER,
    ]
    for r in rows:
        if "served" not in r:
            lines.append(f"{r['engine']:<8}{r['note']}")
            continue
        lines.append(
            f"{r['engine']:<8}{r['served']:>8}{r['priority']:>10}{r['travel']:>10}"
            f"{r['breaches']:>10}{r['tasks_in_breach']:>8}{r['seconds']:>9.1f}"
            + (f"  {r['note']}" if r["note"] else "")
        )
        lines += [f"{'':<8}breach: {e}" for e in r["breach_examples"]]
    ours = next((r for r in rows if r["engine"] == "ours" and "served" in r), None)
    for theirs in rows:
        if ours is None or theirs is ours or "served" not in theirs:
            continue
        ratios = "  ".join(f"{k} {_ratio(ours[k], theirs[k])}" for k in METRICS)
        lines.append(f"ours/{theirs['engine']}: {ratios}")
    return "\n".join(lines) + "\n"


def _ratio(ours: int, theirs: int) -> str:
    return f"{ours / theirs:.3f}" if theirs else ("1.000" if ours == theirs else "inf")


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
