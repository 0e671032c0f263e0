"""A generated day: 60 tasks in two districts, nurses and couriers, pickups at a pharmacy."""

from __future__ import annotations

import time

from dispatch.search import solve_document
from tests.dispatch import check_plan
from tests.dispatch.city import make_city


def test_a_sixty_task_day_is_solved_within_five_seconds_without_a_breach() -> None:
    doc = make_city(60, seed=7)
    began = time.monotonic()
    plan = solve_document(doc, time_limit_s=5)
    elapsed = time.monotonic() - began
    assert elapsed < 6.5  # the limit, plus building the model and reading the plan
    breaches, totals = check_plan.check(doc, plan)
    assert breaches == []
    assert totals["assigned"] + totals["unassigned"] == totals["tasks"] == 60
    assert totals["assigned"] >= 50  # most of the day fits: 6 nurses, 4 couriers
    assert totals["travel_time"] == plan["summary"]["travel_time"]
    used = {r["worker"] for r in plan["routes"]}
    assert any(w.startswith("nurse-hexi") for w in used) and any(
        w.startswith("courier") for w in used
    )
    assert any(s["type"] == "pickup" for r in plan["routes"] for s in r["stops"])
