"""Electronic visit verification: where a report was made, the office's exception queue, time
corrections, and visits whose check-in or check-out never came.

A report is always accepted; what looks wrong is *flagged* and queued for the office
(``EvvException``), never refused: a nurse at the door with a poor GPS fix must still be able
to work. The office approves or rejects each exception with a reason; an approved time
correction sets the report's ``corrected_at`` (``at`` keeps what the phone said).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, event, exists, select

from dispatch.models import Plan, Route, Stop, StopEvent
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, NotFound, ValidationFailed
from mobile_api.models import EvvException
from orders.models import CareOrder
from routing.geo import haversine_m

log = logging.getLogger("doorstep.evv")

# Reports made at the door: checked against the radius. Leaving (depart) and giving up (fail)
# happen anywhere, so only an implausible distance flags them.
AT_THE_DOOR = frozenset({"arrive", "start", "complete", "pickup", "deliver"})
# Farther than this from the stop is no poor fix but a wrong place (or a wrong clock): always flagged.
IMPLAUSIBLE_M = 50_000
CORRECTABLE = ("arrive", "complete")
OFFICE = ("dispatcher", "admin")


def settings() -> Any:
    return current_app.config["SETTINGS"]


# --- where a report was made ------------------------------------------------------------------

def check_position(actor: Actor, stop: Stop, event: StopEvent) -> None:
    """Record the report's distance from the stop; beyond the radius (at the door) or beyond
    ``IMPLAUSIBLE_M`` (anywhere), flag it and queue a ``far_from_door`` exception (once per report).
    Never logs coordinates."""
    if stop.lat is None or stop.lon is None or event.lat is None or event.lon is None:
        return
    distance = round(haversine_m(stop.lat, stop.lon, event.lat, event.lon))
    event.distance_m = distance
    radius = settings().evv_radius_m
    if not ((event.type in AT_THE_DOOR and distance > radius) or distance > IMPLAUSIBLE_M):
        return
    event.flags = [*(event.flags or []), "far_from_door"]
    session.flush()
    _open(EvvException(kind="far_from_door", stop_id=stop.id, order_id=stop.order_id,
                       worker_id=stop.route.worker_id, event_type=event.type, stop_event_id=event.id,
                       distance_m=distance, raised_by=actor.user_id,
                       dedupe_key=f"far_from_door:{stop.id}:{event.type}"))
    log.warning("event=evv_flag kind=far_from_door stop_id=%s type=%s distance_m=%s", stop.id, event.type, distance)


def _open(exception: EvvException) -> EvvException | None:
    """Add an exception unless its ``dedupe_key`` exists (then None). Two processes racing
    past this check meet the unique key at commit: the loser's transaction fails and its
    next run finds the row (``tasks.flag_missed_visits`` runs again on the next beat)."""
    if exception.dedupe_key and session.scalar(
            select(EvvException.id).where(EvvException.dedupe_key == exception.dedupe_key)):
        return None
    session.add(exception)
    return exception


# --- time corrections -------------------------------------------------------------------------

def request_correction(actor: Actor, stop: Stop, *, event: str, at: datetime, reason: str) -> EvvException:
    """A worker asks for the recorded time of a check-in (``arrive``) or check-out (``complete``)
    of their own visit to change; it waits for the office (``decide``).

    Raises ``ValidationFailed`` (blank reason, a time in the future or on the wrong side of the
    other check, not a visit) and ``Conflict`` (that report was never made).
    """
    if not reason.strip():
        raise ValidationFailed("A correction needs a reason.", {"reason": ["Required."]})
    if stop.type != "visit":
        raise ValidationFailed("Only a visit's check-in and check-out are corrected.",
                               {"event": ["Only at a visit stop."]})
    if at > utcnow() + timedelta(minutes=5):
        raise ValidationFailed("A corrected time cannot be in the future.", {"at": ["In the future."]})
    reports = {e.type: e for e in session.scalars(select(StopEvent).where(StopEvent.stop_id == stop.id))}
    target = reports.get(event)
    if target is None:
        raise Conflict(f"There is no '{event}' report at this stop to correct.")
    other = reports.get("complete" if event == "arrive" else "arrive")
    if other is not None:
        other_at = other.corrected_at or other.at
        if (event == "arrive" and at > other_at) or (event == "complete" and at < other_at):
            side = "after the check-out" if event == "arrive" else "before the check-in"
            raise ValidationFailed(f"The corrected time would fall {side}.", {"at": [f"Falls {side}."]})
    exception = EvvException(kind="time_correction", stop_id=stop.id, order_id=stop.order_id,
                             worker_id=stop.route.worker_id, event_type=event, stop_event_id=target.id,
                             requested_at=at, reason=reason.strip(), raised_by=actor.user_id)
    session.add(exception)
    session.flush()
    if stop.order_id is not None:
        record_access(actor, "create", "evv_exception", exception.id, order_id=stop.order_id, kind="time_correction")
    log.info("event=evv_correction_requested exception_id=%s stop_id=%s type=%s", exception.id, stop.id, event)
    return exception


# --- the office's queue -----------------------------------------------------------------------

def list_exceptions(actor: Actor, *, status: str | None = None, kind: str | None = None,
                    worker_id: int | None = None) -> Select[Any]:
    """The queue, newest first, for dispatchers and admins (the view checks the role); audited."""
    query = select(EvvException)
    if status:
        query = query.where(EvvException.status == status)
    if kind:
        query = query.where(EvvException.kind == kind)
    if worker_id:
        query = query.where(EvvException.worker_id == worker_id)
    record_access(actor, "read", "evv_exception", "list",
                  **{k: v for k, v in (("status", status), ("kind", kind), ("worker_id", worker_id)) if v})
    return query.order_by(EvvException.created_at.desc(), EvvException.id.desc())


def access_exception(actor: Actor, exception_id: int) -> EvvException:
    exception = session.get(EvvException, exception_id) if actor.role in OFFICE else None
    if exception is None:
        raise NotFound(f"No exception {exception_id}.")
    return exception


def decide(actor: Actor, exception_id: int, *, approved: bool, reason: str) -> EvvException:
    """Approve or reject an open exception, with who, when and why; approving a time correction
    sets the report's ``corrected_at``. Decided already: ``Conflict``."""
    exception = access_exception(actor, exception_id)
    if not reason.strip():
        raise ValidationFailed("A decision needs a reason.", {"reason": ["Required."]})
    if exception.status != "open":
        raise Conflict(f"This exception was {exception.status} already.")
    exception.status = "approved" if approved else "rejected"
    exception.decided_by, exception.decided_at, exception.decision_reason = actor.user_id, utcnow(), reason.strip()
    if approved and exception.kind == "time_correction" and exception.stop_event_id is not None:
        event = session.get(StopEvent, exception.stop_event_id)
        event.corrected_at, event.corrected_by = exception.requested_at, actor.user_id
    session.flush()
    record_access(actor, "update", "evv_exception", exception.id, order_id=exception.order_id,
                  decision=exception.status)
    log.info("event=evv_decided exception_id=%s kind=%s status=%s", exception.id, exception.kind, exception.status)
    return exception


