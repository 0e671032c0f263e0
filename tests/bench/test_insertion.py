"""The insertion benchmark on a small district day: every urgent order accounted for, every plan feasible."""

from __future__ import annotations

from bench.insertion import run


def test_a_small_district_day_takes_urgent_orders_and_every_plan_passes_the_checker() -> None:
    figures = run(tasks=60, urgent=5, time_limit_s=2, seed=2)
    assert figures["tasks"] == 60
    assert figures["inserted"] + figures["left_for_replan"] == 5
    assert figures["inserted"] >= 1
    assert figures["plans_with_breaches"] == 0
    assert 0 < figures["p50_s"] <= figures["p95_s"] <= figures["max_s"]
