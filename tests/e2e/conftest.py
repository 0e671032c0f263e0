"""A real ``doorstep serve`` (web + Celery worker) in its own database, driven over HTTP.

On the embedded default it gets a fresh instance folder. With ``DATABASE_URL``
set it gets a throwaway PostgreSQL database on the same server, and with
``REDIS_URL`` set a Redis database of its own, so it never touches the tables
the rest of the suite uses.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _throwaway_postgres(url: str) -> tuple[str, str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"doorstep_e2e_{uuid.uuid4().hex[:8]}"
    base = make_url(url)
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False), admin_dsn


def _drop_postgres(admin_dsn: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(self, base_url: str, env: dict[str, str]) -> None:
        self.base_url = base_url
        self.env = env

    def url(self, path: str) -> str:
        return self.base_url + path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "doorstep.cli", *args], env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    instance: Path = tmp_path_factory.mktemp("e2e-instance")
    env.update(DOORSTEP_INSTANCE_PATH=str(instance), SECRET_KEY="e2e-secret-key-long-enough-for-hs256-xx",
               DOORSTEP_SOLVER_TIME_LIMIT="2", PYTHONUNBUFFERED="1")
    admin_dsn = None
    if os.environ.get("DATABASE_URL"):
        env["DATABASE_URL"], admin_dsn = _throwaway_postgres(os.environ["DATABASE_URL"])
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14"
    port = _free_port()
    upgrade = subprocess.run([sys.executable, "-m", "doorstep.cli", "db", "upgrade"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert upgrade.returncode == 0, upgrade.stderr
    log = open(instance / "serve.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "doorstep.cli", "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process, instance / "serve.log")
        yield Server(base_url, env)
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
        log.close()
        if admin_dsn:
            _drop_postgres(admin_dsn, env["DATABASE_URL"])


def _wait_until_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("doorstep serve exited:\n" + log_path.read_text()[-4000:])
        try:
            if requests.get(base_url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError("doorstep serve never became healthy:\n" + log_path.read_text()[-4000:])
