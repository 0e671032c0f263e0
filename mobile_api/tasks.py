"""Celery tasks of the mobile API: thin, idempotent wrappers.

``flag_missed_visits`` runs from the beat table (``doorstep.worker.BEAT_SCHEDULE``) and opens
one exception per visit that missed its check-in or check-out (``mobile_api.evv``). Running it
again opens nothing new; two runs racing meet the unique ``dedupe_key`` and the loser gives up
until the next beat.
"""
from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import shared_task
from sqlalchemy.exc import IntegrityError

from doorstep.db import session
from mobile_api.evv import flag_missed_visits as find_missed

log = logging.getLogger("doorstep.mobile.tasks")


@shared_task(acks_late=True, ignore_result=True)
def flag_missed_visits() -> dict[str, Any]:
    """Open missed_check_in / missed_check_out exceptions for visits past their grace."""
    try:
        run = find_missed()
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("event=evv_missed_race outcome=left_to_next_run")
        return {"missed_check_in": 0, "missed_check_out": 0}
    if run.missed_check_in or run.missed_check_out:
        log.info("event=evv_missed missed_check_in=%s missed_check_out=%s", run.missed_check_in, run.missed_check_out)
    return asdict(run)
