"""A simulated day: a city's day of home care played at 60x against real servers and workers.

Seeds the demo hospital (``doorstep seed demo``: 12 nurses, 8 couriers, 60
patients, ~60 visits, ~120 parcels) for a day two days ahead in a throwaway
instance, starts the servers as the Procfile does (gunicorn, a Celery worker
per queue, beat; ``doorstep serve`` on the embedded defaults) with their clocks
running ``--speed`` times fast from 06:30 of that day (libfaketime), then plays
the day over HTTP (``bench.day_play``): triage and review, the plan, every
worker following their route at the plan's travel times with position pings,
urgent orders, patients cancelling, a worker running late, failed deliveries
(one re-delivered, one returned), SOS presses acknowledged, a nurse off sick at
noon. At the end whoever is on the way to a stop or at it finishes it, the
office closes what is left, and the checks run:

- every order in a final status;
- no fixed stop moved: a stop once under way or done keeps its worker, its
  place among that worker's fixed stops, and its times (as last seen done);
- no task on two workers, in every plan snapshot read (after each version);
- and no 5xx answer.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/0 \\
        python -m bench.day --seed 1

Exit status 1 when a check fails. Needs ``apt-get install -y faketime``.
"""
from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tqdm import tqdm

from bench import day_servers
from bench.day_play import FINAL, Day
from doorstep.settings import Settings
from doorstep.travel import make_travel

TZ = ZoneInfo("Asia/Shanghai")

# Run in a process of the instance (real clock): seed, give every worker an account, issue tokens.
PREPARE = r"""
import json, secrets, sys
from sqlalchemy import select
import doorstep.seed as seed
from doorstep.app import create_app
from doorstep.accounts import create_user
from doorstep.auth import issue_tokens
from doorstep.db import session
from doorstep.models import User
from dispatch.models import Worker
from orders.models import Order, Pharmacy, Address

day, seed_value, size = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
for name, value in size.items():
    setattr(seed, name, value)
app = create_app()
with app.app_context():
    from datetime import date
    seed.seed_demo(date.fromisoformat(day), seed=seed_value)
    session.flush()
    token = lambda user: issue_tokens(user)["access_token"]
    users = {u.username: u for u in session.scalars(select(User))}
    out = {"date": day, "dispatcher": token(users["demo_dispatcher"]), "triage_nurse": token(users["demo_nurse"]),
           "pharmacists": {}, "workers": [], "patients": {}, "orders": {}}
    by_worker = {u.worker_id: u for u in users.values() if u.worker_id}
    for worker in session.scalars(select(Worker).order_by(Worker.id)):
        user = by_worker.get(worker.id) or create_user(f"day_{worker.kind}_{worker.id}", secrets.token_urlsafe(12),
                                                       worker.kind, worker_id=worker.id)
        out["workers"].append({"id": worker.id, "kind": worker.kind, "token": token(user),
                               "home": {"lat": worker.home_lat, "lon": worker.home_lon}})
    serves = {}
    for pharmacy in session.scalars(select(Pharmacy)):
        user = next(u for u in users.values() if u.pharmacy_id == pharmacy.id)
        out["pharmacists"][pharmacy.id] = token(user)
        for name, _lat, _lon, districts in seed.PHARMACIES:
            if name == pharmacy.name:
                serves.update({d: pharmacy.id for d in districts})
    for user in users.values():
        if user.role == "patient" and user.patient_id:
            address = session.scalar(select(Address).where(Address.patient_id == user.patient_id))
            out["patients"][user.patient_id] = {"token": token(user), "address_id": address.id,
                                                "pharmacy_id": serves[address.district]}
    for order in session.scalars(select(Order)):
        out["orders"][order.id] = {"kind": order.kind, "patient_id": order.patient_id, "status": order.status,
                                   "pharmacy_id": getattr(order, "pharmacy_id", None)}
    session.commit()
json.dump(out, sys.stdout)
"""

