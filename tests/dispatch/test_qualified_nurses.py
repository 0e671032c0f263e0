"""Qualified nurses: title, registration and years of practice decide who makes home visits."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import time_machine

from dispatch.qualification import is_home_care_qualified, years_of_practice
from dispatch.service import build_day_problem, request_plan, run_plan
from doorstep.db import session
from tests.dispatch.service_helpers import accepted_visit, actor_of, routes_by_worker
from tests.factories import SERVICE_DATE, iso
from tests.orders.helpers import assert_problem

WORKERS = "/api/v1/workers"
ALL_DISTRICTS = ["heping", "hexi", "nankai", "hedong", "hebei", "hongqiao"]
DAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _booking_day() -> Iterator[None]:
    """Bookings are checked against the clock: book three days before the service date."""
    with time_machine.travel("2026-11-20T10:00:00+08:00", tick=False):
        yield


# The rule, pure -----------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "began", "qualified"), [
    ("senior_nurse", date(2021, 11, 23), True),  # five years on the day
    ("senior_nurse", date(2021, 11, 24), False),  # a day short
    ("chief_nurse", date(2000, 1, 1), True),
    ("nurse", date(2000, 1, 1), False),  # 护士: below 护师 however long
    (None, date(2000, 1, 1), False),
    ("senior_nurse", None, False),
])
def test_five_years_and_senior_nurse_by_default(title, began, qualified) -> None:  # type: ignore[no-untyped-def]
    assert is_home_care_qualified(title, began, DAY) is qualified


def test_the_thresholds_are_arguments_and_a_bad_title_threshold_is_refused() -> None:
    assert is_home_care_qualified("nurse", date(2023, 1, 1), DAY, min_years=3, min_title="nurse")
    assert not is_home_care_qualified("senior_nurse", date(2000, 1, 1), DAY, min_title="supervising_nurse")
    assert years_of_practice(date(2020, 2, 29), date(2025, 2, 28)) == 4
    assert years_of_practice(date(2020, 2, 29), date(2025, 3, 1)) == 5
    with pytest.raises(ValueError):
        is_home_care_qualified("nurse", date(2000, 1, 1), DAY, min_title="matron")


# Worker records over HTTP --------------------------------------------------------------------

def nurse_body(name: str, title: str | None, began: str | None, number: str | None, **extra):  # type: ignore[no-untyped-def]
    return {"kind": "nurse", "name": name, "skills": ["basic_care", "injection", "wound_care", "picc", "rn_5y"],
            "districts": ALL_DISTRICTS, "home": {"lat": 39.1300, "lon": 117.1950},
            "shifts": [{"start": iso("08:00"), "end": iso("17:00")}], "title": title, "practice_began": began,
            "registration_number": number, **extra}


def add_nurse(client, personas, *args, **extra):  # type: ignore[no-untyped-def]
    response = client.post(WORKERS, json=nurse_body(*args, **extra), headers=personas.headers("admin_root"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_nurse_record_carries_title_registration_and_practice_start(client, personas) -> None:  # type: ignore[no-untyped-def]
    wu = add_nurse(client, personas, "Wu Hong", "senior_nurse", "2022-11-21", "202211000301")
    assert (wu["title"], wu["title_zh"], wu["registration_number"], wu["practice_began"]) == (
        "senior_nurse", "护师", "202211000301", "2022-11-21")
    assert wu["home_care_qualified"] is False  # four years on 20 November 2026
    veteran = add_nurse(client, personas, "Ma Li", "associate_chief_nurse", "2001-03-01", "200103000401")
    assert veteran["home_care_qualified"] is True and veteran["title_zh"] == "副主任护师"
    patched = client.patch(f"{WORKERS}/{wu['id']}", json={"title": "nurse"}, headers=personas.headers("dispatcher_sun"))
    assert patched.status_code == 200 and patched.get_json()["title_zh"] == "护士"


def test_a_registration_number_is_unique_and_not_blank(client, personas) -> None:  # type: ignore[no-untyped-def]
    add_nurse(client, personas, "Wu Hong", "senior_nurse", "2015-01-01", "202211000301")
    again = client.post(WORKERS, json=nurse_body("Ma Li", "nurse", "2020-01-01", "202211000301"),
                        headers=personas.headers("admin_root"))
    assert_problem(again, 409, "registration_number")
    blank = client.post(WORKERS, json=nurse_body("Ma Li", "nurse", "2020-01-01", "   "),
                        headers=personas.headers("admin_root"))
    assert_problem(blank, 422, "registration_number")
    li = personas["nurse_li"]["worker_id"]
    taken = client.patch(f"{WORKERS}/{li}", json={"registration_number": "202211000301"},
                         headers=personas.headers("admin_root"))
    assert_problem(taken, 409, "registration_number")


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title": "head_nurse"}, "title"),
    ({"practice_began": "2027-01-01"}, "practice_began"),
    ({"practice_began": "1900-01-01"}, "practice_began"),
    ({"skills": ["basic_care", "home_care_qualified"]}, "skills.1"),
    ({"kind": "courier"}, "title"),
])
def test_bad_nurse_records_are_422s_naming_the_field(client, personas, overrides, field) -> None:  # type: ignore[no-untyped-def]
    body = {**nurse_body("Wu Hong", "senior_nurse", "2015-01-01", "202211000301"), **overrides}
    response = client.post(WORKERS, json=body, headers=personas.headers("admin_root"))
    assert_problem(response, 422, field)


def test_the_thresholds_come_from_the_hospitals_settings(app, client, personas, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    wu = add_nurse(client, personas, "Wu Hong", "senior_nurse", "2022-11-21", "202211000301")
    url, headers = f"{WORKERS}/{wu['id']}", personas.headers("admin_root")
    settings = app.config["SETTINGS"]
    monkeypatch.setitem(app.config, "SETTINGS", settings.with_overrides(home_care_min_years=3))
    assert client.get(url, headers=headers).get_json()["home_care_qualified"] is True
    monkeypatch.setitem(app.config, "SETTINGS", settings.with_overrides(home_care_min_years=3,
                                                                        home_care_min_title="supervising_nurse"))
    assert client.get(url, headers=headers).get_json()["home_care_qualified"] is False


def test_settings_read_the_thresholds_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from doorstep.settings import Settings

    env = {"DOORSTEP_INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 40}
    assert (Settings.from_env(env).home_care_min_years, Settings.from_env(env).home_care_min_title) == (
        5, "senior_nurse")
    custom = Settings.from_env({**env, "DOORSTEP_HOME_CARE_MIN_YEARS": "3",
                                "DOORSTEP_HOME_CARE_MIN_TITLE": "supervising_nurse"})
    assert (custom.home_care_min_years, custom.home_care_min_title) == (3, "supervising_nurse")
    with pytest.raises(ValueError, match="DOORSTEP_HOME_CARE_MIN_TITLE"):
        Settings.from_env({**env, "DOORSTEP_HOME_CARE_MIN_TITLE": "matron"})


# The dispatch problem and the plan -----------------------------------------------------------

def unqualified_day(client, personas) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Two nurses with every skill the visits need but not the rules': 4 years, and 护士."""
    wu = add_nurse(client, personas, "Wu Hong", "senior_nurse", "2022-11-24", "202211000301")  # 4 years on the day
    ma = add_nurse(client, personas, "Ma Li", "nurse", "2010-01-01", "201001000401")  # title 护士
    return wu["id"], ma["id"]


