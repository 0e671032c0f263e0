"""Celery tasks of the orders package: thin, idempotent wrappers.

``deliver_webhooks`` runs every few seconds from the beat table
(``doorstep.worker.BEAT_SCHEDULE``) and sends whatever webhook deliveries are
due, in batches (``orders.webhooks``). It takes no arguments and is safe to run
twice at once or again after a crash: deliveries are claimed with a lease, and
an unrecorded attempt comes due again with the same delivery id.
"""
from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from celery import shared_task

from orders.webhooks import run_deliveries

log = logging.getLogger("doorstep.orders.tasks")


@shared_task(acks_late=True, ignore_result=True)
def deliver_webhooks() -> dict[str, Any]:
    """Fan out new order events and send the due webhook deliveries."""
    run = run_deliveries()
    if run.sent or run.fanned_out:
        log.info("event=webhooks_delivered fanned_out=%s sent=%s delivered=%s failed=%s dead=%s",
                 run.fanned_out, run.sent, run.delivered, run.failed, run.dead)
    return asdict(run)
