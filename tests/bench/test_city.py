"""The synthetic city of ``bench.city``: the same document for a seed, and a valid problem."""

from __future__ import annotations

import json

from bench.city import make_city
from dispatch.problem import parse_problem


def test_the_same_seed_gives_the_same_city_and_another_seed_another() -> None:
    first = json.dumps(make_city("small", seed=3))
    assert json.dumps(make_city("small", seed=3)) == first
    assert json.dumps(make_city("small", seed=4)) != first


def test_a_small_city_parses_with_per_kind_matrices_and_a_hundred_tasks() -> None:
    doc = make_city("small", seed=1)
    problem = parse_problem(doc)
    assert len(problem.tasks) == 100
    assert set(problem.matrices) == {"nurse", "courier"}
    nurse, courier = problem.matrices["nurse"], problem.matrices["courier"]
    assert (courier.durations > nurse.durations).sum() > 0.9 * (nurse.durations > 0).sum()
    kinds = {t.kind for t in problem.tasks}
    assert kinds == {"visit", "delivery"}
    assert any(t.max_ride_s for t in problem.tasks)
    assert any(t.pickup is None for t in problem.tasks if t.kind == "delivery")
    assert any(len(w.districts) == 2 for w in problem.workers)
