"""CPU time per position ping, in process: what one ``POST /api/v1/mobile/location`` costs a worker.

``bench.pings`` measures pings per second over HTTP, which swings with whatever else runs on
the machine (wrk itself shares the cores). The CPU time a ping costs the app's Python swings
much less: this calls the app's WSGI callable directly (no test client, no HTTP parsing: what
is left is what a gunicorn worker runs for the app), for many workers on shift, each ping a
new ``at``, and prints CPU µs per ping (this process only, so Redis's own work is not in it)
and wall µs per ping (Redis's round trip is). ``--profile`` adds the costliest functions.

    REDIS_URL=redis://127.0.0.1:6379/0 python -m bench.pings_profile [--pings 5000] [--rounds 3]

Redis database 14 of ``REDIS_URL`` is used and emptied of ``doorstep:*`` afterwards; without
``REDIS_URL`` the in-process store. The database is a SQLite file in a temporary folder (a
ping reads it only through the shift cache).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REDIS_DB = 14


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pings", type=int, default=5000, help="timed pings per round (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; best and median reported (default 3)")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--field-workers", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the costliest functions (cProfile)")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="doorstep-pings-profile-"))
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(DOORSTEP_INSTANCE_PATH=str(work), SECRET_KEY="bench-secret-that-is-long-enough-for-hs256",
                      DOORSTEP_ACCESS_TOKEN_MINUTES="120")
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    try:
        _run(args)
    finally:
        if os.environ.get("REDIS_URL"):
            import redis

            client = redis.Redis.from_url(os.environ["REDIS_URL"])
            for key in client.scan_iter("doorstep:*", count=1000):
                client.delete(key)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _run(args: argparse.Namespace) -> None:
    import logging

    from doorstep.app import create_app, import_models
    from doorstep.db import Base

    import_models()
    app = create_app()
    logging.getLogger().handlers[:] = [logging.FileHandler(Path(os.environ["DOORSTEP_INSTANCE_PATH"]) / "app.log")]
    Base.metadata.create_all(app.extensions["doorstep.engine"])
    tokens = _prepare(app, args.field_workers)
    wsgi = app.wsgi_app if hasattr(app, "wsgi_app") else app
    counter = [0]
    statuses: dict[str, int] = {}

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    base = datetime.now(UTC).replace(microsecond=0)

    def one() -> None:
        counter[0] += 1
        i = counter[0]
        at = (base + timedelta(milliseconds=i)).isoformat()
        body = (f'{{"lat": {39.10 + (i % 500) / 10000:.6f}, "lon": {117.15 + (i % 700) / 10000:.6f}, '
                f'"at": "{at}", "accuracy_m": 8}}').encode()
        environ = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/api/v1/mobile/location",
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8732", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8732", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": f"Bearer {tokens[i % len(tokens)]}",
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        for chunk in wsgi(environ, start_response):
            pass

    for _ in range(args.warmup):
        one()
    if set(statuses) != {"204 NO CONTENT"}:
        raise SystemExit(f"unexpected answers: {statuses}")
    rounds = []
    profiler = cProfile.Profile() if args.profile else None
    for _ in range(args.rounds):
        wall0, cpu0, times0 = time.perf_counter(), time.process_time(), os.times()
        if profiler:
            profiler.enable()
        for _ in range(args.pings):
            one()
        if profiler:
            profiler.disable()
        times1 = os.times()
        rounds.append(((time.process_time() - cpu0) / args.pings * 1e6, (time.perf_counter() - wall0) / args.pings * 1e6,
                       (times1.system - times0.system) / args.pings * 1e6))
    if set(statuses) != {"204 NO CONTENT"}:
        raise SystemExit(f"unexpected answers: {statuses}")
    cpu, wall = sorted(r[0] for r in rounds), sorted(r[1] for r in rounds)
    system = min(rounds)[2]
    store = "Redis" if os.environ.get("REDIS_URL") else "in process"
    print(f"position pings by direct WSGI call, store {store}, {args.rounds} rounds of {args.pings}: "
          f"CPU µs/ping best {cpu[0]:.0f} (of which system {system:.0f}), median {cpu[len(cpu) // 2]:.0f} (this process only; "
          f"{1e6 / cpu[0]:.0f} pings/s per core); wall µs/ping best {wall[0]:.0f}, median {wall[len(wall) // 2]:.0f}"
          + (" [under cProfile: times inflated]" if profiler else ""))
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


def _prepare(app: Any, n: int) -> list[str]:
    from dispatch.models import Shift, Worker
    from doorstep.accounts import create_user
    from doorstep.auth import issue_tokens
    from doorstep.db import session

    now = datetime.now(UTC)
    out = []
    with app.app_context():
        for i in range(n):
            worker = Worker(kind="nurse", name=f"Profile {i}", skills=["basic_care"], districts=["heping"],
                            home_lat=39.12, home_lon=117.2)
            worker.shifts.append(Shift(start=now - timedelta(hours=1), end=now + timedelta(hours=9)))
            session.add(worker)
            session.flush()
            user = create_user(f"profile-nurse-{i}", "bench-password-1", "nurse", worker_id=worker.id)
            out.append(issue_tokens(user)["access_token"])
        session.commit()
        session.remove()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
