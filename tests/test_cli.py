"""The ``doorstep`` command as an operator uses it.

``users create`` runs in-process against the test app (passed as click's
``obj``); ``plan`` needs no app; ``db upgrade`` and ``seed demo`` run as real
subprocesses on a fresh instance folder, from another directory, as a
newcomer would run them.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, pool, select, text

from doorstep.cli import cli
from doorstep.models import User

DATA = Path(__file__).parent / "data"
PASSWORD = "cli-password-123"


def run(args: list[str], *, app=None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, obj=app, input=stdin, catch_exceptions=False)


# --- users create --------------------------------------------------------------------------

def test_users_create_makes_an_account_that_can_sign_in(app, client) -> None:  # type: ignore[no-untyped-def]
    result = run(["users", "create", "--username", "sun_dispatch", "--role", "dispatcher", "--password-stdin"],
                 app=app, stdin=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert "sun_dispatch" in result.stdout
    response = client.post("/api/v1/auth/token", json={"username": "sun_dispatch", "password": PASSWORD})
    assert response.status_code == 200, response.get_json()


def test_users_create_ties_a_nurse_account_to_its_worker(app, client, personas) -> None:  # type: ignore[no-untyped-def]
    worker_id = personas["nurse_zhou"]["worker_id"]
    result = run(["users", "create", "--username", "zhou2", "--role", "nurse", "--password-stdin",
                  "--worker", str(worker_id)], app=app, stdin=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    from doorstep.db import session

    assert session.scalar(select(User.worker_id).where(User.username == "zhou2")) == worker_id


def test_users_create_with_an_unknown_role_exits_1_with_a_readable_message(app, client) -> None:  # type: ignore[no-untyped-def]
    result = run(["users", "create", "--username", "boss", "--role", "overlord", "--password-stdin"],
                 app=app, stdin=PASSWORD + "\n")

    assert result.exit_code == 1
    assert "Unknown role 'overlord'" in result.stderr and "dispatcher" in result.stderr
    assert "Traceback" not in result.output
    from doorstep.db import session

    assert session.scalar(select(func.count()).select_from(User).where(User.username == "boss")) == 0


def test_users_create_for_a_missing_worker_exits_1_naming_the_field(app, client) -> None:  # type: ignore[no-untyped-def]
    result = run(["users", "create", "--username", "ghost", "--role", "courier", "--password-stdin",
                  "--worker", "999"], app=app, stdin=PASSWORD + "\n")

    assert result.exit_code == 1
    assert "worker_id:" in result.stderr and "Traceback" not in result.output


def test_users_create_refuses_a_short_password(app, client) -> None:  # type: ignore[no-untyped-def]
    result = run(["users", "create", "--username", "shorty", "--role", "admin", "--password-stdin"],
                 app=app, stdin="abc\n")

    assert result.exit_code == 1
    assert "at least 8 characters" in result.stderr


# --- plan --------------------------------------------------------------------------------

def test_plan_solves_a_problem_file_into_a_plan_on_stdout() -> None:
    result = run(["plan", str(DATA / "cli_two_visits.json"), "--time-limit", "2"])

    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["status"] == "solved" and plan["unassigned"] == []
    [route] = plan["routes"]
    assert [s.get("task") for s in route["stops"] if s.get("task")] == ["visit-wang", "visit-liu"]
    assert "2 tasks assigned" in result.stderr


def test_plan_writes_the_plan_to_the_out_file(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = run(["plan", str(DATA / "cli_two_visits.json"), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(out.read_text())["summary"]["assigned"] == 2


def test_plan_on_a_malformed_problem_exits_2_with_invalid_problem_on_stdout(tmp_path: Path) -> None:
    problem = json.loads((DATA / "cli_two_visits.json").read_text())
    problem["tasks"][0]["duration"] = -5
    problem["colour"] = "blue"
    path = tmp_path / "malformed.json"
    path.write_text(json.dumps(problem))

    result = run(["plan", str(path)])

    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["status"] == "invalid_problem"
    assert {"$.colour", "$.tasks[0].duration"} <= {e["path"] for e in document["errors"]}
    assert "not a valid problem" in result.stderr and "Traceback" not in result.output


def test_plan_reads_stdin_and_reports_progress_on_stderr_only() -> None:
    problem = (DATA / "cli_two_visits.json").read_text()

    result = run(["plan", "-", "--time-limit", "1", "--seed", "3"], stdin=problem)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "solved"  # stdout is the plan and nothing else
    assert "solving" in result.stderr and "100%" in result.stderr


def test_plan_on_a_problem_with_times_out_of_range_exits_2_with_the_path(tmp_path: Path) -> None:
    problem = json.loads((DATA / "cli_two_visits.json").read_text())
    problem["workers"][0]["shift"][0] = "0001-01-01T00:00:00+08:00"
    path = tmp_path / "ancient.json"
    path.write_text(json.dumps(problem))

    result = run(["plan", str(path)])

    assert result.exit_code == 2
    errors = json.loads(result.stdout)["errors"]
    assert [e["path"] for e in errors] == ["$.workers[0].shift[0]"]


def test_plan_on_a_file_that_is_not_json_exits_2_readably(tmp_path: Path) -> None:
    path = tmp_path / "truncated.json"
    path.write_text('{"version": 1, "locations": [')

    result = run(["plan", str(path)])

    assert result.exit_code == 2
    assert "not JSON" in result.stderr and "line 1" in result.stderr
    assert json.loads(result.stdout)["status"] == "invalid_problem"


def test_plan_on_a_missing_file_exits_2_readably(tmp_path: Path) -> None:
    result = run(["plan", str(tmp_path / "nowhere.json")])

    assert result.exit_code == 2
    assert "Cannot read" in result.stderr and "Traceback" not in result.output


# --- db upgrade and seed demo, as subprocesses ----------------------------------------------

@pytest.fixture
def fresh_instance(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty instance folder on the embedded defaults, and the environment pointing at it."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")}
    env.update(DOORSTEP_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    return instance, env


def doorstep(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doorstep.cli", *args], check=False, env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_seed_demo_makes_a_demo_hospital_and_prints_working_passwords(fresh_instance, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    instance, env = fresh_instance
    upgraded = doorstep(env, tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "catalogue: 21 items added" in upgraded.stdout
    again = doorstep(env, tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "catalogue: 0 items added" in again.stdout

    seeded = doorstep(env, tmp_path, "seed", "demo", "--date", "2026-11-23")
    assert seeded.returncode == 0, seeded.stderr[-3000:]

    engine = create_engine(f"sqlite:///{instance / 'doorstep.db'}", poolclass=pool.NullPool)
    with engine.connect() as conn:
        def count(sql: str) -> int:
            return conn.execute(text(sql)).scalar_one()

        assert count("select count(*) from workers where kind = 'nurse'") == 12
        assert count("select count(*) from workers where kind = 'courier'") == 8
        assert count("select count(*) from pharmacies") == 2
        assert count("select count(*) from orders where kind = 'care'") == 60
        assert 50 <= count("select count(*) from orders where kind = 'care' and status = 'accepted'") < 60
        assert count("select count(*) from orders where kind = 'delivery'") == 120
        assert 110 <= count("select count(*) from orders where kind = 'delivery' and status = 'ready'") < 120
        assert 5 <= count("select count(*) from delivery_orders where cold_chain") <= 35
        assert count("select count(distinct service_date) from orders") == 1
        assert count("select count(*) from order_events") >= 180  # placed through the services, with history
        hashes = dict(conn.execute(text("select username, password_hash from users")).all())

    printed = dict(re.findall(r"^\w+\s+(demo_\w+)\s+(\S+)", seeded.stdout, re.MULTILINE))
    roles = {"demo_admin", "demo_dispatcher", "demo_pharmacist", "demo_nurse", "demo_courier", "demo_patient"}
    assert roles <= set(printed)
    for username, password in printed.items():
        assert PasswordHasher().verify(hashes[username], password), username

    refused = doorstep(env, tmp_path, "seed", "demo")
    assert refused.returncode == 1
    assert "already exists" in refused.stderr and "Traceback" not in refused.stderr
