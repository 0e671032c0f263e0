"""One plan solved by a real Celery worker process, as in production (eager mode is not a test).

The worker gets the same settings as the test app (instance folder, database,
broker, secret), so it reads the rows this test commits and consumes the task
the API sends after its commit. It is stopped before the suite empties the tables.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dispatch.service_helpers import accepted_visit, ready_parcel, status_of
from tests.factories import SERVICE_DATE

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60


@pytest.fixture
def celery_worker(settings, app, tmp_path: Path) -> Iterator[subprocess.Popen]:  # type: ignore[no-untyped-def]
    """``celery worker -Q default,optimise --pool solo`` on the test app's database and broker."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DOORSTEP_INSTANCE_PATH=str(settings.instance_path), DATABASE_URL=settings.database_url,
               CELERY_BROKER_URL=settings.broker_url, CELERY_RESULT_BACKEND=settings.result_backend,
               SECRET_KEY=settings.secret_key, DOORSTEP_SOLVER_TIME_LIMIT=str(settings.solver_time_limit_s),
               DOORSTEP_TESTING="1", PYTHONUNBUFFERED="1")
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "doorstep.wsgi:celery", "worker", "-Q", "default,optimise",
             "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = log_path  # type: ignore[attr-defined]
        try:
            yield process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_a_real_worker_solves_a_requested_plan_and_schedules_the_orders(client, personas, celery_worker) -> None:
    visit = accepted_visit(personas, service_code="wound_dressing_change")
    parcel = ready_parcel(personas, cold_chain=True)
    headers = personas.headers("dispatcher_sun")
    posted = client.post("/api/v1/dispatch/plans", json={"date": SERVICE_DATE}, headers=headers)
    assert posted.status_code == 202

    plan = _wait_until_finished(client, headers, posted.get_json()["id"], celery_worker)
    assert plan["status"] == "done", plan
    assert plan["summary"]["assigned"] == 2 and plan["unassigned"] == []
    routed = {s["order_id"] for r in plan["routes"] for s in r["stops"] if s["order_id"]}
    assert routed == {visit, parcel}
    assert status_of(visit) == "scheduled" and status_of(parcel) == "scheduled"


def _wait_until_finished(client, headers, plan_id: int, worker: subprocess.Popen) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + TIMEOUT_S
    plan: dict = {}
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise AssertionError("the worker exited:\n" + worker.log_path.read_text()[-4000:])  # type: ignore[attr-defined]
        plan = client.get(f"/api/v1/dispatch/plans/{plan_id}", headers=headers).get_json()
        if plan["status"] in ("done", "failed"):
            return plan
        time.sleep(0.5)
    log = worker.log_path.read_text()[-4000:]  # type: ignore[attr-defined]
    raise AssertionError(f"plan {plan_id} still {plan.get('status')} after {TIMEOUT_S} s; worker log:\n{log}")