# --- visits that never checked in or out ------------------------------------------------------

@dataclass(frozen=True)
class MissedRun:
    missed_check_in: int
    missed_check_out: int


def flag_missed_visits(now: datetime | None = None) -> MissedRun:
    """Open one ``missed_check_in`` per visit whose window ended more than the grace ago with no
    check-in, and one ``missed_check_out`` per visit checked in more than its duration plus the
    grace ago with no check-out. Safe to run again and twice at once (``dedupe_key``)."""
    now = now or utcnow()
    grace = timedelta(minutes=settings().evv_grace_minutes)
    checked_in = select(StopEvent.id).where(StopEvent.stop_id == Stop.id, StopEvent.type.in_(("arrive", "start")))
    late = session.execute(
        _latest_visit_stops().where(CareOrder.status.in_(("scheduled", "en_route")),
                                    CareOrder.window_end < now - grace, ~exists(checked_in))).all()
    opened_in = sum(_missed(stop, order, "missed_check_in") for stop, order in late)

    opened_out = 0
    for stop, order in session.execute(_latest_visit_stops().where(CareOrder.status == "in_progress")).all():
        check_in = session.scalar(select(StopEvent).where(StopEvent.stop_id == stop.id, StopEvent.type.in_(
            ("arrive", "start"))).order_by(StopEvent.id))
        done = session.scalar(select(StopEvent.id).where(StopEvent.stop_id == stop.id, StopEvent.type == "complete"))
        if check_in is not None and done is None and \
                (check_in.corrected_at or check_in.at) + timedelta(minutes=order.duration_minutes) + grace < now:
            opened_out += _missed(stop, order, "missed_check_out")
    return MissedRun(opened_in, opened_out)


def _latest_visit_stops() -> Select[Any]:
    """(stop, order) of each care order's visit in the newest finished plan that has it."""
    newest = (select(Stop.id).join(Route, Stop.route_id == Route.id).join(Plan, Route.plan_id == Plan.id)
              .where(Stop.order_id == CareOrder.id, Stop.type == "visit", Plan.status == "done")
              .order_by(Plan.id.desc(), Stop.id.desc()).limit(1).correlate(CareOrder).scalar_subquery())
    return select(Stop, CareOrder).join(CareOrder, Stop.order_id == CareOrder.id).where(Stop.id == newest)


def _missed(stop: Stop, order: CareOrder, kind: str) -> int:
    opened = _open(EvvException(kind=kind, stop_id=stop.id, order_id=order.id, worker_id=stop.route.worker_id,
                                dedupe_key=f"{kind}:{order.id}"))
    if opened is None:
        return 0
    session.flush()
    log.warning("event=evv_flag kind=%s exception_id=%s stop_id=%s order_id=%s worker_id=%s",
                kind, opened.id, stop.id, order.id, opened.worker_id)
    return 1


# --- the dispatchers' live feed -----------------------------------------------------------------

@event.listens_for(EvvException, "after_insert")
def _announce(_mapper: Any, _connection: Any, exception: EvvException) -> None:
    """Every new exception (whichever code opened it) goes on the live feed once its transaction
    commits: ids and codes only, so the board adds it to its queue as it happens."""
    from doorstep.feed import publish_event

    publish_event("evv_exception", {"exception_id": exception.id, "kind": exception.kind,
                                    "worker_id": exception.worker_id, "order_id": exception.order_id,
                                    "stop_id": exception.stop_id})
