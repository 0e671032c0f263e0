"""Periodic live-operations jobs (``doorstep.worker.BEAT_SCHEDULE``); on the default queue."""
from __future__ import annotations

from celery import shared_task

from dispatch.live_events import detect_late_workers


@shared_task(acks_late=True, ignore_result=True)
def detect_late() -> int:
    """Announce workers newly late at their next stop on the live feed; returns how many are late."""
    return len(detect_late_workers())
