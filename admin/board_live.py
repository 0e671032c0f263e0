"""What the dispatcher's board adds to the plan's tables: the map, the timelines, the live lists.

Plain data for the templates and the board's script, built from the database and the
position store. The map's points are converted to the tile server's system
(``DOORSTEP_TILE_CRS``: GCJ-02 for AMap-style tiles) here, server-side, so the
script draws what it is given. Nothing here commits; the views own the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.models import Route, Shift, Worker, WorkerAbsence
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from orders.models import Address, Order
from routing.crs import from_wgs84

# Route colours: distinct hues, each at least 3:1 against the map's plain background and white.
PALETTE = ("#0b57d0", "#b3261e", "#146c2e", "#8e24aa", "#b45309", "#00796b", "#c2185b", "#3949ab",
           "#5d4037", "#0e7490")
TASK_STOPS = ("visit", "pickup", "dropoff")
DAY_FROM, DAY_TO = 7, 21  # the timelines' hours (local), widened to fit any shift


def colour(n: int) -> str:
    return PALETTE[n % len(PALETTE)]


# --- the map --------------------------------------------------------------------------------------

def map_data(plan_id: int | None, day: str) -> dict[str, Any]:
    """The map's layers as JSON-ready data: districts, routes (a colour each), live positions,
    unassigned tasks; every point in the tile server's system, ``[lat, lon]``."""
    from doorstep.geography import districts

    settings = current_app.config["SETTINGS"]
    crs = settings.tile_crs
    routes = _routes(plan_id)
    return {
        "crs": crs,
        "tiles": settings.tile_url,
        "districts": districts().to_geojson(crs),
        "routes": [{"worker_id": r.worker_id, "colour": colour(n), "name": r.worker.name,
                    "points": [_point(s.lat, s.lon, crs) for s in r.stops if s.lat is not None and s.lon is not None],
                    "stops": [{"order_id": s.order_id, "type": s.type, "point": _point(s.lat, s.lon, crs)}
                              for s in r.stops if s.type in TASK_STOPS and s.lat is not None]}
                   for n, r in enumerate(routes)],
        "positions": positions([r.worker_id for r in routes]),
        "unassigned": _unassigned_points(plan_id, crs),
    }


def positions(worker_ids: list[int]) -> list[dict[str, Any]]:
    """Each worker's last kept position (``mobile_api.positions``), in the tile server's system."""
    from mobile_api.positions import last_position

    crs = current_app.config["SETTINGS"].tile_crs
    found = []
    for worker_id in worker_ids:
        ping = last_position(worker_id)
        if ping is not None:
            found.append({"worker_id": worker_id, "point": _point(ping.lat, ping.lon, crs),
                          "at": ping.at.isoformat()})
    return found


def route_workers(plan_id: int | None) -> list[int]:
    return [r.worker_id for r in _routes(plan_id)]


def _routes(plan_id: int | None) -> list[Route]:
    if plan_id is None:
        return []
    return list(session.scalars(select(Route).where(Route.plan_id == plan_id).order_by(Route.id)
                                .options(selectinload(Route.stops), selectinload(Route.worker))))


def _unassigned_points(plan_id: int | None, crs: str) -> list[dict[str, Any]]:
    from dispatch.models import Plan

    plan = session.get(Plan, plan_id) if plan_id else None
    items = [u for u in (plan.unassigned or []) if isinstance(u, dict)] if plan else []
    ids = {u.get("order_id") for u in items if isinstance(u.get("order_id"), int)}
    if not ids:
        return []
    rows = session.execute(select(Order.id, Address.lat, Address.lon).join(Address, Order.address_id == Address.id)
                           .where(Order.id.in_(sorted(ids))))
    where = {order_id: (lat, lon) for order_id, lat, lon in rows}
    return [{"order_id": u["order_id"], "reason": u.get("reason", ""), "point": _point(*where[u["order_id"]], crs)}
            for u in items if u.get("order_id") in where]


def _point(lat: float, lon: float, crs: str) -> list[float]:
    if crs != "wgs84":
        lat, lon = from_wgs84(lat, lon, crs)
    return [round(lat, 6), round(lon, 6)]


# --- timelines ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Span:
    """A bar on a timeline: ``left`` and ``width`` in percent of the day's hours."""

    left: float
    width: float
    kind: str  # shift, window, visit, pickup, dropoff, break
    label: str
    order_id: int | None = None


@dataclass(frozen=True)
class Timeline:
    worker_id: int
    worker_name: str
    colour: str
    spans: list[Span]


@dataclass(frozen=True)
class Timelines:
    hours: list[tuple[int, float]]  # (hour, left %)
    rows: list[Timeline]


