"""What the dispatcher's desk pages show and do, as plain data for the templates.

The views stay thin: they parse a form or a query string, call one function
here and render. Everything returned is a frozen dataclass of ids, codes,
numbers and times — never ORM rows — so a template cannot lazy-load a patient
by accident: the board shows order ids and districts, not names or addresses.
Like every service, nothing here commits; the view owns the transaction.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Date
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from dispatch.models import Alarm, Plan, Route, Worker
from doorstep.accounts import authenticate
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Forbidden, ValidationFailed
from doorstep.models import User
from orders.models import Order

DESK_ROLES = ("dispatcher", "admin")  # the dispatcher's board
PARCEL_ROLES = ("pharmacist", "dispatcher")  # the pharmacy desk (dispatchers read)
SIGN_IN_ROLES = ("dispatcher", "admin", "pharmacist")
KINDS = ("care", "delivery")
# Statuses in the order an order lives through them, so the table reads top to bottom.
STATUS_ORDER = ("requested", "awaiting_review", "accepted", "ready", "scheduled", "en_route",
                "picked_up", "out_for_delivery", "in_progress", "completed", "delivered",
                "rejected", "cancelled", "failed", "returned")
_TRAILING_ID = re.compile(r"(\d+)$")


@dataclass(frozen=True)
class DeskUser:
    actor: Actor
    username: str
    locale: str | None

    @property
    def may_use_desk(self) -> bool:
        """The dispatcher's board."""
        return self.actor.has_role(*DESK_ROLES)

    @property
    def may_use_parcels(self) -> bool:
        """The pharmacy desk."""
        return self.actor.has_role(*PARCEL_ROLES)

    @property
    def may_sign_in(self) -> bool:
        return self.actor.has_role(*SIGN_IN_ROLES)


@dataclass(frozen=True)
class StatusRow:
    status: str
    by_kind: dict[str, int]
    total: int


@dataclass(frozen=True)
class OrderCounts:
    rows: list[StatusRow]
    by_kind: dict[str, int]
    total: int


@dataclass(frozen=True)
class StopRow:
    sequence: int
    type: str
    start: datetime | None
    order_id: int | None
    district: str | None
    order_status: str | None


@dataclass(frozen=True)
class RouteRow:
    worker_id: int
    worker_name: str
    worker_kind: str
    task_count: int
    travel_minutes: int
    distance_m: int
    stops: list[StopRow]


@dataclass(frozen=True)
class UnassignedRow:
    task: str
    order_id: int | None
    district: str | None
    reason: str
    detail: str


@dataclass(frozen=True)
class PlanView:
    id: int
    status: str
    progress: float
    districts: list[str] | None
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    routes: list[RouteRow]
    unassigned: list[UnassignedRow]
    solve_seconds: float | None

    @property
    def assigned_count(self) -> int:
        return sum(route.task_count for route in self.routes)

    @property
    def travel_minutes(self) -> int:
        return sum(route.travel_minutes for route in self.routes)

    @property
    def distance_km(self) -> float:
        return round(sum(route.distance_m for route in self.routes) / 1000, 1)

    @property
    def order_ids(self) -> set[int]:
        stops = {s.order_id for r in self.routes for s in r.stops if s.order_id is not None}
        return stops | {u.order_id for u in self.unassigned if u.order_id is not None}


@dataclass(frozen=True)
class AlarmRow:
    id: int
    worker_name: str
    worker_kind: str
    at: datetime
    lat: float
    lon: float
    note: str | None


@dataclass(frozen=True)
class Board:
    date: str
    counts: OrderCounts
    plan: PlanView | None
    alarms: list[AlarmRow]


def sign_in(username: str, password: str) -> User:
    """The account, if the password is right and the role may use a desk (board or pharmacy).

    Raises ``Unauthorized`` for a wrong username or password (the same answer
    for both) and ``Forbidden`` for a right password but another role.
    """
    user = authenticate(username, password)
    if user.role not in SIGN_IN_ROLES:
        raise Forbidden("These pages are for dispatchers, pharmacists and administrators.")
    return user


def desk_user(user_id: Any) -> DeskUser | None:
    """Who the session cookie names, re-read on every request so a disabled account stops at once."""
    if not isinstance(user_id, int):
        return None
    user = session.get(User, user_id)
    if user is None or not user.active:
        return None
    actor = Actor(user_id=user.id, role=user.role, worker_id=user.worker_id,
                  pharmacy_id=user.pharmacy_id, patient_id=user.patient_id)
    return DeskUser(actor=actor, username=user.username, locale=user.locale)


def local_today(tz_name: str) -> str:
    """Today's date where the hospital is, not where the server's clock is."""
    return datetime.now(ZoneInfo(tz_name)).date().isoformat()


def parse_day(text: str | None, tz_name: str) -> str:
    """``YYYY-MM-DD`` from a form or query string; today (local) when empty.

    Raises ``ValidationFailed`` for anything else (``date.fromisoformat`` alone
    would also take ``20261123``, which no date picker sends).
    """
    if not text or not text.strip():
        return local_today(tz_name)
    text = text.strip()
    try:
        if len(text) == 10:
            return Date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise ValidationFailed("The date must look like YYYY-MM-DD.", {"date": ["Not a date (YYYY-MM-DD)."]})


