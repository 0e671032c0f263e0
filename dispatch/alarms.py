"""The one-key alarm: raised from the field, seen on the dispatchers' board at once, acknowledged there.

An SOS is never lost: the alarm row is written in the request's transaction, committed before
the phone gets its answer, and only then announced on the live feed (``doorstep.feed``). A
frightened worker presses again and again: a press within ``REPEAT_WINDOW`` of the last press of
an alarm nobody has acknowledged yet updates that alarm (position, note, ``presses``) and is
announced again, instead of filling the board with copies. A press after an acknowledgement
is a new alarm: someone has to look again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Select, select

from dispatch.models import Alarm, Worker
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, NotFound
from doorstep.feed import publish_event

log = logging.getLogger("doorstep.alarms")

REPEAT_WINDOW = timedelta(minutes=1)
STATUSES = ("open", "acknowledged", "all")


@dataclass(frozen=True)
class Raised:
    alarm: Alarm
    created: bool


def raise_alarm(worker_id: int, *, lat: float, lon: float, note: str | None = None) -> Raised:
    """A new alarm, or the worker's open one pressed less than a minute ago, updated (WGS-84 point)."""
    # The worker's row is locked so two presses at the same instant cannot both create an alarm.
    session.execute(select(Worker.id).where(Worker.id == worker_id).with_for_update())
    now = utcnow()
    alarm = session.scalar(
        select(Alarm).where(Alarm.worker_id == worker_id, Alarm.acknowledged_by.is_(None),
                            Alarm.last_pressed_at >= now - REPEAT_WINDOW)
        .order_by(Alarm.id.desc()).limit(1))
    created = alarm is None
    if alarm is None:
        alarm = Alarm(worker_id=worker_id, lat=lat, lon=lon, note=note, at=now, last_pressed_at=now, presses=1)
        session.add(alarm)
    else:
        alarm.lat, alarm.lon, alarm.last_pressed_at, alarm.presses = lat, lon, now, alarm.presses + 1
        alarm.note = note if note else alarm.note
    session.flush()
    publish_event("sos", {"alarm_id": alarm.id, "worker_id": worker_id, "presses": alarm.presses,
                          "repeat": not created, "at": now.isoformat()})
    log.warning("event=sos alarm_id=%s worker_id=%s presses=%s", alarm.id, worker_id, alarm.presses)
    return Raised(alarm, created)


def acknowledge_alarm(actor: Actor, alarm_id: int) -> Alarm:
    """Mark an open alarm as seen by this dispatcher. Raises ``NotFound``, or ``Conflict`` if it was
    acknowledged already (naming who, by user id)."""
    alarm = session.scalar(select(Alarm).where(Alarm.id == alarm_id).with_for_update())
    if alarm is None:
        raise NotFound(f"No alarm {alarm_id}.")
    if alarm.acknowledged_by is not None:
        raise Conflict("This alarm was acknowledged already.", extra={"acknowledged_by": alarm.acknowledged_by})
    alarm.acknowledged_by, alarm.acknowledged_at = actor.user_id, utcnow()
    session.flush()
    publish_event("alarm_acknowledged", {"alarm_id": alarm.id, "worker_id": alarm.worker_id,
                                         "acknowledged_by": actor.user_id})
    log.info("event=alarm_acknowledged alarm_id=%s user_id=%s", alarm.id, actor.user_id)
    return alarm


def alarms_query(status: str = "open") -> Select[tuple[Alarm]]:
    """Alarms newest first: ``open`` (not acknowledged), ``acknowledged`` or ``all``."""
    query = select(Alarm).order_by(Alarm.last_pressed_at.desc(), Alarm.id.desc())
    if status == "open":
        return query.where(Alarm.acknowledged_by.is_(None))
    if status == "acknowledged":
        return query.where(Alarm.acknowledged_by.is_not(None))
    return query
