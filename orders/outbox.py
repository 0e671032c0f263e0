"""Events out: the outbox, webhook subscriptions and their deliveries (tables), and the one writer.

``record_event`` adds an outbox row in the caller's transaction; it is called by
``orders.lifecycle`` for every creation and status change, so an event exists
exactly when the change committed (a rolled-back change leaves none). What is
sent is built from the row's ids and statuses only (``event_body``): never a
name, phone, address, note or diagnosis. ``orders.webhooks`` fans events out to
subscribers and delivers them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.db import Base, add_row, utcnow

ORDER_CREATED = "order.created"
ORDER_STATUS_CHANGED = "order.status_changed"
# The order's visit or delivery moved to another worker, joined the plan or left it (dispatch/replan.py);
# from_status and to_status are both the order's status then. The worker's phone sees a new route version.
PLAN_CHANGED = "plan.changed"
EVENT_TYPES = (ORDER_CREATED, ORDER_STATUS_CHANGED, PLAN_CHANGED)

# The only keys a webhook body has: ids, statuses, a time and a version.
BODY_KEYS = ("id", "type", "at", "order_id", "kind", "from_status", "to_status", "version")


class OutboxEvent(Base):
    """Something that happened to an order, waiting to be fanned out to subscribers."""

    __tablename__ = "outbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    version: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    fanned_out_at: Mapped[datetime | None] = mapped_column(index=True)


class WebhookSubscription(Base):
    """A hospital system that wants order events: where, with which secret, which types.

    The secret is kept to sign bodies (HMAC needs it as is) and never returned by the API.
    A deleted subscription keeps its row (its deliveries refer to it) with ``active`` false.
    """

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(255))
    events: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event for one subscriber: ``pending`` until ``delivered``, or ``dead`` after the retry budget.

    ``uid`` is the ``X-Doorstep-Delivery`` header: the same on every attempt and on a
    replay, so subscribers de-duplicate. ``lease_until`` marks an attempt in flight; a
    worker that dies between sending and recording leaves the lease to run out and the
    delivery due again, never lost.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_queue", "subscription_id", "order_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    order_id: Mapped[int]  # the event's, copied so the per-order queue needs no join
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending delivered dead discarded
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    deadline_at: Mapped[datetime]  # no attempt is scheduled after this: the delivery goes dead
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32), index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[OutboxEvent] = relationship()
    subscription: Mapped[WebhookSubscription] = relationship()


def record_event(order: Any, event_type: str, from_status: str | None, to_status: str, at: datetime) -> None:
    """Add the outbox row for a change of ``order`` (already flushed: it has its id and new version);
    written with the transaction (``doorstep.db.add_row``)."""
    add_row(OutboxEvent.__table__, type=event_type, order_id=order.id, kind=order.kind, from_status=from_status,
            to_status=to_status, version=order.version, at=at)


def event_body(event: OutboxEvent) -> dict[str, Any]:
    """What a subscriber receives: ids and statuses (``BODY_KEYS``), nothing personal."""
    return {"id": event.id, "type": event.type, "at": event.at.isoformat(), "order_id": event.order_id,
            "kind": event.kind, "from_status": event.from_status, "to_status": event.to_status,
            "version": event.version}
