"""``POST /api/v1/dispatch/solve``: a problem document in, a plan out; faults named by JSON path."""
from __future__ import annotations

import copy

import pytest

import dispatch.search

SOLVE = "/api/v1/dispatch/solve"

ONE_NURSE_ONE_VISIT = {
    "version": 1,
    "locations": [{"id": "home-1", "lat": 39.1300, "lon": 117.1950},
                  {"id": "patient-1", "lat": 39.1250, "lon": 117.2000}],
    "workers": [{"id": "nurse-1", "kind": "nurse", "skills": ["wound_care"], "districts": ["heping"],
                 "start": "home-1", "end": "home-1",
                 "shift": ["2026-11-23T08:00:00+08:00", "2026-11-23T17:00:00+08:00"]}],
    "tasks": [{"id": "visit-1", "kind": "visit", "location": "patient-1", "district": "heping",
               "skills": ["wound_care"], "duration": 1800,
               "windows": [["2026-11-23T09:00:00+08:00", "2026-11-23T11:00:00+08:00"]]}],
    "options": {"time_limit": 2, "seed": 1},
}


def _solve(client, personas, body, who="dispatcher_sun", **kwargs):  # type: ignore[no-untyped-def]
    return client.post(SOLVE, json=body, headers=personas.headers(who), **kwargs)


def test_a_dispatcher_solves_a_problem_document_and_gets_the_plan(client, personas) -> None:
    response = _solve(client, personas, ONE_NURSE_ONE_VISIT)
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["status"] == "solved" and plan["unassigned"] == []
    stops = plan["routes"][0]["stops"]
    assert plan["routes"][0]["worker"] == "nurse-1"
    assert [s["type"] for s in stops] == ["start", "visit", "end"]
    assert "2026-11-23T09:00:00+08:00" <= stops[1]["start"] <= "2026-11-23T11:00:00+08:00"


def test_an_invalid_problem_is_a_422_with_errors_keyed_by_json_path(client, personas) -> None:
    body = copy.deepcopy(ONE_NURSE_ONE_VISIT)
    body["tasks"][0]["windows"] = [["2026-11-23T11:00:00+08:00", "2026-11-23T09:00:00+08:00"]]
    body["workers"][0]["colour"] = "blue"
    response = _solve(client, personas, body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert all(path.startswith("$") for path in errors)
    assert any(path.startswith("$.tasks[0].windows") for path in errors), errors
    assert any(path.startswith("$.workers[0]") for path in errors), errors


def test_a_body_that_is_not_an_object_or_not_json_is_refused(client, personas) -> None:
    listed = _solve(client, personas, [ONE_NURSE_ONE_VISIT])
    assert listed.status_code == 422 and listed.get_json()["errors"] == {"$": ["Must be an object."]}
    broken = client.post(SOLVE, data="{not json", content_type="application/json",
                         headers=personas.headers("dispatcher_sun"))
    assert broken.status_code == 400 and broken.get_json()["errors"] == {"body": ["Not valid JSON."]}


def test_a_huge_body_is_refused_before_it_is_read(client, personas) -> None:
    response = client.post(SOLVE, data=b"{" + b" " * (6 * 1024 * 1024) + b"}", content_type="application/json",
                           headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 413 and response.mimetype == "application/problem+json"


def test_the_time_limit_a_client_asks_for_is_capped(client, personas, monkeypatch) -> None:
    asked: list[float] = []
    real = dispatch.search.solve_document

    def spy(doc, **kwargs):  # type: ignore[no-untyped-def]
        asked.append(kwargs["time_limit_s"])
        return real(doc, **{**kwargs, "time_limit_s": 1})

    monkeypatch.setattr(dispatch.search, "solve_document", spy)
    body = copy.deepcopy(ONE_NURSE_ONE_VISIT)
    body["options"]["time_limit"] = 3600
    assert _solve(client, personas, body).status_code == 200
    assert asked == [20]


@pytest.mark.parametrize("who", ["pharmacist_chen", "nurse_li", "courier_zhao", "patient_wang", "admin_root"])
def test_only_dispatchers_run_the_optimiser(client, personas, who: str) -> None:
    assert _solve(client, personas, ONE_NURSE_ONE_VISIT, who=who).status_code == 403


def test_a_well_formed_task_nobody_can_serve_is_a_200_with_its_reason(client, personas) -> None:
    body = copy.deepcopy(ONE_NURSE_ONE_VISIT)
    body["tasks"][0]["skills"] = ["picc"]
    response = _solve(client, personas, body)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["unassigned"] == [
        {"task": "visit-1", "reason": "no_worker_with_skills", "detail": "needs picc; no nurse has it"}
    ]
