"""Workers and their shifts; plans with their routes and stops; what the field reports."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.db import Base, utcnow


class Worker(Base):
    """A nurse or a courier: what they may do (skills), where (districts), from where (home)."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # nurse, courier
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[list[str]] = mapped_column(default=list)
    districts: Mapped[list[str]] = mapped_column(default=list)
    home_lat: Mapped[float]
    home_lon: Mapped[float]
    capacity: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(default=True)
    # A nurse's professional record (dispatch/qualification.py decides home-visit eligibility).
    title: Mapped[str | None] = mapped_column(String(30))  # nurse ... chief_nurse
    registration_number: Mapped[str | None] = mapped_column(String(40), unique=True)  # 护士执业证书编号
    practice_began: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    shifts: Mapped[list["Shift"]] = relationship(
        back_populates="worker", order_by="Shift.start", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if " " in self.name else self.name[-2:] if len(self.name) > 2 else self.name


class Shift(Base):
    """A concrete interval of work (not a weekly pattern)."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    start: Mapped[datetime]
    end: Mapped[datetime]

    worker: Mapped[Worker] = relationship(back_populates="shifts")


class Plan(Base):
    """One optimisation of a day (and optionally some districts), built by a Celery worker."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    date: Mapped[str] = mapped_column(String(10), index=True)  # local date YYYY-MM-DD
    districts: Mapped[list[str] | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued solving done failed
    progress: Mapped[float] = mapped_column(default=0.0)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    unassigned: Mapped[list[Any] | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text)
    # Live re-planning (dispatch/replan.py): the revision of the routes, bumped by every re-plan or
    # urgent insertion; whether scheduled tasks may move to another worker (else they stay pinned).
    revision: Mapped[int] = mapped_column(default=0)
    allow_reassign: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    routes: Mapped[list["Route"]] = relationship(
        back_populates="plan", order_by="Route.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class PlanVersion(Base):
    """One revision of a plan's routes after a live change, with its diff (ids only).

    ``trigger`` names what caused it (``order.accepted:12``, ``stop.failed:40``,
    ``worker.off:3``, ...); with the district and date it is the re-plan's
    idempotency key, so a redelivered task finds its version and does nothing.
    ``diff``: ``{"added": [...], "moved": [...], "dropped": [...]}``, each entry an
    order id with the worker ids before and after (and a reason when dropped).
    """

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("date", "district", "trigger"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    revision: Mapped[int]
    date: Mapped[str] = mapped_column(String(10))
    district: Mapped[str] = mapped_column(String(40))
    trigger: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # replan, insertion
    diff: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerAbsence(Base):
    """A worker off for a local day (sick, ...): left out of that day's problems."""

    __tablename__ = "worker_absences"
    __table_args__ = (UniqueConstraint("worker_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    date: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DispatchLock(Base):
    """A lease on a district's day (``replan:heping:2026-11-23``) when there is no Redis.

    Taken by one conditional UPDATE (free or expired → ours) and released by
    clearing it, so no transaction stays open while the optimiser runs.
    """

    __tablename__ = "dispatch_locks"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    until: Mapped[datetime | None]


class Route(Base):
    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    travel_time_s: Mapped[int] = mapped_column(default=0)
    distance_m: Mapped[int] = mapped_column(default=0)
    service_time_s: Mapped[int] = mapped_column(default=0)
    waiting_time_s: Mapped[int] = mapped_column(default=0)

    plan: Mapped[Plan] = relationship(back_populates="routes")
    worker: Mapped[Worker] = relationship()
    stops: Mapped[list["Stop"]] = relationship(
        back_populates="route", order_by="Stop.sequence", cascade="all, delete-orphan"
    )


class Stop(Base):
    """A place on a route: start, visit, pickup, dropoff, break or end, with planned times."""

    __tablename__ = "stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(ForeignKey("routes.id"), index=True)
    sequence: Mapped[int]
    type: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    arrival: Mapped[datetime | None]
    start: Mapped[datetime | None]
    end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="planned")
    version: Mapped[int] = mapped_column(default=1)

    route: Mapped[Route] = relationship(back_populates="stops")
    events: Mapped[list["StopEvent"]] = relationship(order_by="StopEvent.id", back_populates="stop")

    __mapper_args__ = {"version_id_col": version}


class StopEvent(Base):
    """What a worker reported at a stop. One per (stop, type): a replay changes nothing."""

    __tablename__ = "stop_events"
    __table_args__ = (UniqueConstraint("stop_id", "type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    proof: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The phone's own id for the report (event_id or Idempotency-Key), so a resend is recognised.
    client_event_id: Mapped[str | None] = mapped_column(String(64))
    # Metres from the stop's point, and why the office should look (mobile_api/evv.py): far_from_door.
    distance_m: Mapped[int | None]
    flags: Mapped[list[str]] = mapped_column(default=list)
    # A time correction the office approved; ``at`` keeps what the phone first reported.
    corrected_at: Mapped[datetime | None]
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    stop: Mapped[Stop] = relationship(back_populates="events")


class Alarm(Base):
    """A one-key SOS from the field. Presses within a minute of the last one, while nobody has
    acknowledged it, update this alarm (``presses``, position, ``last_pressed_at``) instead of
    making another (dispatch/alarms.py)."""

    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    presses: Mapped[int] = mapped_column(default=1)
    last_pressed_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]

    @property
    def status(self) -> str:
        return "open" if self.acknowledged_by is None else "acknowledged"
