"""Applying a status change: the state machine's check, the new status, the history row, the outbox row."""
from __future__ import annotations

import logging

from doorstep.auth import Actor
from doorstep.db import session, utcnow
from orders.models import Order, OrderEvent
from orders.outbox import ORDER_CREATED, ORDER_STATUS_CHANGED, record_event
from orders.states import BY_KIND

log = logging.getLogger("doorstep.orders")


def change_status(order: Order, to_status: str, actor: Actor | None, reason: str | None = None) -> OrderEvent:
    """Move ``order`` to ``to_status`` or raise ``InvalidTransition`` (409) and change nothing.

    The order's ``version`` column makes a concurrent change fail at flush
    (``StaleDataError`` → 409) instead of overwriting it. The outbox row for
    webhooks (``orders.outbox``) is written in the same transaction.
    """
    BY_KIND[order.kind].check(order.status, to_status)
    event = OrderEvent(order=order, at=utcnow(), actor_user_id=actor.user_id if actor else None,
                       from_status=order.status, to_status=to_status, reason=reason)
    order.status = to_status
    session.add(event)
    session.flush()
    record_event(order, ORDER_STATUS_CHANGED, event.from_status, to_status, event.at)
    from dispatch.replan import order_changed  # late: dispatch imports orders

    order_changed(order, event.from_status, to_status)  # a planned day follows (urgent insertion, re-plan)
    log.info("event=order_status order_id=%s kind=%s from=%s to=%s", order.id, order.kind,
             event.from_status, to_status)
    return event


def record_creation(order: Order, actor: Actor | None) -> OrderEvent:
    """The first history row, from nothing to the initial status, and its outbox row
    (``order`` is flushed: it has its id)."""
    event = OrderEvent(order=order, at=utcnow(), actor_user_id=actor.user_id if actor else None,
                       from_status=None, to_status=order.status)
    session.add(event)
    record_event(order, ORDER_CREATED, None, order.status, event.at)
    return event
