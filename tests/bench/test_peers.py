"""The benchmark peers' adapters: VROOM and PyVRP read our problems and write checkable plans.

Skipped where the ``bench`` extra (pyvroom, pyvrp) is not installed, as in CI.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("vroom")
pytest.importorskip("pyvrp")

from bench.peers import solve_pyvrp, solve_vroom
from tests.dispatch.check_plan import check

DATA = Path(__file__).resolve().parents[1] / "data"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text())


def routed(plan: dict[str, Any]) -> dict[str, str]:
    """Task id -> worker id, for every task served."""
    return {
        s["task"]: r["worker"]
        for r in plan["routes"]
        for s in r["stops"]
        if s["type"] in ("visit", "dropoff")
    }


def vroom_plan(doc: dict[str, Any]) -> dict[str, Any]:
    """VROOM's plan for ``doc``, asserted to break no rule and to list every task once."""
    plan = solve_vroom(copy.deepcopy(doc), time_limit_s=1, threads=1).plan
    assert plan is not None
    breaches, _ = check(doc, plan)
    assert breaches == []
    listed = list(routed(plan)) + [u["task"] for u in plan["unassigned"]]
    assert sorted(listed) == sorted(t["id"] for t in doc["tasks"])
    return plan


@pytest.mark.parametrize(
    "name",
    [
        "break_in_window",
        "capacity_overflow",
        "multiple_windows",
        "pickup_before_dropoff",
        "courier_cannot_visit",
    ],
)
def test_vroom_plans_pass_the_checker(name: str) -> None:
    plan = vroom_plan(load(name))
    assert plan["routes"]


def test_vroom_gives_a_skilled_visit_only_to_the_nurse_with_the_skill() -> None:
    plan = vroom_plan(load("two_nurses_one_skill"))
    assert routed(plan)["visit-zhang-picc"] == "nurse-li"  # although nurse-wang lives nearer
    reasons = {u["task"]: u["reason"] for u in plan["unassigned"]}
    assert reasons == {"visit-zhang-wound": "no_worker_with_skills"}


def test_vroom_leaves_a_visit_in_a_district_no_one_covers_unassigned() -> None:
    doc = load("two_nurses_one_skill")
    outside = dict(doc["tasks"][1], id="visit-far", district="nankai")
    doc["tasks"].append(outside)
    plan = vroom_plan(doc)
    assert "visit-far" not in routed(plan)
    assert {"task": "visit-far", "reason": "no_worker_in_district"}.items() <= next(
        u for u in plan["unassigned"] if u["task"] == "visit-far"
    ).items()


def test_vroom_keeps_pins_and_drops_the_lowest_priority() -> None:
    assert routed(vroom_plan(load("pinned_task")))["visit-pinned"] == "nurse-wang"
    plan = vroom_plan(load("priority_drops_lowest"))
    assert [u["task"] for u in plan["unassigned"]] == ["visit-low"]


def test_vroom_breaks_after_travel_which_the_checker_reports() -> None:
    """VROOM drives to the next stop before a break; our contract breaks before driving."""
    doc = load("break_before_travel")
    plan = solve_vroom(copy.deepcopy(doc), time_limit_s=1, threads=1).plan
    breaches, _ = check(doc, plan)
    assert any("outside its windows" in b for b in breaches)


def test_pyvrp_solves_what_fits_and_says_why_not_otherwise() -> None:
    doc = load("capacity_overflow")
    run = solve_pyvrp(copy.deepcopy(doc), time_limit_s=0.5)
    breaches, totals = check(doc, run.plan)
    assert breaches == [] and totals["assigned"] == 3

    run = solve_pyvrp(load("break_in_window"), time_limit_s=0.5)
    assert run.plan is None and "breaks" in run.note
