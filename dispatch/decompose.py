"""Large days solved in parts: split, solve apart (in parallel when there are cores), merge.

The parts come from :mod:`dispatch.split`: visits apart from deliveries,
districts apart where no worker spans them, and, for parts still too large to
plan well in the time, districts and areas apart. A part is solved by
:func:`dispatch.search.solve` on a sub-problem whose matrices are sliced to
its own places, and the plans are merged into one.

The parts run in child processes (``spawn``: nothing inherited from a web or
worker process; a script calling the solver needs the usual ``if __name__ ==
"__main__"`` guard) when there are two cores or more, the day is large enough
to pay for starting them, and this process may have children: a Celery prefork
worker's process is daemonic and may not. Otherwise, or if the children cannot
start, they run here one after the other. Either way the whole solve returns
within the time limit: each process shares its time among its parts in
proportion to their effort (:meth:`dispatch.split.Part.effort`), and a part that finishes early leaves its time to the
next.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from dispatch import split
from dispatch.diagnose import diagnose
from dispatch.plan import NOT_WORTH_SERVING, Plan, Unassigned
from dispatch.problem import Problem
from dispatch.split import split_problem, sub_problem

log = logging.getLogger("dispatch.decompose")

DECOMPOSE_MIN_TASKS = 50
"""Below this many tasks, one model. From 50 up, the exact cut (visits apart from
deliveries, districts no worker spans) pays even on small days: on the generated
100-task day at 10 s, one model served 97 tasks (priority 5,183, travel 41,829 s), its
parts 99 (priority 5,318, travel 38,075 s). (A part with nurses and couriers together
is slow to fill: insertion tries every task on every worker.)"""
PARALLEL_MIN_TASKS = 300
PARALLEL_MIN_SECONDS = 5.0
"""Child processes only for days this large and limits this long: each costs about a second."""
MARGIN_S, MARGIN_SHARE = 0.5, 0.04
"""Time kept back from the parts for reading and merging their plans."""
PART_SHARE = 0.8
"""A part is given this much of its share of the time left; the rest rolls on to the next."""
PROGRESS_EVERY_S = 0.5

Progress = Callable[[float, str], None]


def worth_decomposing(problem: Problem) -> bool:
    """Is the day large enough to be split? (Splitting a small day only changes its plan.)"""
    return len(problem.tasks) >= DECOMPOSE_MIN_TASKS


def solve_decomposed(
    problem: Problem,
    *,
    time_limit_s: float,
    seed: int,
    on_progress: Progress | None = None,
    processes: int | None = None,
) -> Plan:
    """Solve each part of ``problem`` on its own and merge the plans into one.

    Parameters
    ----------
    problem
        A validated problem.
    time_limit_s
        Wall seconds for the whole solve, splitting and merging included.
    seed
        Every part is solved with it; the plan is the same for a seed unless the
        time limit cuts a part's search short.
    on_progress
        ``on_progress(fraction, message)``, called from this process.
    processes
        How many child processes; default :func:`processes_for`. 1 solves the
        parts here, one after the other.

    Returns
    -------
    Plan
        Routes in ``problem.workers`` order, unassigned tasks in ``problem.tasks``
        order, the parts' objectives summed and ``solve_seconds`` the wall time.
    """
    began = time.monotonic()
    parts, orphans = split_problem(problem, max_part_stops=split.MAX_PART_STOPS)
    if len(parts) == 1 and not orphans:  # nothing to split: one model, all the time
        from dispatch.search import solve  # here: dispatch.search calls into this module

        left = time_limit_s - (time.monotonic() - began)
        return solve(problem, time_limit_s=left, seed=seed, on_progress=on_progress, decompose=False)
    n = processes if processes is not None else processes_for(problem, len(parts), time_limit_s)
    deadline = began + time_limit_s - MARGIN_S - MARGIN_SHARE * time_limit_s
    sizes = [p.effort(problem) for p in parts]
    bins = _pack(sizes, max(1, min(n, len(parts))))
    log.info(
        "decomposed tasks=%d parts=%d processes=%d orphans=%d sizes=%s",
        len(problem.tasks),
        len(parts),
        len(bins),
        len(orphans),
        ",".join(str(p.size(problem)) for p in parts),
    )
    subs = [sub_problem(problem, p) for p in parts]
    jobs = [([subs[k] for k in b], [sizes[k] for k in b]) for b in bins]
    plans_by_bin = None
    if len(bins) > 1:
        try:
            plans_by_bin = _in_processes(jobs, deadline, seed, on_progress, began, time_limit_s)
        except (BrokenProcessPool, OSError) as e:  # e.g. no main-module guard, no /dev/shm
            log.warning("child processes failed (%s); solving the parts here", e)
            bins = [list(range(len(parts)))]
    if plans_by_bin is None:
        plans_by_bin = [_solve_in_turn(subs, sizes, deadline, seed, on_progress)]
    plans = [None] * len(parts)
    for b, bin_plans in zip(bins, plans_by_bin, strict=True):
        for k, plan in zip(b, bin_plans, strict=True):
            plans[k] = plan
    merged = _merge(problem, plans, orphans, time.monotonic() - began)
    merged.stats.update(parts=len(parts), processes=len(bins))
    if on_progress is not None:
        s = merged.summary()
        on_progress(1.0, f"done: {s['assigned']} assigned, {s['unassigned']} unassigned")
    return merged


def processes_for(problem: Problem, n_parts: int, time_limit_s: float) -> int:
    """Child processes worth starting: one per core and part, or 1 (none) when they do not pay.

    None in a daemonic process (a Celery prefork worker's child), which may not
    have children of its own.
    """
    if multiprocessing.current_process().daemon:
        return 1
    if len(problem.tasks) < PARALLEL_MIN_TASKS or time_limit_s < PARALLEL_MIN_SECONDS:
        return 1
    return max(1, min(_cores(), n_parts))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _pack(sizes: Sequence[float], n_bins: int) -> list[list[int]]:
    """Parts into ``n_bins`` of about equal total size: largest first, into the lightest bin."""
    bins: list[list[int]] = [[] for _ in range(n_bins)]
    loads = [0.0] * n_bins
    for k in sorted(range(len(sizes)), key=lambda k: (-sizes[k], k)):
        b = min(range(n_bins), key=lambda b: (loads[b], b))
        bins[b].append(k)
        loads[b] += sizes[k]
    return [sorted(b) for b in bins if b]


def _solve_in_turn(
    subs: list[Problem],
    sizes: list[float],
    deadline: float,
    seed: int,
    on_progress: Progress | None = None,
) -> list[Plan]:
    """Solve parts one after the other, each given its share of the time left.

    A part that finishes early (small parts stop once their step budgets are
    spent) leaves its time to the parts after it. ``deadline`` is monotonic
    seconds, the same clock in every process on one machine.
    """
    from dispatch.search import solve  # here: dispatch.search calls into this module

    plans = []
    total = sum(sizes) or 1
    done = 0
    for sub, size in zip(subs, sizes, strict=True):
        left = sum(sizes) - done
        share = size / max(left, 1e-9)
        if share < 1:  # parts overrun a little (reading the plan); keep some for the last
            share *= PART_SHARE
        seconds = max(0.1, (deadline - time.monotonic()) * share)
        report = None
        if on_progress is not None:
            base = done / total

            def report(f: float, message: str, base: float = base, share: float = size / total):
                on_progress(min(0.99, base + share * f), message)

        plans.append(
            solve(sub, time_limit_s=seconds, seed=seed, on_progress=report, decompose=False)
        )
        done += size
    return plans


def _in_processes(
    jobs: list[tuple[list[Problem], list[float]]],
    deadline: float,
    seed: int,
    on_progress: Progress | None,
    began: float,
    limit: float,
) -> list[list[Plan]]:
    """One child process per bin of parts; progress is reported here, as bins finish."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(jobs), mp_context=context) as pool:
        futures: list[Future] = [
            pool.submit(_solve_in_turn, subs, sizes, deadline, seed) for subs, sizes in jobs
        ]
        try:
            pending = set(futures)
            while pending:
                _, pending = wait(pending, PROGRESS_EVERY_S, FIRST_COMPLETED)
                if on_progress is not None:
                    fraction = min(0.99, (time.monotonic() - began) / max(limit, 1e-3))
                    done = len(futures) - len(pending)
                    on_progress(fraction, f"solving {len(futures)} groups of parts: {done} done")
        except BaseException:
            # Stop the children now rather than wait out their time limit (no public
            # way to do so before Python 3.14's terminate_workers).
            for process in list(getattr(pool, "_processes", {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return [f.result() for f in futures]


def _merge(problem: Problem, plans: list[Plan], orphans: list[int], seconds: float) -> Plan:
    """One plan from the parts' plans.

    A task a part could not serve for want of a worker, a skill or time is
    diagnosed again against the whole day, so its reason is the same as one model
    would give (a district split can leave a task without the neighbour who could
    have served it: the whole day then says ``not_worth_serving``).
    """
    order = {w.id: v for v, w in enumerate(problem.workers)}
    routes = sorted((r for p in plans for r in p.routes), key=lambda r: order[r.worker])
    by_id = {t.id: t for t in problem.tasks}
    unassigned: list[Unassigned] = [diagnose(problem, problem.tasks[ti]) for ti in orphans]
    for p in plans:
        for u in p.unassigned:
            again = u.reason != NOT_WORTH_SERVING
            unassigned.append(diagnose(problem, by_id[u.task]) if again else u)
    position = {t.id: k for k, t in enumerate(problem.tasks)}
    unassigned.sort(key=lambda u: position[u.task])
    objective = sum(p.objective for p in plans)
    stats = {"part_seconds": [round(p.solve_seconds, 2) for p in plans]}
    return Plan(tuple(routes), tuple(unassigned), objective, seconds, stats=stats)
