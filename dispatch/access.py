"""Who may read which plan, and what a plan looks like to them.

Plans are for dispatchers (and admins): anyone else gets ``NotFound``, the
same answer as for a missing id. The view carries order ids and planned times,
never patient names or coordinates.
"""
from __future__ import annotations

from datetime import date as Date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from dispatch.models import Plan, PlanVersion, Route
from dispatch.service import local_date
from dispatch.workers import MAX_ID
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Forbidden, NotFound

READERS = ("dispatcher", "admin")


def access_plan(actor: Actor | None, plan_id: int) -> Plan:
    """The plan with its routes and stops, fresh from the database; ``NotFound`` for anyone
    but a dispatcher (or admin), the same answer as for a missing id."""
    if not 0 < plan_id < MAX_ID:  # exists nowhere, and would overflow the driver
        raise NotFound(f"No plan {plan_id}.")
    plan = session.scalar(select(Plan).where(Plan.id == plan_id)
                          .options(selectinload(Plan.routes).selectinload(Route.stops),
                                   selectinload(Plan.routes).selectinload(Route.worker))
                          .execution_options(populate_existing=True))
    if plan is None or (actor is not None and not actor.has_role(*READERS)):
        raise NotFound(f"No plan {plan_id}.")
    return plan


def plan_view(actor: Actor | None, plan_id: int) -> dict[str, Any]:
    """A plan as ``GET /dispatch/plans/{id}`` shows it: no patient names or coordinates."""
    plan = access_plan(actor, plan_id)
    return {
        "id": plan.id, "date": plan.date, "districts": plan.districts, "status": plan.status,
        "progress": plan.progress, "created_at": plan.created_at, "started_at": plan.started_at,
        "finished_at": plan.finished_at, "error": plan.error, "summary": plan.summary,
        "unassigned": plan.unassigned or [],
        "routes": [{"worker_id": r.worker_id, "worker_name": r.worker.name, "travel_time": r.travel_time_s,
                    "distance": r.distance_m, "service_time": r.service_time_s, "waiting_time": r.waiting_time_s,
                    "stops": [{"id": s.id, "sequence": s.sequence, "type": s.type, "order_id": s.order_id,
                               "arrival": s.arrival, "start": s.start, "end": s.end, "status": s.status}
                              for s in r.stops]}
                   for r in plan.routes],
    }


def list_plans(actor: Actor | None, *, date: str | Date | None = None, status: str | None = None) -> Select[Any]:
    """Plans newest first, as a select the caller paginates (dispatchers and admins only)."""
    if actor is not None and not actor.has_role(*READERS):
        raise Forbidden("Only dispatchers read plans.")
    query = select(Plan).order_by(Plan.id.desc())
    if date is not None:
        query = query.where(Plan.date == local_date(date))
    if status is not None:
        query = query.where(Plan.status == status)
    return query


def plan_versions(actor: Actor | None, plan_id: int) -> list[PlanVersion]:
    """The plan's live revisions, newest first (``NotFound`` as for the plan itself)."""
    access_plan(actor, plan_id)
    return list(session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                .order_by(PlanVersion.revision.desc(), PlanVersion.id.desc())))
