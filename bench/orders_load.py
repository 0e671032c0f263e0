"""Order intake under load: care orders per second and their latency, over HTTP.

Serves the app with gunicorn on this machine, as in production (``Procfile``),
on a throwaway database, and drives ``POST /api/v1/care-orders`` with wrk
(``apt-get install wrk``): many patients at once, each request with its own
``Idempotency-Key``. The hospital's default open-order limit holds (3 per
patient), as in production: the bench makes enough patients (written in bulk)
that at ``--max-rate`` none is booked more than ``--orders-per-patient`` times
(2), each run booking its own patients in turn. Then it counts the orders in
the database: every 201 must be a committed order and nothing else may have
been written.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python -m bench.orders_load --duration 20

The database named in ``DATABASE_URL`` is only used to create and drop a
``doorstep_bench`` database beside it (PostgreSQL); without ``DATABASE_URL`` a
SQLite file in a temporary folder is used (SQLite serialises writers: expect
far less). Target (issue 5): at least 300 orders/s with p95 at most 50 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.throwaway import create_database, drop_database
from bench.wrk import REPORT_LUA, children, cpu_seconds, named

BENCH_DB = "doorstep_bench"
TARGET_RATE, TARGET_P95_MS = 300.0, 50.0
SERVICE_CODE = "vital_signs_check"

LUA = r"""
-- One care order per request, each with its own Idempotency-Key. Each run books the patients of its
-- own slice of the list in turn (wrk's threads interleaved), so a patient is booked again only after
-- every other patient of the slice: a few orders each, as the hospital's open-order limit allows.
local patients = {}
%(patients)s
local threads = 0
local counter = 0
local statuses = {}
local body = '{"service_code": "%(service)s", "address_id": %%d, "window": {"start": "%(start)s", "end": "%(end)s"}, "notes": "bench"}'

function setup(thread)
  threads = threads + 1
  thread:set("tid", math.random(1, 1000000000))
  thread:set("thread_no", threads)
end

function init(args)
  run = args[1] or "run"  -- "warmup" or "timed": their keys differ, so no request replays another's answer
  first = tonumber(args[2] or "1")  -- the run's slice of patients
  count = tonumber(args[3] or tostring(#patients))
  nthreads = tonumber(args[4] or "1")
end

function request()
  local p = patients[first + (counter * nthreads + thread_no - 1) %% count]
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. p[1]
  headers["Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", "/api/v1/care-orders", headers, string.format(body, p[2]))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    parser.add_argument("--connections", type=int, default=8,
                        help="open connections, each sending its next order when the last is answered (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes (default 4)")
    parser.add_argument("--max-rate", type=float, default=500.0,
                        help="orders/s the patient pool is sized for (default 500, above this machine's best; a faster run books a patient a third time, still under the limit)")
    parser.add_argument("--orders-per-patient", type=int, default=2,
                        help="bookings per patient at --max-rate, under the hospital's open-order limit "
                             "(DOORSTEP_MAX_OPEN_CARE_ORDERS, default 3, kept) (default 2)")
    parser.add_argument("--worker-class", default="sync",
                        help="gunicorn worker class: sync (default), or gthread as gunicorn.conf.py has it for the "
                             "Procfile's web; with wrk's few keep-alive connections gthread piles them onto one "
                             "process (measured: half the rate), which many phones behind a router do not")
    parser.add_argument("--gthreads", type=int, default=4, help="threads per worker with gthread (default 4)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="seconds of untimed load first, so that every worker has loaded the app (default 3)")
    parser.add_argument("--port", type=int, default=8731)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench.orders_load needs wrk: apt-get install wrk", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="doorstep-bench-"))
    env = _environment(work)
    server = None
    try:
        slices = _slices(args)
        patients = _prepare(env, sum(n for _, n in slices.values()))
        server = _serve(env, args)
        figures = _load(work, patients, slices, args, server.pid)
        figures["orders_in_database"], figures["most_per_patient"] = _count_orders(env)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        _drop_database(env)
        shutil.rmtree(work, ignore_errors=True)
    _report(figures, args)
    return 0


def _environment(work: Path) -> dict[str, str]:
    """The server's environment: a database of its own, the hospital's default limits."""
    env = dict(os.environ, DOORSTEP_INSTANCE_PATH=str(work), SECRET_KEY="bench-secret-that-is-long-enough-for-hs256",
               DOORSTEP_ACCESS_TOKEN_MINUTES="120")
    env.pop("DOORSTEP_MAX_OPEN_CARE_ORDERS", None)
    database = create_database(BENCH_DB)
    if database is not None:
        env["DATABASE_URL"] = database
    else:
        env.pop("DATABASE_URL", None)
    return env


def _drop_database(env: dict[str, str]) -> None:
    if env.get("DATABASE_URL", "").endswith(f"/{BENCH_DB}"):
        drop_database(BENCH_DB)


def _slices(args: argparse.Namespace) -> dict[str, tuple[int, int]]:
    """Each run's patients, (first, how many), 1-based as in Lua: enough that at ``--max-rate`` none is
    booked more than ``--orders-per-patient`` times. The warm-up has patients of its own, so its orders
    stay open beside the timed run's without counting against them."""
    def sized(seconds: int) -> int:
        return max(1, -(-int(args.max_rate * seconds) // args.orders_per_patient))

    warmup, timed = sized(args.warmup), sized(args.duration)
    return {"warmup": (1, warmup), "timed": (1 + warmup, timed)}


def _prepare(env: dict[str, str], n_patients: int) -> list[tuple[str, int]]:
    """Migrate, then make patients with an account and an address each, written in bulk with Core
    (through the service, one by one with a password hash each, thousands take minutes); returns
    (access token, address id) pairs. The account's password is never used: the token is issued here."""
    bin_dir = Path(sys.executable).parent
    subprocess.run([str(bin_dir / "doorstep"), "db", "upgrade"], env=env, check=True, capture_output=True)
    code = f"""
import json, sys
from types import SimpleNamespace
from sqlalchemy import insert
from doorstep.app import create_app
from doorstep.auth import hash_password, issue_tokens
from doorstep.db import session
from doorstep.geography import districts
from doorstep.models import User
from orders.models import Address, Patient
app = create_app()
n = {n_patients}
with app.app_context():
    index = districts()
    places = [(index.centroid(code), code) for code in index.codes]
    patient_ids = session.scalars(insert(Patient).returning(Patient.id, sort_by_parameter_order=True),
                                  [dict(name=f"Bench {{i}}") for i in range(n)]).all()
    password_hash = hash_password("bench-password-1")
    user_ids = session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True),
                               [dict(username=f"bench-patient-{{i}}", password_hash=password_hash, role="patient",
                                     patient_id=pid) for i, pid in enumerate(patient_ids)]).all()
    address_ids = session.scalars(insert(Address).returning(Address.id, sort_by_parameter_order=True),
                                  [dict(patient_id=pid, label="home", line=f"bench {{i}}", lat=places[i % len(places)][0][0],
                                        lon=places[i % len(places)][0][1], district=places[i % len(places)][1])
                                   for i, pid in enumerate(patient_ids)]).all()
    session.commit()
    out = []
    for uid, pid, aid in zip(user_ids, patient_ids, address_ids):
        user = SimpleNamespace(id=uid, role="patient", worker_id=None, pharmacy_id=None, patient_id=pid)
        out.append((issue_tokens(user)["access_token"], aid))
json.dump(out, sys.stdout)
"""
    result = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return [tuple(p) for p in json.loads(result.stdout)]


def _serve(env: dict[str, str], args: argparse.Namespace) -> subprocess.Popen[bytes]:
    """gunicorn with the project's gunicorn.conf.py (the Procfile's web), the bench's workers and port."""
    bin_dir, port = Path(sys.executable).parent, args.port
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-c", str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"),
         "-w", str(args.workers), "-k", args.worker_class,
         "--threads", str(args.gthreads if args.worker_class == "gthread" else 1),  # sync with threads is gthread
         # gthread: each worker takes its share of wrk's connections, as in bench.pings (wrk opens them
         # all at once and keeps them; one process taking most of them leaves a core idle).
         *(["--worker-connections", str(-(-args.connections // args.workers))] if args.worker_class == "gthread" else []),
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "doorstep.wsgi:app"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def _window() -> tuple[str, str]:
    """Three days ahead, 09:00-11:00 in Tianjin: inside any booking lead time and service hours."""
    day = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    start = day.replace(hour=9)
    return start.isoformat(), (start + timedelta(hours=2)).isoformat()


def _load(work: Path, patients: list[tuple[str, int]], slices: dict[str, tuple[int, int]],
          args: argparse.Namespace, server_pid: int) -> dict[str, Any]:
    start, end = _window()
    rows = "\n".join(f'patients[{i + 1}] = {{"{token}", {address}}}' for i, (token, address) in enumerate(patients))
    script = work / "orders.lua"
    script.write_text((LUA + REPORT_LUA) % {"patients": rows, "service": SERVICE_CODE, "start": start, "end": end})
    print(f"wrk: {args.connections} connections, {args.duration} s, gunicorn {args.workers} workers ...",
          file=sys.stderr)
    # Untimed first: /healthz answers once one worker has imported the app (about 3 s of CPU each),
    # and a server in service is warm (every worker loaded, statements prepared on its connections).
    warmup = _wrk(script, args, args.warmup, "warmup", slices) if args.warmup > 0 else {"requests": 0, "errors": 0}
    workers = children(server_pid)
    before = cpu_seconds(workers), cpu_seconds(named("postgres"))
    figures = _wrk(script, args, args.duration, "timed", slices)
    after = cpu_seconds(workers), cpu_seconds(named("postgres"))
    figures["warmup_created"] = warmup["requests"] - warmup["errors"]
    figures["warmup_failed"] = warmup["errors"]
    figures["patients"] = len(patients)
    # CPU the server spent (its workers; PostgreSQL's backends on this machine, 0 elsewhere): steadier
    # than the rate when other work shares the cores.
    figures["cpu_s"] = {"gunicorn": after[0] - before[0], "postgres": after[1] - before[1]}
    return figures


def _wrk(script: Path, args: argparse.Namespace, seconds: int, run: str,
         slices: dict[str, tuple[int, int]]) -> dict[str, Any]:
    first, count = slices[run]
    result = subprocess.run(
        ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s",
         "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{args.port}",
         "--", run, str(first), str(count), str(args.threads)],
        capture_output=True, text=True, check=True)
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("BENCH "))
    return json.loads(line[len("BENCH "):])


def _count_orders(env: dict[str, str]) -> tuple[int, int]:
    """Care orders in the database, and the most that any one patient has."""
    code = """
from sqlalchemy import func, select
from doorstep.app import create_app
from doorstep.db import session
from orders.models import CareOrder
app = create_app()
with app.app_context():
    per_patient = select(func.count().label("n")).select_from(CareOrder).group_by(CareOrder.patient_id).subquery()
    print(session.scalar(select(func.count()).select_from(CareOrder)), session.scalar(select(func.max(per_patient.c.n))) or 0)
"""
    result = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    total, most = result.stdout.strip().splitlines()[-1].split()
    return int(total), int(most)


def _report(f: dict[str, Any], args: argparse.Namespace) -> None:
    ok = f["requests"] - f["errors"]
    rate = ok / f["seconds"] if f["seconds"] else 0.0
    print(f"care orders: {ok} created in {f['seconds']:.1f} s = {rate:.0f} orders/s "
          f"(target >= {TARGET_RATE:.0f}); latency p50 {f['p50_ms']:.1f} ms, p95 {f['p95_ms']:.1f} ms "
          f"(target <= {TARGET_P95_MS:.0f}), p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.0f} ms")
    # wrk stops counting at the deadline while up to one request per connection is still in flight.
    # The warm-up's orders are in the database too; each run may leave one per connection uncounted.
    committed = ok + f["warmup_created"] <= f["orders_in_database"] <= ok + f["warmup_created"] + 2 * args.connections
    print(f"failed requests (non-2xx or socket errors): {f['errors']} (warm-up: {f['warmup_failed']}); orders in the database: "
          f"{f['orders_in_database']}, {f['warmup_created']} of them from the {args.warmup} s warm-up "
          f"(every 201 committed, nothing else written: {'yes' if committed else 'NO'}); "
          f"{f['patients']} patients, at most {f['most_per_patient']} orders each")
    cpu, n = f["cpu_s"], max(ok, 1)
    print(f"CPU per order: gunicorn workers {cpu['gunicorn'] / n * 1e3:.2f} ms, PostgreSQL {cpu['postgres'] / n * 1e3:.2f} ms "
          f"(of {2 * f['seconds']:.0f} s on 2 cores: {cpu['gunicorn'] + cpu['postgres']:.1f} s)")
    kind = f"gthread workers x {args.gthreads} threads" if args.worker_class == "gthread" else "sync workers"
    print(f"setup: gunicorn {args.workers} {kind}, wrk {args.threads} thread(s) x {args.connections} "
          f"connections, {f['patients']} patients (sized for {args.max_rate:.0f}/s, {args.orders_per_patient} orders each), database {'PostgreSQL' if os.environ.get('DATABASE_URL') else 'SQLite'}")


if __name__ == "__main__":
    raise SystemExit(main())
