"""Webhooks: subscriptions an admin registers, and delivering the outbox to them.

Delivery is one loop (``deliver_due``), run every few seconds by the Celery
beat task ``orders.tasks.deliver_webhooks``, whatever the number of events: a
round fans new outbox rows out to the active subscriptions (one ``pending``
delivery per event and subscriber), claims a batch of due deliveries with a
lease, commits, sends them (a few at a time, no transaction open), and records
each outcome. Nothing is sent per event through the broker.

- Order: per subscriber and order, only the oldest pending delivery is tried,
  so a subscriber sees each order's events in the order they happened.
- Retries: 30 s, 1, 2, 4, 8, 16, 32 min, then every 32 min, until two hours
  after the event was fanned out; the last attempt is at that deadline, and a
  failure then makes the delivery ``dead``, listed for an admin to replay.
- At least once: the lease (5 min) outlives any batch; a worker that dies
  between sending and recording leaves the delivery due again when the lease
  runs out, and the resend carries the same ``X-Doorstep-Delivery`` id.
"""
from __future__ import annotations

import json
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from flask import current_app
from sqlalchemy import Select, exists, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, Forbidden, NotFound, ValidationFailed
from orders.outbox import EVENT_TYPES, OutboxEvent, WebhookDelivery, WebhookSubscription, event_body
from orders.webhook_http import Outcome, TargetRefused, check_target, post, sign

log = logging.getLogger("doorstep.webhooks")

RETRY_DELAYS_S = (30, 60, 120, 240, 480, 960, 1920)  # then the last one again, until the deadline
RETRY_BUDGET = timedelta(hours=2)
LEASE = timedelta(minutes=5)
BATCH = 50
FAN_OUT_BATCH = 500
SEND_THREADS = 8
ROUND_BUDGET_S = 60.0  # stop starting rounds after this; the beat comes back in seconds


def _require_admin(actor: Actor) -> None:
    if not actor.has_role("admin"):
        raise Forbidden("Only an administrator manages webhooks.")


def _allow_private() -> bool:
    return bool(current_app.config["SETTINGS"].webhook_allow_private)


# --- subscriptions -------------------------------------------------------------------------

def register_webhook(actor: Actor, *, url: str, secret: str, events: list[str]) -> WebhookSubscription:
    """Subscribe ``url`` to ``events``; 422 naming ``url`` for a non-public or unresolvable target."""
    _require_admin(actor)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise ValidationFailed("Unknown event types.", {"events": [f"Each one of: {', '.join(EVENT_TYPES)}."]})
    try:
        check_target(url, allow_private=_allow_private())
    except TargetRefused as exc:
        raise ValidationFailed("This webhook URL is refused.", {"url": [str(exc)]}) from None
    subscription = WebhookSubscription(url=url, secret=secret, events=list(dict.fromkeys(events)),
                                       created_by=actor.user_id)
    session.add(subscription)
    session.flush()
    record_access(actor, "create", "webhook", subscription.id)
    log.info("event=webhook_registered subscription_id=%s events=%s", subscription.id, ",".join(events))
    return subscription


def list_webhooks(actor: Actor) -> Select[Any]:
    _require_admin(actor)
    return select(WebhookSubscription).where(WebhookSubscription.active).order_by(WebhookSubscription.id)


def access_webhook(actor: Actor, subscription_id: int) -> WebhookSubscription:
    _require_admin(actor)
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or not subscription.active:
        raise NotFound(f"No webhook {subscription_id}.")
    return subscription


def delete_webhook(actor: Actor, subscription_id: int) -> None:
    """Stop sending to a subscriber; its pending deliveries are discarded, its history kept."""
    subscription = access_webhook(actor, subscription_id)
    subscription.active, subscription.deleted_at = False, utcnow()
    session.execute(update(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id,
                                                  WebhookDelivery.status == "pending")
                    .values(status="discarded", lease_until=None, lease_token=None))
    session.flush()
    record_access(actor, "delete", "webhook", subscription.id)


def list_dead_letters(actor: Actor) -> Select[Any]:
    """Deliveries that ran out of retries, newest first, for subscribers still registered."""
    _require_admin(actor)
    return (select(WebhookDelivery).join(WebhookSubscription)
            .where(WebhookDelivery.status == "dead", WebhookSubscription.active)
            .options(selectinload(WebhookDelivery.event))
            .order_by(WebhookDelivery.dead_at.desc(), WebhookDelivery.id.desc()))