def test_the_problem_gives_an_unqualified_nurse_no_care_task_she_could_take(client, personas) -> None:  # type: ignore[no-untyped-def]
    wu, ma = unqualified_day(client, personas)
    accepted_visit(personas, service_code="picc_maintenance")
    accepted_visit(personas, service_code="intramuscular_injection", window=("13:00", "16:00"))
    doc, index = build_day_problem(SERVICE_DATE)
    by_worker = {index.workers[w["id"]]: set(w["skills"]) for w in doc["workers"]}
    visits = [t for t in doc["tasks"] if t["kind"] == "visit"]
    assert len(visits) == 2 and all("home_care_qualified" in t["skills"] for t in visits)
    for nurse in (wu, ma):
        assert "home_care_qualified" not in by_worker[nurse]
        assert not any(set(t["skills"]) <= by_worker[nurse] for t in visits)
    assert all(set(t["skills"]) <= by_worker[personas["nurse_li"]["worker_id"]] for t in visits)


def test_the_plan_assigns_unqualified_nurses_no_visit(client, personas) -> None:  # type: ignore[no-untyped-def]
    wu, ma = unqualified_day(client, personas)
    for name in ("nurse_li", "nurse_zhou"):  # off today: only the unqualified pair is on shift
        response = client.patch(f"{WORKERS}/{personas[name]['worker_id']}", json={"active": False},
                                headers=personas.headers("admin_root"))
        assert response.status_code == 200
    visits = {accepted_visit(personas, service_code="wound_dressing_change"),
              accepted_visit(personas, "patient_liu", service_code="intramuscular_injection",
                             window=("13:00", "16:00"))}
    plan = run_plan(request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE).id)
    session.commit()
    assert plan is not None and plan.status == "done"
    routes = routes_by_worker(plan.id)
    assert not routes.get(wu) and not routes.get(ma)
    assert {u["order_id"] for u in plan.unassigned} == visits
    assert {u["reason"] for u in plan.unassigned} == {"no_worker_with_skills"}


def test_a_nurse_who_qualifies_takes_the_visits(client, personas) -> None:  # type: ignore[no-untyped-def]
    wu = add_nurse(client, personas, "Wu Hong", "senior_nurse", "2021-11-23", "202111000301")  # 5 years on the day
    for name in ("nurse_li", "nurse_zhou"):
        client.patch(f"{WORKERS}/{personas[name]['worker_id']}", json={"active": False},
                     headers=personas.headers("admin_root"))
    visit = accepted_visit(personas, service_code="wound_dressing_change")
    plan = run_plan(request_plan(actor_of(personas, "dispatcher_sun"), date=SERVICE_DATE).id)
    session.commit()
    assert plan is not None and plan.unassigned == [] and routes_by_worker(plan.id)[wu["id"]] == [visit]