SIZES = {
    "full": {},  # the demo hospital as it is
    "tiny": {"NURSES": 3, "COURIERS": 1, "PATIENTS": 2, "BOOKING_PATIENTS": 2, "CARE_ORDERS": 2,
             "DELIVERY_ORDERS": 2, "LEFT_FOR_TRIAGE": 0, "LEFT_FOR_REVIEW": 0},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=60.0, help="how much faster than real time (default 60)")
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--urgent", type=int, default=8, help="urgent orders during the day (default 8)")
    parser.add_argument("--end", default="19:00", help="the office closes the day at this time (default 19:00)")
    parser.add_argument("--solver-seconds", type=float, default=5.0,
                        help="real seconds per solve (default 5; on the embedded defaults at most 1)")
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the database and the instance folder")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    figures = run(args)
    print(report(figures))
    return 0 if figures["ok"] else 1


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.monotonic()
    day = date.today() + timedelta(days=2)
    work = Path(tempfile.mkdtemp(prefix="doorstep-day-"))
    embedded_probe = day_servers.environment(work, speed=args.speed, solver_s=args.solver_seconds)
    instance = embedded_probe
    if not (instance.postgres_admin and instance.redis):
        # doorstep serve's worker keeps Celery's default time limits (120 s soft), counted on the fast clock.
        instance.env["DOORSTEP_SOLVER_TIME_LIMIT"] = str(max(1, int(min(args.solver_seconds * args.speed, 60))))
    port = args.port or _free_port()
    try:
        _log(args, f"instance {work} ({instance.database}); migrating and seeding {day} ...")
        subprocess.run([str(day_servers.BIN / "doorstep"), "db", "upgrade"], env=instance.env, check=True,
                       capture_output=True)
        people = json.loads(subprocess.run(
            [sys.executable, "-c", PREPARE, day.isoformat(), str(args.seed), json.dumps(SIZES[args.size])],
            env=instance.env, check=True, capture_output=True, text=True).stdout)
        day_start = datetime.combine(day, datetime.min.time(), TZ).replace(hour=6, minute=30)
        day_servers.start(instance, day_start=day_start, speed=args.speed, port=port, web_workers=args.web_workers)
        assert instance.fake_anchor is not None
        clock = day_servers.SimClock(instance.fake_anchor, args.speed, TZ)
        _log(args, f"servers up; their clock says {clock.now():%Y-%m-%d %H:%M} ({args.speed:g}x)")
        hour, minute = map(int, args.end.split(":"))
        # The player's legs: the servers' own travel settings, so a ride lasts what the plan gave it.
        travel = make_travel(Settings.from_env(instance.env))
        the_day = Day(f"http://127.0.0.1:{port}", clock, people, travel=travel, seed=args.seed, urgent=args.urgent,
                      end=day_start.replace(hour=hour, minute=minute), quiet=args.quiet)
        total = int((the_day.end - clock.now()).total_seconds() // 60)
        with tqdm(total=total, desc="day", unit="min", file=sys.stderr, disable=args.quiet, mininterval=2) as bar:
            def progress(now: datetime) -> None:
                bar.n = min(total, int((now - day_start).total_seconds() // 60))
                bar.set_postfix_str(f"{now:%H:%M} events {the_day.ledger.events_played}", refresh=False)
            play_began = time.monotonic()
            the_day.play(progress)
            played_s = time.monotonic() - play_began
        figures = check(the_day)
        figures.update(wall_s=time.monotonic() - began, played_s=played_s, played_until=f"{clock.now():%H:%M}",
                       database=instance.database, speed=args.speed, size=args.size, seed=args.seed,
                       day=day.isoformat(), logs=str(work / "logs") if args.keep else None)
        return figures
    finally:
        day_servers.stop(instance)
        day_servers.drop(instance, args.keep)


def check(day: Day) -> dict[str, Any]:
    """The end-of-day checks and figures, read over HTTP as the dispatcher."""
    ledger, final_plan = day.ledger, day.plan_snapshot or {}
    statuses = {order_id: day.status_of(order_id) for order_id in day.orders}
    not_final = {i: s for i, s in statuses.items() if s not in FINAL[day.orders[i]["kind"]]}
    moved = fixed_stops_moved(ledger.fixed, final_plan)
    versions = day.dispatcher.get(f"/api/v1/dispatch/plans/{day.plan_id}/versions?page_size=200").json()
    kinds: dict[str, int] = {}
    for version in versions:
        kinds[version.get("kind", "?")] = kinds.get(version.get("kind", "?"), 0) + 1
    evv: dict[str, int] = {}
    page = 1
    while True:
        response = day.dispatcher.get(f"/api/v1/evv/exceptions?status=open&page={page}&page_size=200")
        rows = response.json() if response.status_code == 200 else []
        for row in rows:
            evv[row["kind"]] = evv.get(row["kind"], 0) + 1
        if len(rows) < 200:
            break
        page += 1
    latencies = sorted(u["latency_s"] for u in ledger.urgent if u["latency_s"] is not None)
    by_status: dict[str, int] = {}
    for status in statuses.values():
        by_status[status] = by_status.get(status, 0) + 1
    http = day.http
    return {
        "ok": not not_final and not moved and not ledger.double_assigned and not http.server_errors,
        "orders": len(statuses), "by_status": by_status, "not_final": not_final,
        "fixed_stops": len(ledger.fixed), "moved": moved, "snapshots": ledger.snapshots,
        "double_assigned": ledger.double_assigned, "events": ledger.events_played, "pings": ledger.pings,
        "versions": kinds, "urgent": len(ledger.urgent), "urgent_scheduled": len(latencies),
        "urgent_p50_s": _pct(latencies, 50), "urgent_p95_s": _pct(latencies, 95),
        "cancellations": ledger.cancellations, "late_workers": ledger.late_workers,
        "failed_deliveries": ledger.failed_deliveries, "redeliveries": ledger.redeliveries,
        "returned": ledger.returned, "sos": ledger.sos, "sos_acknowledged": ledger.sos_acknowledged,
        "off_sick": ledger.off_sick, "evv": evv, "finished_after_close": ledger.finished_after_close,
        "closed_unassigned": ledger.closed_unassigned,
        "closed_other": ledger.closed_other, "requests": http.requests,
        "http_5xx": len(http.server_errors), "server_errors": http.server_errors[:10],
        "http_4xx": sum(n for s, n in http.by_status.items() if 400 <= s < 500),
        "unexpected_4xx": http.unexpected[:10],
    }


def fixed_stops_moved(fixed: dict[int, Any], plan: dict[str, Any]) -> list[str]:
    """Each fixed stop against the final plan: same worker, same fixed stops before it, same times."""
    where: dict[int, tuple[int, dict[str, Any]]] = {}
    order_on_route: dict[int, list[int]] = {}
    for route in plan.get("routes", []):
        order_on_route[route["worker_id"]] = [s["id"] for s in route["stops"]]
        for stop in route["stops"]:
            where[stop["id"]] = (route["worker_id"], stop)
    problems = []
    for stop_id, seen in fixed.items():
        if stop_id not in where:
            problems.append(f"stop {stop_id} (order {seen.order_id}) is gone from the final plan")
            continue
        worker_id, stop = where[stop_id]
        if worker_id != seen.worker_id:
            problems.append(f"stop {stop_id} moved from worker {seen.worker_id} to {worker_id}")
            continue
        sequence = order_on_route[worker_id]
        before = [s for s in sequence[:sequence.index(stop_id)] if s in fixed]
        if tuple(s for s in before) != seen.neighbours_before[:len(before)] or \
                not set(seen.neighbours_before) <= set(before):
            problems.append(f"stop {stop_id}: fixed stops before it were {list(seen.neighbours_before)}, "
                            f"now {before}")
        times = tuple(_instant(stop.get(k)) for k in ("arrival", "start", "end"))
        if times != tuple(_instant(t) for t in seen.times):
            problems.append(f"stop {stop_id}: times {seen.times} became {times}")
    return problems


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


def _pct(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(f: dict[str, Any]) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v * 1000:.0f} ms"

    closed = ", ".join(f"{k}: {v}" for k, v in f["closed_other"].items()) or "none"
    lines = [
        (f"simulated day {f['day']} at {f['speed']:g}x, {f['size']} size, seed {f['seed']}, {f['database']}; "
        f"played until {f['played_until']} in {f['played_s']:.0f} s, wall time {f['wall_s']:.0f} s"),
        f"orders: {f['orders']} ({', '.join(f'{k} {v}' for k, v in sorted(f['by_status'].items()))})",
        f"every order final: {'yes' if not f['not_final'] else 'NO ' + str(f['not_final'])}",
        f"no fixed stop moved: {'yes' if not f['moved'] else 'NO'} ({f['fixed_stops']} fixed stops checked)"
        + "".join(f"\n  {m}" for m in f["moved"][:10]),
        f"no task on two workers: {'yes' if not f['double_assigned'] else 'NO'} ({f['snapshots']} plan snapshots)"
        + "".join(f"\n  {m}" for m in f["double_assigned"][:10]),
        f"events played: {f['events']} stop reports, {f['pings']} position pings; HTTP requests {f['requests']}",
        f"plan versions: {', '.join(f'{k} {v}' for k, v in sorted(f['versions'].items())) or 'none'}",
        (f"urgent insertions: {f['urgent']} accepted, {f['urgent_scheduled']} scheduled; latency from acceptance "
        f"to scheduled as seen by the client: p50 {ms(f['urgent_p50_s'])}, p95 {ms(f['urgent_p95_s'])}"),
        (f"patient cancellations: {f['cancellations']}; late workers: {len(f['late_workers'])}; off sick: "
        f"{len(f['off_sick'])}; SOS: {f['sos']} ({f['sos_acknowledged']} acknowledged)"),
        f"failed deliveries: {f['failed_deliveries']} ({f['redeliveries']} re-delivered, {f['returned']} returned)",
        (f"EVV exceptions open: {sum(f['evv'].values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(f['evv'].items())) or 'none'})"),
        (f"under way at the close, finished: {len(f['finished_after_close'])}"
         + "".join(f"\n  {s}" for s in f["finished_after_close"][:10])),
        f"closed by the office at the end: {f['closed_unassigned']} unassigned orders cancelled; others: {closed}",
        f"HTTP: {f['http_5xx']} 5xx, {f['http_4xx']} 4xx" + "".join(f"\n  {e}" for e in f["server_errors"])
        + "".join(f"\n  unexpected: {e}" for e in f["unexpected_4xx"]),
        f"result: {'PASS' if f['ok'] else 'FAIL'}",
    ]
    return "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
