"""``doorstep demo``: plan the demo day on a real worker, then say what came out.

The plan is requested exactly as the dispatcher's board does it
(``dispatch.service.request_plan``, sent to the worker after commit); this
module only watches the plan row and reads the result, so the demo shows the
production path, not a shortcut around it.
"""
from __future__ import annotations

import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from tqdm import tqdm

from dispatch.models import Plan, Route
from doorstep.auth import Actor
from doorstep.db import session

POLL_S = 0.5
DETAILS_PER_REASON = 3


class PlanningFailed(Exception):
    """The plan did not finish: the worker died, time ran out, or the plan failed."""


def finished_plan(day: str) -> Plan | None:
    """The latest plan of ``day`` that is done, if any (a second ``demo`` shows it again)."""
    plans = session.scalars(select(Plan).where(Plan.date == day, Plan.status == "done").order_by(Plan.id.desc()))
    return next((plan for plan in plans if not plan.districts), None)  # the whole city, not a district


def plan_through_worker(day: str, actor: Actor | None, worker: subprocess.Popen[Any], *,
                        timeout_s: float) -> Plan:
    """Request the day's plan, commit (which sends the task), and wait with a progress bar."""
    from dispatch.service import request_plan

    plan_id = request_plan(actor, date=day).id
    session.commit()
    deadline = time.monotonic() + timeout_s
    with tqdm(total=100, desc="planning", unit="%", file=sys.stderr, dynamic_ncols=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed} {postfix}") as bar:
        while True:
            session.remove()  # a fresh session each poll: see what the worker committed since
            plan = session.get(Plan, plan_id)
            if plan is None:
                raise PlanningFailed(f"plan {plan_id} disappeared")
            bar.n = round(100 * (1.0 if plan.status == "done" else plan.progress))
            bar.set_postfix_str(plan.status, refresh=False)
            bar.refresh()
            if plan.status == "done":
                return plan
            if plan.status == "failed":
                raise PlanningFailed(f"plan {plan_id} failed: {plan.error}")
            if worker.poll() is not None:
                raise PlanningFailed(f"the Celery worker exited with code {worker.returncode}")
            if time.monotonic() > deadline:
                raise PlanningFailed(f"plan {plan_id} is still {plan.status} after {timeout_s:.0f} s")
            time.sleep(POLL_S)


def plan_summary(plan: Plan) -> list[str]:
    """Per worker: tasks and travel time; totals; the unassigned tasks grouped by reason."""
    routes = session.scalars(select(Route).where(Route.plan_id == plan.id)
                             .options(selectinload(Route.worker), selectinload(Route.stops))).all()
    rows = []
    for route in sorted(routes, key=lambda r: (r.worker.kind != "nurse", r.worker.name)):
        tasks = {s.order_id for s in route.stops if s.order_id is not None}
        rows.append((route.worker.name, route.worker.kind, ", ".join(route.worker.districts), str(len(tasks)),
                     f"{route.travel_time_s / 60:.0f}", f"{route.distance_m / 1000:.1f}"))
    summary = plan.summary or {}
    unassigned = plan.unassigned or []
    lines = [(f"Plan {plan.id} for {plan.date}: {summary.get('assigned', 0)} orders assigned, "
             f"{summary.get('unassigned', len(unassigned))} unassigned, {len(routes)} routes."), ""]
    lines += table(("worker", "kind", "districts", "tasks", "travel min", "km"), rows)
    if unassigned:
        lines += ["", "Unassigned, by reason:"]
        by_reason = Counter(u["reason"] for u in unassigned)
        for reason, count in by_reason.most_common():
            lines.append(f"  {reason} ({count})")
            for u in [u for u in unassigned if u["reason"] == reason][:DETAILS_PER_REASON]:
                lines.append(f"    order {u.get('order_id')}: {u.get('detail') or '-'}")
            if count > DETAILS_PER_REASON:
                lines.append(f"    ... and {count - DETAILS_PER_REASON} more")
    return lines


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain text table; Chinese characters count as two columns, as terminals draw them."""
    widths = [max(width(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    render = ["  ".join(pad(str(cell), w) for cell, w in zip(row, widths, strict=True)).rstrip()
              for row in (header, *rows)]
    return [render[0], "  ".join("-" * w for w in widths), *render[1:]]


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, target: int) -> str:
    return text + " " * (target - width(text))
