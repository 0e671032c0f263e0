"""Small readers for mobile API tests: rows as the database has them after a view committed."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from doorstep.db import session
from orders.models import Order, OrderEvent


def fresh(model: type, id_: int) -> Any:
    """The row as the database has it now (views commit in the same scoped session)."""
    session.expire_all()
    return session.get(model, id_)


def history(order_id: int) -> list[tuple[str | None, str, int | None, str | None]]:
    """(from, to, actor user id, reason) of each status change of an order, oldest first."""
    session.expire_all()
    rows = session.scalars(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return [(e.from_status, e.to_status, e.actor_user_id, e.reason) for e in rows]


def count(model: type, *where: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def order_status(order_id: int) -> str:
    return fresh(Order, order_id).status


def instant(text: str) -> datetime:
    """An API time as an aware datetime, to compare instants whatever offset the server chose."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None, f"{text} has no offset"
    return value
