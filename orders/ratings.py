"""Patients rate a visit or a delivery once it is done: 1 to 5 stars and an optional comment.

One rating per order, by the patient who owns it, only once the order is ``completed``
(a care visit) or ``delivered`` (a parcel): anything else is a 409. Dispatchers read
ratings; every read of a comment is audited. A comment is free text that may say anything
about anyone, so it is never logged (the log line carries the order id and the stars).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Select, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import Base, session, utcnow
from doorstep.errors import Conflict, NotFound
from orders.access import access_order, access_own_order

log = logging.getLogger("doorstep.orders.ratings")

RATEABLE = frozenset({"completed", "delivered"})
STAFF = ("dispatcher", "admin")


class OrderRating(Base):
    __tablename__ = "order_ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    stars: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def rate_order(actor: Actor, order_id: int, *, stars: int, comment: str | None = None) -> OrderRating:
    """The owner's rating of a finished order. Raises ``NotFound`` (not the caller's order) and
    ``Conflict`` (not finished yet, or rated already)."""
    order = access_own_order(actor, order_id)
    if order.status not in RATEABLE:
        raise Conflict(f"The order is {order.status}; it can be rated once it is completed.",
                       extra={"order_status": order.status})
    if session.scalar(select(OrderRating.id).where(OrderRating.order_id == order.id)) is not None:
        raise Conflict("This order has been rated already.")
    rating = OrderRating(order_id=order.id, patient_id=order.patient_id, stars=stars,
                         comment=comment.strip() if comment and comment.strip() else None)
    session.add(rating)
    session.flush()
    record_access(actor, "create", "order_rating", order.id, stars=stars)
    log.info("event=order_rated order_id=%s stars=%s", order.id, stars)  # never the comment
    return rating


def order_rating(actor: Actor, order_id: int) -> OrderRating:
    """The rating of an order, for its patient and for dispatchers/admins; ``NotFound`` if none. Audited."""
    order = access_order(actor, order_id) if actor.has_role(*STAFF) else access_own_order(actor, order_id)
    rating = session.scalar(select(OrderRating).where(OrderRating.order_id == order.id))
    if rating is None:
        raise NotFound(f"Order {order_id} has no rating.")
    record_access(actor, "read", "order_rating", order.id)
    return rating


def ratings_query(actor: Actor, stars_at_most: int | None = None) -> Select[tuple[OrderRating]]:
    """Ratings newest first, for dispatchers (optionally only the low ones); the read is audited."""
    record_access(actor, "read", "order_ratings", "list", stars_at_most=stars_at_most)
    query = select(OrderRating).order_by(OrderRating.created_at.desc(), OrderRating.id.desc())
    return query.where(OrderRating.stars <= stars_at_most) if stars_at_most else query
