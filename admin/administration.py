"""What the administration pages show: workers, catalogue, districts, accounts and the audit log.

Who may open which page is decided here (``may_*``), once, for the views and the
navigation alike. Changes go through the same service functions as the API
(``dispatch.workers``, ``dispatch.replan.worker_off``, ``orders.catalogue``,
``doorstep.accounts``); this module only reads, into frozen rows for the templates.
Reading the audit log is itself audited. Nothing here commits.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import select

from dispatch.models import Shift, Worker, WorkerAbsence
from dispatch.workers import list_workers
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.models import AuditEntry, User
from orders.models import Pharmacy

WORKER_MANAGERS = ("admin", "dispatcher")  # as the workers API
ADMINS = ("admin",)
STAFF_ROLES = ("admin", "dispatcher", "pharmacist", "nurse", "courier")  # accounts made on these pages
AUDIT_PAGE_SIZE = 50
SVG_WIDTH = 640  # px of the district map's viewBox; its height follows the districts' shape


def may_manage_workers(actor: Actor) -> bool:
    return actor.has_role(*WORKER_MANAGERS)


def may_administer(actor: Actor) -> bool:
    """The catalogue, accounts and the audit log."""
    return actor.has_role(*ADMINS)


def may_view_districts(actor: Actor) -> bool:
    return actor.has_role("admin", "dispatcher", "pharmacist")


# Workers ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AbsenceRow:
    date: str
    reason: str


def workers(actor: Actor, kind: str | None = None) -> list[Worker]:
    """Every nurse and courier, newest first (the API's list, unpaginated: a hospital has dozens)."""
    return list(session.scalars(list_workers(actor, kind=kind)))


def upcoming_absences(worker_id: int, today: str) -> list[AbsenceRow]:
    """The worker's days off from ``today`` on, soonest first."""
    rows = session.scalars(select(WorkerAbsence).where(WorkerAbsence.worker_id == worker_id,
                                                       WorkerAbsence.date >= today)
                           .order_by(WorkerAbsence.date))
    return [AbsenceRow(date=row.date, reason=row.reason) for row in rows]


def shift_pairs(worker: Worker, *, without: int | None = None) -> list[tuple[datetime, datetime]]:
    """The worker's shifts as ``(start, end)``, leaving out the one with id ``without``."""
    return [(s.start, s.end) for s in worker.shifts if s.id != without]


def has_shift(worker: Worker, shift_id: int) -> bool:
    return any(isinstance(s, Shift) and s.id == shift_id for s in worker.shifts)


# Accounts --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    role: str
    worker: str | None
    pharmacy: str | None
    active: bool
    locale: str | None
    created_at: datetime


def staff_users(role: str | None = None) -> list[UserRow]:
    """Staff accounts (patients' own accounts are theirs, not listed here), by username."""
    query = (select(User, Worker.name, Pharmacy.name)
             .outerjoin(Worker, User.worker_id == Worker.id)
             .outerjoin(Pharmacy, User.pharmacy_id == Pharmacy.id)
             .where(User.role.in_(STAFF_ROLES)).order_by(User.username))
    if role in STAFF_ROLES:
        query = query.where(User.role == role)
    return [UserRow(id=user.id, username=user.username, role=user.role, worker=worker, pharmacy=pharmacy,
                    active=user.active, locale=user.locale, created_at=user.created_at)
            for user, worker, pharmacy in session.execute(query)]


def pharmacies() -> list[tuple[int, str]]:
    return [(row.id, row.name) for row in session.scalars(select(Pharmacy).order_by(Pharmacy.name))]


# The audit log ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    who: str | None = None  # a username
    action: str | None = None
    entity: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    username: str | None
    action: str
    entity: str
    entity_id: str
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    page: int
    has_next: bool
    actions: list[str]
    entities: list[str]


def audit_log(actor: Actor, filters: AuditFilters, *, page: int, tz_name: str) -> AuditPage:
    """One page of the audit log, newest first, filtered; the reading is recorded too.

    Dates are the hospital's local days, ``date_to`` included.
    """
    tz = ZoneInfo(tz_name)
    query = (select(AuditEntry, User.username).outerjoin(User, AuditEntry.actor_user_id == User.id)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()))
    if filters.who:
        query = query.where(User.username == filters.who)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.entity:
        query = query.where(AuditEntry.entity == filters.entity)
    if filters.date_from:
        query = query.where(AuditEntry.at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to:
        query = query.where(AuditEntry.at < datetime.combine(filters.date_to + timedelta(days=1), time(), tz))
    found = session.execute(query.limit(AUDIT_PAGE_SIZE + 1).offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    rows = [AuditRow(id=entry.id, at=entry.at, username=username, action=entry.action, entity=entry.entity,
                     entity_id=entry.entity_id, detail=entry.detail) for entry, username in found[:AUDIT_PAGE_SIZE]]
    shown = {key: str(value) for key, value in vars(filters).items() if value}
    record_access(actor, "read", "audit_log", "list", view="admin_audit", page=page, filters=shown)
    return AuditPage(rows=rows, page=page, has_next=len(found) > AUDIT_PAGE_SIZE, **audit_vocabulary())


def audit_vocabulary() -> dict[str, list[str]]:
    """The actions and entities the log holds, for the filters' choices."""
    return {"actions": _distinct(AuditEntry.action), "entities": _distinct(AuditEntry.entity)}


def _distinct(column: Any) -> list[str]:
    return list(session.scalars(select(column).distinct().order_by(column)))


# Districts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DistrictShape:
    code: str
    name: str
    name_zh: str
    path: str  # SVG path data, in the map's pixels
    label_x: float
    label_y: float
    workers: int


@dataclass(frozen=True)
class DistrictMap:
    width: int
    height: int
    districts: list[DistrictShape]


def district_map() -> DistrictMap:
    """The served districts as SVG paths, drawn server-side (no script, no tiles).

    An equirectangular projection around the districts' mean latitude: at a city's
    scale it keeps shapes and areas true to within a fraction of a percent.
    """
    from doorstep.geography import districts

    index = districts()
    shapes = list(index)
    min_lon, min_lat, max_lon, max_lat = _bounds([d.polygon for d in shapes])
    stretch = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x, span_y = (max_lon - min_lon) * stretch or 1e-9, (max_lat - min_lat) or 1e-9
    scale = SVG_WIDTH / span_x
    height = max(1, round(span_y * scale))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - min_lon) * stretch * scale, 1), round((max_lat - lat) * scale, 1)

    counts = _workers_per_district()
    out = []
    for d in shapes:
        point = d.polygon.representative_point()
        x, y = xy(point.x, point.y)
        out.append(DistrictShape(code=d.code, name=d.name, name_zh=d.name_zh, path=_svg_path(d.polygon, xy),
                                 label_x=x, label_y=y, workers=counts.get(d.code, 0)))
    return DistrictMap(width=SVG_WIDTH, height=height, districts=out)


def _bounds(polygons: list[Polygon | MultiPolygon]) -> tuple[float, float, float, float]:
    boxes = [p.bounds for p in polygons]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _svg_path(shape: Polygon | MultiPolygon, xy: Any) -> str:
    polygons = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
    parts = []
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            points = [xy(lon, lat) for lon, lat in ring.coords[:-1]]
            parts.append("M" + " L".join(f"{x:g},{y:g}" for x, y in points) + " Z")
    return " ".join(parts)


def _workers_per_district() -> dict[str, int]:
    counts: dict[str, int] = {}
    for districts in session.scalars(select(Worker.districts).where(Worker.active.is_(True))):
        for code in districts or []:
            counts[code] = counts.get(code, 0) + 1
    return counts
