"""Applying a status change: the state machine's check, the new status, the history row, the outbox row."""
from __future__ import annotations

import logging

from sqlalchemy.orm.attributes import set_committed_value

from doorstep.auth import Actor
from doorstep.db import add_row, session, utcnow
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
    (``order`` is new and flushed: it has its id).

    Both rows are written with the transaction (``doorstep.db.add_row``: no unit of work for
    them, the costliest part of taking an order), and the order's history shows the row at
    once, for the answer. The event object is not in the session (``Order.history`` does not
    cascade saves), so it is never written twice.
    """
    values = {"order_id": order.id, "at": utcnow(), "actor_user_id": actor.user_id if actor else None,
              "from_status": None, "to_status": order.status, "reason": None}
    add_row(OrderEvent.__table__, **values)
    event = OrderEvent(**values)
    set_committed_value(order, "history", [event])
    record_event(order, ORDER_CREATED, None, order.status, event.at)
    return event
