"""Large days solved in parts: the cut, the merge, the processes, the seed."""

from __future__ import annotations

import multiprocessing
from types import SimpleNamespace

import pytest

from bench.city import make_city as make_tianjin
from dispatch import decompose
from dispatch.problem import parse_problem
from dispatch.split import split_problem, sub_problem
from tests.dispatch import check_plan
from tests.dispatch.city import make_city


def test_visits_deliveries_and_districts_no_one_spans_are_separate_parts() -> None:
    problem = parse_problem(make_city(40, seed=7))  # every worker covers one district
    parts, orphans = split_problem(problem, max_part_stops=None)
    assert len(parts) == 4  # nurses and couriers, in heping and in hexi
    for part in parts:
        assert len({problem.tasks[t].kind for t in part.tasks}) == 1
        assert len({problem.tasks[t].district for t in part.tasks}) == 1
        assert len({problem.workers[v].kind for v in part.workers}) == 1
    placed = sorted([t for p in parts for t in p.tasks] + orphans)
    assert placed == list(range(len(problem.tasks)))


def test_a_large_part_is_cut_by_district_and_area_with_pins_kept_with_their_worker() -> None:
    problem = parse_problem(make_tianjin("small", seed=1))
    parts, orphans = split_problem(problem, max_part_stops=30)
    assert len(parts) > 4 and all(p.size(problem) <= 60 for p in parts)
    workers = sorted(v for p in parts for v in p.workers)
    assert len(workers) == len(set(workers))  # each worker in one part at most
    assert sorted([t for p in parts for t in p.tasks] + orphans) == list(range(100))
    for part in parts:
        ids = {problem.workers[v].id for v in part.workers}
        assert all(problem.tasks[t].pinned_worker in (None, *ids) for t in part.tasks)


def test_a_part_keeps_only_its_own_places_in_its_matrices() -> None:
    problem = parse_problem(make_city(40, seed=7))
    part = split_problem(problem, max_part_stops=None)[0][0]
    sub = sub_problem(problem, part)
    assert len(sub.locations) < len(problem.locations)
    assert set(sub.matrices) == {problem.workers[part.workers[0]].kind}
    a, b = sub.locations[0].id, sub.locations[-1].id
    kind = problem.workers[part.workers[0]].kind
    whole = problem.matrices[kind].durations[problem.location_index[a], problem.location_index[b]]
    assert sub.matrices[kind].durations[0, len(sub.locations) - 1] == whole


@pytest.mark.parametrize("processes", [1, 2])
def test_the_merged_plan_has_every_task_once_and_passes_the_checker(processes: int) -> None:
    doc = make_city(40, seed=7)
    plan = decompose.solve_decomposed(
        parse_problem(doc), time_limit_s=3, seed=1, processes=processes
    )
    breaches, totals = check_plan.check(doc, plan.to_json())
    assert breaches == []
    assert totals["assigned"] + totals["unassigned"] == totals["tasks"] == 40
    assert totals["assigned"] >= 30
    assert plan.stats["processes"] == processes and plan.stats["parts"] == 4
    assert plan.solve_seconds <= 3.0


def test_the_same_seed_gives_the_same_merged_plan() -> None:
    problem = parse_problem(make_city(12, seed=3))

    def plan() -> dict:
        out = decompose.solve_decomposed(problem, time_limit_s=10, seed=5, processes=1).to_json()
        del out["summary"]["solve_seconds"]
        return out

    assert plan() == plan()


def test_a_daemonic_process_such_as_a_celery_worker_solves_the_parts_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    problem = parse_problem(make_tianjin("medium", seed=1))
    monkeypatch.setattr(decompose, "_cores", lambda: 2)
    assert decompose.processes_for(problem, 12, 30) == 2
    monkeypatch.setattr(multiprocessing, "current_process", lambda: SimpleNamespace(daemon=True))
    assert decompose.processes_for(problem, 12, 30) == 1


def test_small_days_and_short_limits_are_not_worth_child_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(decompose, "_cores", lambda: 8)
    small = parse_problem(make_city(40, seed=7))
    assert decompose.processes_for(small, 4, 30) == 1
    medium = parse_problem(make_tianjin("medium", seed=1))
    assert decompose.processes_for(medium, 12, 2) == 1
    assert not decompose.worth_decomposing(small) and decompose.worth_decomposing(medium)