def timelines(plan_id: int | None, day: str) -> Timelines:
    """One row per route: the worker's shifts, each task's window and planned time, the breaks."""
    tz = ZoneInfo(current_app.config["SETTINGS"].timezone)
    routes = _routes(plan_id)
    day_start = datetime.combine(datetime.fromisoformat(day).date(), time(0), tz)
    shifts = _shifts([r.worker_id for r in routes], day_start)
    first = min([DAY_FROM, *(int((s.start - day_start).total_seconds() // 3600) for v in shifts.values() for s in v)])
    last = max([DAY_TO, *(-int(-(s.end - day_start).total_seconds() // 3600) for v in shifts.values() for s in v)])
    first, last = max(first, 0), min(last, 24)
    start, minutes = day_start + timedelta(hours=first), (last - first) * 60

    def span(a: datetime | None, b: datetime | None, kind: str, label: str, order_id: int | None = None) -> Span | None:
        if a is None or b is None:
            return None
        left = max(0.0, (a - start).total_seconds() / 60 / minutes * 100)
        right = min(100.0, (b - start).total_seconds() / 60 / minutes * 100)
        if right <= left:
            right = min(100.0, left + 0.4)
        return Span(round(left, 2), round(right - left, 2), kind, label, order_id)

    windows = _windows({s.order_id for r in routes for s in r.stops if s.order_id is not None})
    rows = []
    for n, route in enumerate(routes):
        spans = [span(s.start, s.end, "shift", _hhmm(s.start, tz) + "–" + _hhmm(s.end, tz))
                 for s in shifts.get(route.worker_id, [])]
        for stop in route.stops:
            if stop.type == "break":
                spans.append(span(stop.start, stop.end, "break", _hhmm(stop.start, tz)))
            elif stop.type in TASK_STOPS:
                window = windows.get(stop.order_id) if stop.type != "pickup" else None
                if window is not None:
                    spans.append(span(*window, "window", f"#{stop.order_id} {_hhmm(window[0], tz)}–"
                                                         f"{_hhmm(window[1], tz)}", stop.order_id))
                begin = stop.start or stop.arrival
                spans.append(span(begin, stop.end or begin, stop.type,
                                  f"#{stop.order_id} {_hhmm(begin, tz)}", stop.order_id))
        rows.append(Timeline(route.worker_id, route.worker.name, colour(n), [s for s in spans if s is not None]))
    hours = [(h, round((h - first) / (last - first) * 100, 2)) for h in range(first, last + 1)]
    return Timelines(hours, rows)


def _shifts(worker_ids: list[int], day_start: datetime) -> dict[int, list[Shift]]:
    found: dict[int, list[Shift]] = {}
    if not worker_ids:
        return found
    for shift in session.scalars(select(Shift).where(Shift.worker_id.in_(worker_ids),
                                                     Shift.start < day_start + timedelta(days=1),
                                                     Shift.end > day_start).order_by(Shift.start)):
        found.setdefault(shift.worker_id, []).append(shift)
    return found


def _windows(order_ids: set[int]) -> dict[int, tuple[datetime, datetime]]:
    if not order_ids:
        return {}
    rows = session.execute(select(Order.id, Order.window_start, Order.window_end).where(Order.id.in_(sorted(order_ids))))
    return {i: (a, b) for i, a, b in rows if a is not None and b is not None}


def _hhmm(value: datetime | None, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%H:%M") if value else "—"


# --- the office's lists ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WorkerChoice:
    id: int
    name: str
    kind: str
    off: bool


def workers_of_day(day: str) -> list[WorkerChoice]:
    """Active workers with a shift on ``day`` (for the board's forms), and whether they are off."""
    tz = ZoneInfo(current_app.config["SETTINGS"].timezone)
    day_start = datetime.combine(datetime.fromisoformat(day).date(), time(0), tz)
    on_shift = set(session.scalars(select(Shift.worker_id).where(Shift.start < day_start + timedelta(days=1),
                                                                 Shift.end > day_start)))
    off = set(session.scalars(select(WorkerAbsence.worker_id).where(WorkerAbsence.date == day)))
    workers = session.scalars(select(Worker).where(Worker.active.is_(True), Worker.id.in_(sorted(on_shift)))
                              .order_by(Worker.kind, Worker.name))
    return [WorkerChoice(w.id, w.name, w.kind, w.id in off) for w in workers]


@dataclass(frozen=True)
class ExceptionRow:
    id: int
    kind: str
    worker_name: str | None
    order_id: int | None
    event_type: str | None
    distance_m: int | None
    requested_at: datetime | None
    created_at: datetime


def open_exceptions(actor: Actor, limit: int = 50) -> list[ExceptionRow]:
    """The visit-verification queue's open exceptions, newest first (the read is audited)."""
    from mobile_api.evv import list_exceptions

    query = list_exceptions(actor, status="open").limit(limit)
    exceptions = list(session.scalars(query))
    names = dict(session.execute(select(Worker.id, Worker.name).where(
        Worker.id.in_(sorted({e.worker_id for e in exceptions if e.worker_id})))).all()) if exceptions else {}
    return [ExceptionRow(e.id, e.kind, names.get(e.worker_id), e.order_id, e.event_type, e.distance_m,
                         e.requested_at, e.created_at) for e in exceptions]


@dataclass(frozen=True)
class LateRow:
    worker_id: int
    worker_name: str
    order_id: int | None
    minutes_behind: int
    past_window: bool


def late_workers(day: str) -> list[LateRow]:
    """Workers behind their plan now (the live feed's ``worker_late`` rule), for today's board only."""
    from dispatch.live_events import _lateness, _todays_routes

    settings = current_app.config["SETTINGS"]
    now = utcnow()
    if now.astimezone(ZoneInfo(settings.timezone)).date().isoformat() != day:
        return []
    rows = []
    for route in _todays_routes(day):
        late = _lateness(route, now, settings.late_after_minutes)
        if late is not None:
            rows.append(LateRow(route.worker_id, route.worker.name, late.order_id, late.minutes_behind,
                                late.past_window))
    return rows
