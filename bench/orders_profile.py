"""CPU time per care-order creation, in process: what each request costs the app's Python.

Wall-clock load figures (``bench.orders_load``) swing with whatever else runs on
the machine; the CPU time a request costs its worker does not, much. This
drives ``POST /api/v1/care-orders`` through Flask's test client (the whole
stack: auth, parsing, idempotency, service, serialisation, commit) against a
throwaway database, and prints CPU ms and SQL statements per request; with
``--profile`` the functions that cost most (cProfile, cumulative).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python -m bench.orders_profile [--requests 1000] [--rounds 3] [--profile]

As ``bench.orders_load``, the database in ``DATABASE_URL`` is only used to create
and drop a ``doorstep_profile`` database beside it; without it, SQLite in a
temporary folder.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.orders_load import SERVICE_CODE, _window
from bench.throwaway import psql_url as _psql_url

PROFILE_DB = "doorstep_profile"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="timed rounds; the best and the median are reported, since other work on the "
                             "machine inflates even CPU time (default 3)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed requests first (default 200)")
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--profile", action="store_true", help="print the costliest functions (cProfile)")
    parser.add_argument("--top", type=int, default=40, help="rows of the profile (default 40)")
    parser.add_argument("--dump", help="with --profile: also write the pstats file here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="doorstep-profile-"))
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.split(":", 1)[0].startswith("postgres")
    if postgres:
        admin = _psql_url(url)
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {PROFILE_DB} WITH (FORCE)"], check=True)
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {PROFILE_DB}"], check=True)
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + f"/{PROFILE_DB}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.update(DOORSTEP_INSTANCE_PATH=str(work), SECRET_KEY="bench-secret-that-is-long-enough-for-hs256",
                      DOORSTEP_MAX_OPEN_CARE_ORDERS="1000000", DOORSTEP_ACCESS_TOKEN_MINUTES="120")
    try:
        _run(args, "PostgreSQL" if postgres else "SQLite")
    finally:
        if postgres:
            from doorstep.db import session

            session.remove()
            subprocess.run(["psql", _psql_url(url), "-qc", f"DROP DATABASE IF EXISTS {PROFILE_DB} WITH (FORCE)"],
                           check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _run(args: argparse.Namespace, database: str) -> None:
    import logging

    from sqlalchemy import event

    from doorstep.app import create_app, import_models
    from doorstep.db import Base

    import_models()
    app = create_app()
    # Log lines to a file, as gunicorn's workers write them somewhere: the cost of formatting stays in.
    logging.getLogger().handlers[:] = [logging.FileHandler(Path(os.environ["DOORSTEP_INSTANCE_PATH"]) / "app.log")]
    engine = app.extensions["doorstep.engine"]
    Base.metadata.create_all(engine)
    patients = _prepare(app, args.patients)
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_a: Any) -> None:
        statements[0] += 1

    start, end = _window()
    client = app.test_client()
    counter = [0]

    def one() -> None:
        counter[0] += 1
        token, address_id = patients[counter[0] % len(patients)]
        response = client.post("/api/v1/care-orders", json={
            "service_code": SERVICE_CODE, "address_id": address_id, "window": {"start": start, "end": end},
            "notes": "bench"}, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"p-{counter[0]}"})
        if response.status_code != 201:
            raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")

    for _ in range(args.warmup):
        one()
    n = args.requests
    rounds = []
    # CPU time, not wall: waiting on the database and on other processes is not counted.
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    for _ in range(args.rounds):
        statements[0] = 0
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for _ in range(n):
            one()
        if profiler:
            profiler.disable()
        rounds.append(((time.process_time() - cpu0) / n * 1e3, (time.perf_counter() - wall0) / n * 1e3))
    cpu = sorted(r[0] for r in rounds)
    wall = sorted(r[1] for r in rounds)
    print(f"care orders through the test client on {database}, {args.rounds} rounds of {n}: "
          f"CPU ms/request best {cpu[0]:.2f}, median {cpu[len(cpu) // 2]:.2f} (this process only); "
          f"wall ms/request best {wall[0]:.2f}, median {wall[len(wall) // 2]:.2f}; "
          f"{statements[0] / n:.1f} SQL statements/request"
          + (" [under cProfile: times inflated]" if profiler else ""))
    if profiler and args.dump:
        profiler.dump_stats(args.dump)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)


def _prepare(app: Any, n_patients: int) -> list[tuple[str, int]]:
    from doorstep.accounts import create_user
    from doorstep.auth import Actor, issue_tokens
    from doorstep.db import session
    from doorstep.geography import districts
    from orders.catalogue import seed_catalogue
    from orders.service import add_address

    out = []
    with app.app_context():
        seed_catalogue()
        index = districts()
        for i in range(n_patients):
            user = create_user(f"profile-patient-{i}", "bench-password-1", "patient", name=f"Profile {i}")
            lat, lon = index.centroid(index.codes[i % len(index.codes)])
            actor = Actor(user_id=user.id, role="patient", patient_id=user.patient_id)
            address = add_address(actor, label="home", line=f"profile {i}", lat=lat, lon=lon)
            session.flush()
            out.append((issue_tokens(user)["access_token"], address.id))
        session.commit()
        session.remove()
    return out


if __name__ == "__main__":
    raise SystemExit(main())
