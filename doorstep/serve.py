"""The web app and a Celery worker in one command, for the embedded defaults (``doorstep serve``).

A newcomer gets the whole system with no process manager: the worker runs as a
child process on both queues (``default`` and ``optimise``), one task at a
time, and stops when the web server stops (Ctrl-C or SIGTERM). Production runs
the Procfile's processes instead, each scaled on its own.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from flask import Flask

from doorstep.settings import Settings

log = logging.getLogger("doorstep.serve")

STOP_TIMEOUT_S = 20


def worker_command() -> list[str]:
    """The worker as the Procfile would run it, both queues and the beat (``-B``: periodic
    jobs such as webhook delivery) in one process."""
    # Without heartbeat, gossip and mingle a lone worker starts at once (nobody to talk to).
    return [sys.executable, "-m", "celery", "-A", "doorstep.wsgi:celery", "worker", "-B",
            "-Q", "default,optimise", "--pool", "solo", "--concurrency", "1", "--loglevel", "INFO",
            "--without-heartbeat", "--without-gossip", "--without-mingle"]


@contextmanager
def celery_worker(settings: Settings, log_path: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Start a worker on the same settings (instance folder, database, broker); stop it on exit.

    Its output goes to ``log_path`` when given, else to our own stdout/stderr.
    """
    env = dict(os.environ, DOORSTEP_INSTANCE_PATH=str(settings.instance_path), PYTHONUNBUFFERED="1")
    out: IO[bytes] | None = open(log_path, "ab") if log_path else None  # noqa: SIM115 (closed below)
    # SIGTERM (a process manager, `kill`) unwinds like Ctrl-C, so the worker is never orphaned.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        process = subprocess.Popen(worker_command(), env=env, stdout=out,
                                   stderr=subprocess.STDOUT if out else None)
        log.info("event=worker_started pid=%s", process.pid)
        try:
            yield process
        finally:
            stop(process)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if out is not None:
            out.close()


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM (Celery's warm shutdown: the current task finishes), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
    log.info("event=worker_stopped pid=%s returncode=%s", process.pid, process.returncode)


def check_port_free(host: str, port: int) -> None:
    """``OSError`` now, before anything starts, if the port is taken."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))


def run_web(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` (threaded) in the foreground until Ctrl-C or SIGTERM."""
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    log.info("event=web_started host=%s port=%s", host, port)
    try:
        server.serve_forever()  # returns on KeyboardInterrupt, which SIGTERM now raises too
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.info("event=web_stopped")


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt
