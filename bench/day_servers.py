"""The servers of a simulated day: a throwaway instance whose clocks all run fast.

Every server process runs under libfaketime (``apt-get install faketime``) with
``FAKETIME="@<day> 06:30 x<speed>"`` and ``FAKETIME_DONT_RESET=1``: the
processes share one start (libfaketime's shared memory), so gunicorn, the
Celery workers and beat agree about "now", and so does the driver, which reads
the fake clock once through a probe process and then runs its own clock as
``fake start + real elapsed x speed``.

What the fast clock does not reach: PostgreSQL's and Redis's own clocks (the
app stamps times itself; Redis TTLs, such as the district lock's and the
trails' retention, run in real seconds, i.e. ``speed`` times longer in the
day's terms). Timers inside the processes do speed up: gunicorn's worker
timeout (switched off here), Celery's task time limits and the solver's time
limit (given in fake seconds; see ``environment``).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
DAY_DB = "doorstep_day"
BIN = Path(sys.executable).parent


@dataclass
class Instance:
    """Where the day's data lives and how to reach it."""

    work: Path
    env: dict[str, str]
    postgres_admin: str | None = None
    redis: bool = False
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    fake_anchor: tuple[float, float] | None = None  # (fake epoch seconds, real epoch seconds) at one moment

    @property
    def database(self) -> str:
        return "PostgreSQL" if self.postgres_admin else "SQLite (embedded)"


def environment(work: Path, *, speed: float, solver_s: float) -> Instance:
    """A database of its own (``doorstep_day`` beside ``DATABASE_URL``, else SQLite in ``work``),
    Redis db 13 beside ``REDIS_URL``, and settings for a day played ``speed`` times faster."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DOORSTEP_INSTANCE_PATH=str(work), SECRET_KEY="bench-day-secret-key-long-enough-for-hs256",
        PYTHONUNBUFFERED="1",
        # Tokens are issued before the fast clock starts; they must outlive the whole simulated day.
        DOORSTEP_ACCESS_TOKEN_MINUTES=str(14 * 24 * 60),
        DOORSTEP_ACTIVE_USER_CACHE_S="0",
        # Same-day bookings are the urgent orders of the day: a lead time of one hour instead of 24.
        DOORSTEP_BOOKING_LEAD_HOURS="1",
        DOORSTEP_MAX_OPEN_CARE_ORDERS="100",
        # The solver's limit is in fake seconds: ``solver_s`` real seconds per solve.
        DOORSTEP_SOLVER_TIME_LIMIT=str(max(1, int(solver_s * speed))),
    )
    instance = Instance(work=work, env=env)
    url = os.environ.get("DATABASE_URL")
    if url and url.split(":", 1)[0].startswith("postgres"):
        admin = url.replace("postgresql+psycopg://", "postgresql://").replace("postgres+psycopg://", "postgresql://")
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {DAY_DB} WITH (FORCE)"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {DAY_DB}"], check=True)
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{DAY_DB}"
        instance.postgres_admin = admin
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/13"
        instance.redis = True
        import redis

        redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    return instance


def faked(env: dict[str, str], start: datetime, speed: float) -> dict[str, str]:
    """``env`` with libfaketime preloaded: the clock starts at ``start`` (aware) and runs ``speed`` x."""
    utc = start.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return dict(env, LD_PRELOAD=FAKETIME_LIB, FAKETIME=f"@{utc} x{speed:g}", FAKETIME_DONT_RESET="1", TZ="UTC")


def start(instance: Instance, *, day_start: datetime, speed: float, port: int, web_workers: int) -> None:
    """Start the servers under one fake clock: with PostgreSQL and Redis, as the Procfile does (gunicorn,
    a worker per queue, beat); on the embedded defaults ``doorstep serve`` (web, worker and beat)."""
    if not os.path.exists(FAKETIME_LIB):
        raise SystemExit(f"bench.day needs libfaketime ({FAKETIME_LIB}): apt-get install -y faketime")
    env = faked(instance.env, day_start, speed)
    logs = instance.work / "logs"
    logs.mkdir(exist_ok=True)
    # Time limits are counted on the fast clock: bench.day_celery gives the workers the real limits' worth.
    env["BENCH_DAY_SPEED"] = f"{speed:g}"
    celery = [str(BIN / "celery"), "-A", "bench.day_celery:celery"]
    if instance.postgres_admin and instance.redis:
        commands = {
            # Sync workers close each connection after its answer: gthread's keep-alive (2 s) would
            # be 33 ms on the fast clock and reset connections the client is about to reuse. One
            # thread: gunicorn.conf.py (read from the working directory) sets 4, and gunicorn turns
            # sync with threads into gthread.
            "web": [str(BIN / "gunicorn"), "-w", str(web_workers), "-k", "sync", "--threads", "1",
                    "-b", f"127.0.0.1:{port}", "--timeout", "0", "--log-level", "warning", "bench.day_celery:app"],
            "worker": [*celery, "worker", "-Q", "default", "--concurrency", "2", "-n", "default@%h",
                       "--loglevel", "WARNING"],
            "optimise": [*celery, "worker", "-Q", "optimise", "--prefetch-multiplier", "1", "--concurrency", "1",
                         "-n", "optimise@%h", "--loglevel", "WARNING"],
            "beat": [*celery, "beat", "--loglevel", "WARNING", "-s", str(instance.work / "celerybeat-schedule")],
        }
    else:
        commands = {"serve": [sys.executable, "-m", "doorstep.cli", "serve", "--port", str(port)]}
    # One parent under the fake clock starts them all, so they share its start (FAKETIME_DONT_RESET).
    # Its first line is the fake clock as the servers see it, our anchor.
    launcher = ("import subprocess, sys, time, json\n"
                f"commands = {commands!r}\nlogs = {str(logs)!r}\n"
                "procs = [subprocess.Popen(c, stdout=open(f'{logs}/{n}.log', 'w'), stderr=subprocess.STDOUT)"
                " for n, c in commands.items()]\n"
                "print(time.time(), flush=True)\n"
                "import signal\n"
                "def stop(*_):\n"
                "    [p.send_signal(signal.SIGTERM) for p in procs]\n"
                "    [p.wait() for p in procs]\n"
                "    sys.exit(0)\n"
                "signal.signal(signal.SIGTERM, stop)\n"
                "while all(p.poll() is None for p in procs):\n"
                "    time.sleep(30)\n"
                "stop()\n")
    parent = subprocess.Popen([sys.executable, "-c", launcher], env=env, stdout=subprocess.PIPE,
                              start_new_session=True)
    instance.processes.append(parent)
    assert parent.stdout is not None
    fake = float(parent.stdout.readline())
    instance.fake_anchor = (fake, time.time())
    _wait_healthy(f"http://127.0.0.1:{port}", parent, logs)


def _wait_healthy(base: str, parent: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if parent.poll() is not None:
            raise SystemExit("the servers exited:\n" + "\n".join(p.read_text()[-2000:] for p in logs.glob("*.log")))
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2):
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SystemExit("the web server did not answer /healthz within 90 s; logs in " + str(logs))


def stop(instance: Instance) -> None:
    for process in instance.processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    instance.processes.clear()


def drop(instance: Instance, keep: bool) -> None:
    if instance.postgres_admin and not keep:
        subprocess.run(["psql", instance.postgres_admin, "-qc", f"DROP DATABASE IF EXISTS {DAY_DB} WITH (FORCE)"],
                       check=False)
    if not keep:
        shutil.rmtree(instance.work, ignore_errors=True)


class SimClock:
    """The driver's clock: the servers' fake clock, computed from real time."""

    def __init__(self, anchor: tuple[float, float], speed: float, tz: timezone | object) -> None:
        self.fake0, self.real0 = anchor
        self.speed = speed
        self.tz = tz

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.fake0 + (time.time() - self.real0) * self.speed, self.tz)  # type: ignore[arg-type]

    def real_seconds_until(self, at: datetime) -> float:
        return max(0.0, (at - self.now()).total_seconds() / self.speed)

    def sleep_until(self, at: datetime) -> None:
        time.sleep(self.real_seconds_until(at))

    def minutes(self, n: float) -> timedelta:
        return timedelta(minutes=n)
