"""Fixtures for the optimiser's tests: named instances from tests/data, and a checked solve."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatch.feasibility import breaches
from dispatch.problem import parse_problem
from dispatch.search import solve_document
from tests.dispatch import check_plan

DATA = Path(__file__).resolve().parents[1] / "data"


def _load(name: str) -> dict[str, Any]:
    with open(DATA / f"{name}.json") as f:
        return json.load(f)


def _solve_checked(doc: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("time_limit_s", 2)
    plan = solve_document(copy.deepcopy(doc), **kwargs)
    assert plan["status"] == "solved", plan
    assert breaches(parse_problem(copy.deepcopy(doc)), plan) == []  # the project's own checker
    assert check_plan.check(doc, plan)[0] == []  # the independent one
    served = [
        s["task"] for r in plan["routes"] for s in r["stops"] if s["type"] in ("visit", "dropoff")
    ]
    listed = served + [u["task"] for u in plan["unassigned"]]
    assert sorted(listed) == sorted(t["id"] for t in doc["tasks"]), "every task exactly once"
    return plan


@pytest.fixture
def load() -> Callable[[str], dict[str, Any]]:
    """``load("pinned_task")``: a fresh copy of ``tests/data/pinned_task.json``."""
    return _load


@pytest.fixture
def solve_checked() -> Callable[..., dict[str, Any]]:
    """Solve a problem document, assert that neither the project's checker
    (:mod:`dispatch.feasibility`) nor the independent one finds a breach and that every task
    appears exactly once, and return the plan document."""
    return _solve_checked


def worker_of(plan: dict[str, Any], task_id: str) -> str | None:
    """Who serves ``task_id`` in ``plan``, or None."""
    for route in plan["routes"]:
        if any(s.get("task") == task_id for s in route["stops"]):
            return route["worker"]
    return None


def reason_of(plan: dict[str, Any], task_id: str) -> str | None:
    return next((u["reason"] for u in plan["unassigned"] if u["task"] == task_id), None)


def detail_of(plan: dict[str, Any], task_id: str) -> str:
    return next(u["detail"] for u in plan["unassigned"] if u["task"] == task_id)


def stops_of(plan: dict[str, Any], worker_id: str) -> list[dict[str, Any]]:
    return next(r["stops"] for r in plan["routes"] if r["worker"] == worker_id)


@pytest.fixture
def string_searches(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The string searches run, each True if it got as far as a plan: a test on a day the
    string search should take can tell it was not OR-Tools alone."""
    from dispatch import strings

    runs: list[bool] = []
    improve = strings.improve

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = improve(*args, **kwargs)
        runs.append(found is not None)
        return found

    monkeypatch.setattr(strings, "improve", counted)
    return runs