def replay_dead_letter(actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a dead delivery again, now, with a fresh two-hour budget and the same delivery id."""
    _require_admin(actor)
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or not delivery.subscription.active:
        raise NotFound(f"No dead letter {delivery_id}.")
    if delivery.status != "dead":
        raise Conflict(f"Delivery {delivery_id} is {delivery.status}, not dead; there is nothing to replay.")
    now = utcnow()
    delivery.status, delivery.next_attempt_at, delivery.deadline_at = "pending", now, now + RETRY_BUDGET
    delivery.dead_at = delivery.lease_until = delivery.lease_token = None
    session.flush()
    record_access(actor, "update", "webhook_delivery", delivery.id, change="replay")
    log.info("event=webhook_replayed delivery=%s subscription_id=%s", delivery.uid, delivery.subscription_id)
    return delivery


# --- delivering ----------------------------------------------------------------------------

@dataclass
class DeliveryRun:
    fanned_out: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, other: DeliveryRun) -> None:
        for name in ("fanned_out", "sent", "delivered", "failed", "dead"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def run_deliveries(*, budget_s: float = ROUND_BUDGET_S) -> DeliveryRun:
    """Rounds of ``deliver_due`` until nothing is due or ``budget_s`` is spent (the Celery task)."""
    total, started = DeliveryRun(), monotonic()
    while True:
        run = deliver_due()
        total.add(run)
        if (run.sent == 0 and run.fanned_out == 0) or monotonic() - started > budget_s:
            return total


def deliver_due(*, batch: int = BATCH) -> DeliveryRun:
    """One round: fan out new events, claim up to ``batch`` due deliveries, send, record. Commits."""
    run = DeliveryRun(fanned_out=fan_out())
    session.commit()
    claimed = _claim(utcnow(), batch)
    session.commit()
    if not claimed:
        return run
    allow_private = _allow_private()
    jobs = [(d.id, d.subscription.url, d.subscription.secret, d.uid, d.event.type, _body(d.event))
            for d in claimed]
    with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(jobs))) as pool:
        outcomes = list(pool.map(lambda job: _send(*job[1:], allow_private=allow_private), jobs))
    now = utcnow()
    for delivery, outcome in zip(claimed, outcomes):
        run.sent += 1
        status = _record(delivery, outcome, now)
        if status == "delivered":
            run.delivered += 1
        elif status == "dead":
            run.dead += 1
        else:
            run.failed += 1
    session.commit()
    return run


def fan_out(limit: int = FAN_OUT_BATCH) -> int:
    """One pending delivery per new outbox event and active subscriber that wants its type."""
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.fanned_out_at.is_(None))
                             .order_by(OutboxEvent.id).limit(limit).with_for_update(skip_locked=True)).all()
    if not events:
        return 0
    now = utcnow()
    subscriptions = session.scalars(select(WebhookSubscription).where(WebhookSubscription.active)).all()
    for event in events:
        for subscription in subscriptions:
            if event.type in (subscription.events or []):
                session.add(WebhookDelivery(uid=str(uuid.uuid4()), event_id=event.id,
                                            subscription_id=subscription.id, order_id=event.order_id,
                                            next_attempt_at=now, deadline_at=now + RETRY_BUDGET))
        event.fanned_out_at = now
    session.flush()
    return len(events)


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    """Lease up to ``limit`` due deliveries, each the oldest pending one of its subscriber and order."""
    d, earlier = WebhookDelivery, aliased(WebhookDelivery)
    free = or_(d.lease_until.is_(None), d.lease_until <= now)
    head = ~exists(select(earlier.id).where(earlier.subscription_id == d.subscription_id,
                                            earlier.order_id == d.order_id, earlier.status == "pending",
                                            earlier.event_id < d.event_id))
    ids = list(session.scalars(select(d.id).where(d.status == "pending", d.next_attempt_at <= now, free, head)
                               .order_by(d.next_attempt_at, d.id).limit(limit)))
    if not ids:
        return []
    token = uuid.uuid4().hex
    # The WHERE is evaluated again per row: of two workers claiming the same row, one wins.
    session.execute(update(d).where(d.id.in_(ids), d.status == "pending", free)
                    .values(lease_until=now + LEASE, lease_token=token))
    return list(session.scalars(select(d).where(d.lease_token == token).order_by(d.id)
                                .options(selectinload(d.event), selectinload(d.subscription))))


def _body(event: OutboxEvent) -> bytes:
    return json.dumps(event_body(event), separators=(",", ":")).encode()


def _send(url: str, secret: str, uid: str, event_type: str, body: bytes, *, allow_private: bool) -> Outcome:
    """Check the target again (DNS may have changed since registration), then POST once."""
    try:
        target = check_target(url, allow_private=allow_private)
    except TargetRefused as exc:
        return Outcome(False, None, str(exc))
    headers = {"X-Doorstep-Event": event_type, "X-Doorstep-Delivery": uid,
               "X-Doorstep-Timestamp": str(int(utcnow().timestamp())), "X-Doorstep-Signature": sign(secret, body)}
    return post(target, body, headers)


def _record(delivery: WebhookDelivery, outcome: Outcome, now: datetime) -> str:
    """Delivered, rescheduled with backoff, or dead; the lease is released. Returns the new status."""
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.lease_until, delivery.lease_token = now, None, None
    if outcome.ok:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, None
    elif now >= delivery.deadline_at:
        delivery.status, delivery.dead_at, delivery.last_error = "dead", now, (outcome.error or "")[:200]
    else:
        delay = RETRY_DELAYS_S[min(delivery.attempts, len(RETRY_DELAYS_S)) - 1]
        delivery.next_attempt_at = min(now + timedelta(seconds=delay), delivery.deadline_at)
        delivery.last_error = (outcome.error or "")[:200]
    log.info("event=webhook_attempt delivery=%s subscription_id=%s event_id=%s attempt=%s status=%s http=%s",
             delivery.uid, delivery.subscription_id, delivery.event_id, delivery.attempts, delivery.status,
             outcome.status)
    return delivery.status