def board(actor: Actor, day: str) -> Board:
    """Everything the board shows for ``day``; records that ``actor`` saw the plan's orders."""
    plan = latest_plan(day)
    if plan is not None and plan.order_ids:
        record_access(actor, "read", "plan", plan.id, view="admin_board", date=day,
                      order_ids=sorted(plan.order_ids))
    return Board(date=day, counts=order_counts(day), plan=plan, alarms=open_alarms())


def order_counts(day: str) -> OrderCounts:
    """Orders of ``day`` counted per status and kind, in lifecycle order."""
    query = (select(Order.kind, Order.status, func.count())
             .where(Order.service_date == day).group_by(Order.kind, Order.status))
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, status, count in session.execute(query):
        table[status][kind] = count
    known = [s for s in STATUS_ORDER if s in table]
    statuses = known + sorted(set(table) - set(known))
    rows = [StatusRow(status=s, by_kind={k: table[s].get(k, 0) for k in KINDS},
                      total=sum(table[s].values())) for s in statuses]
    by_kind = {k: sum(r.by_kind[k] for r in rows) for k in KINDS}
    return OrderCounts(rows=rows, by_kind=by_kind, total=sum(r.total for r in rows))


def latest_plan(day: str) -> PlanView | None:
    """The most recently requested plan of ``day``, with its routes and unassigned tasks."""
    plan = session.scalars(
        select(Plan).where(Plan.date == day).order_by(Plan.created_at.desc(), Plan.id.desc()).limit(1)
        .options(selectinload(Plan.routes).selectinload(Route.stops),
                 selectinload(Plan.routes).selectinload(Route.worker))
    ).first()
    if plan is None:
        return None
    unassigned_items = [item for item in (plan.unassigned or []) if isinstance(item, dict)]
    order_ids = {s.order_id for r in plan.routes for s in r.stops if s.order_id is not None}
    order_ids |= {i for i in map(_order_id_of, unassigned_items) if i is not None}
    orders = _order_facts(order_ids)
    summary = plan.summary or {}
    solve_seconds = summary.get("solve_seconds")
    return PlanView(
        id=plan.id, status=plan.status, progress=plan.progress or 0.0, districts=plan.districts,
        created_at=plan.created_at, finished_at=plan.finished_at, error=plan.error,
        routes=[_route_row(route, orders) for route in plan.routes],
        unassigned=[_unassigned_row(item, orders) for item in unassigned_items],
        solve_seconds=float(solve_seconds) if isinstance(solve_seconds, (int, float)) else None,
    )


def open_alarms() -> list[AlarmRow]:
    """SOS alarms nobody has acknowledged yet, newest first (whatever the day)."""
    query = (select(Alarm, Worker.name, Worker.kind).join(Worker, Alarm.worker_id == Worker.id)
             .where(Alarm.acknowledged_by.is_(None)).order_by(Alarm.at.desc(), Alarm.id.desc()))
    return [AlarmRow(id=alarm.id, worker_name=name, worker_kind=kind, at=alarm.at, lat=alarm.lat,
                     lon=alarm.lon, note=alarm.note)
            for alarm, name, kind in session.execute(query)]


def plan_day(actor: Actor, day: str) -> Plan:
    """Ask the dispatch service for a plan of ``day`` (queued; solved by a worker after commit)."""
    # Imported here: dispatch.service pulls in the optimiser, which the pages don't otherwise need.
    from dispatch.service import request_plan

    return request_plan(actor, date=day)


def _order_facts(order_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """``{order_id: (district, status)}``, reading only those columns (no patient rows)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    rows = session.execute(select(Order.id, Order.district, Order.status).where(Order.id.in_(ids)))
    return {order_id: (district, status) for order_id, district, status in rows}


def _route_row(route: Route, orders: dict[int, tuple[str, str]]) -> RouteRow:
    stops = [StopRow(sequence=stop.sequence, type=stop.type, start=stop.start or stop.arrival,
                     order_id=stop.order_id,
                     district=orders.get(stop.order_id, (None, None))[0] if stop.order_id else None,
                     order_status=orders.get(stop.order_id, (None, None))[1] if stop.order_id else None)
             for stop in route.stops]
    tasks = {stop.order_id for stop in route.stops if stop.order_id is not None}
    return RouteRow(worker_id=route.worker_id, worker_name=route.worker.name, worker_kind=route.worker.kind,
                    task_count=len(tasks), travel_minutes=round((route.travel_time_s or 0) / 60),
                    distance_m=route.distance_m or 0, stops=stops)


def _order_id_of(item: dict[str, Any]) -> int | None:
    """The order behind an unassigned task: ``order_id`` if stored, else the task id's number."""
    value = item.get("order_id")
    if isinstance(value, int):
        return value
    match = _TRAILING_ID.search(str(item.get("task", "")))
    return int(match.group(1)) if match else None


def _unassigned_row(item: dict[str, Any], orders: dict[int, tuple[str, str]]) -> UnassignedRow:
    candidate = _order_id_of(item)
    order_id = candidate if candidate in orders else None  # a task id's number need not be an order id
    district = item.get("district") or (orders[order_id][0] if order_id is not None else None)
    return UnassignedRow(task=str(item.get("task", "")), order_id=order_id, district=district,
                         reason=str(item.get("reason", "")), detail=str(item.get("detail", "")))
