"""One webhook delivered by a real Celery worker with its embedded beat, as in production (no eager mode).

The worker (``celery worker -B``) gets the test app's settings, database and
broker, plus ``DOORSTEP_WEBHOOK_ALLOW_PRIVATE=1`` so it may post to the local
subscriber. Nothing sends a task by hand: the beat table's
``deliver-webhooks`` entry finds the event in the outbox.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
import time_machine

from tests.factories import TZ
from tests.orders.webhook_subscriber import Subscriber

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 60
SECRET = "whsec-worker-0123456789"


@pytest.fixture
def worker_with_beat(settings, app, tmp_path: Path) -> Iterator[subprocess.Popen]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DOORSTEP_INSTANCE_PATH=str(settings.instance_path), DATABASE_URL=settings.database_url,
               CELERY_BROKER_URL=settings.broker_url, CELERY_RESULT_BACKEND=settings.result_backend,
               SECRET_KEY=settings.secret_key, DOORSTEP_TESTING="1", DOORSTEP_WEBHOOK_ALLOW_PRIVATE="1",
               PYTHONUNBUFFERED="1")
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "doorstep.wsgi:celery", "worker", "-B",
             "--schedule", str(tmp_path / "beat-schedule"), "-Q", "default", "--pool", "solo",
             "--concurrency", "1", "--loglevel", "INFO", "--without-heartbeat", "--without-gossip",
             "--without-mingle"],
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


def test_a_real_worker_delivers_a_signed_webhook_from_the_outbox(client, orders, personas, app, monkeypatch,
                                                                  worker_with_beat) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SETTINGS", replace(app.config["SETTINGS"], webhook_allow_private=True))
    subscriber = Subscriber().up()
    try:
        response = client.post("/api/v1/webhooks", headers=personas.headers("admin_root"), json={
            "url": subscriber.url, "secret": SECRET, "events": ["order.created"]})
        assert response.status_code == 201, response.get_json()
        with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=TZ), tick=True):
            visit = orders.care_id()

        deadline = time.monotonic() + TIMEOUT_S
        while not subscriber.received and time.monotonic() < deadline:
            if worker_with_beat.poll() is not None:
                raise AssertionError("the worker exited:\n" + worker_with_beat.log_path.read_text()[-4000:])  # type: ignore[attr-defined]
            time.sleep(0.25)
        log = worker_with_beat.log_path.read_text()[-4000:]  # type: ignore[attr-defined]
        assert subscriber.received, f"no webhook within {TIMEOUT_S} s; worker log:\n{log}"
        time.sleep(1)  # a second beat must not send it again
        [got] = subscriber.received
        assert got.signed_with(SECRET)
        assert (got.body["type"], got.body["order_id"], got.body["to_status"]) == ("order.created", visit, "requested")
    finally:
        subscriber.down()
