"""What the pharmacy desk pages show and do, as plain data for the templates.

The desk is a face of the delivery-order services: listing goes through
``orders.access.visible_orders`` (a pharmacist sees their pharmacy's parcels,
a dispatcher every pharmacy's), search through ``orders.deliveries.search_delivery_orders``
(pharmacists, their pharmacy only), and every change through the same functions as
the API (``review_prescription``, ``redeliver``, ``return_to_pharmacy``). Rows are
frozen dataclasses with the patient's name shortened as on the label (``张**``),
never ORM rows; what a page showed is audited with ids only. Nothing here commits.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Forbidden
from orders import deliveries
from orders.access import visible_orders
from orders.labels import short_name
from orders.models import DeliveryItem, DeliveryOrder, OrderEvent, Patient, Pharmacy

PAGE_SIZE = 50
REVIEWERS = ("pharmacist",)  # the API's rule: only the parcel's pharmacy reviews it
# Delivery statuses in the order a parcel lives through them, for the status filter.
STATUSES = ("awaiting_review", "ready", "scheduled", "picked_up", "out_for_delivery", "delivered",
            "rejected", "cancelled", "failed", "returned")
FILTERS = {"review": "awaiting_review", "failed": "failed"}


@dataclass(frozen=True)
class ParcelRow:
    id: int
    tracking_code: str
    prescription_ref: str
    status: str
    patient: str  # shortened, as on the label
    district: str
    service_date: str
    window_start: datetime | None
    window_end: datetime | None
    cold_chain: bool
    pharmacy: str
    created_at: datetime
    item_count: int
    last_reason: str | None  # why it reached its status (a failure's reason, a rejection's)


@dataclass(frozen=True)
class ParcelPage:
    rows: list[ParcelRow]
    page: int
    has_next: bool


@dataclass(frozen=True)
class ItemLine:
    name: str
    quantity: int
    unit: str | None


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    from_status: str | None
    to_status: str
    reason: str | None


@dataclass(frozen=True)
class ParcelDetail:
    row: ParcelRow
    items: list[ItemLine]
    history: list[HistoryLine]
    reviewed_at: datetime | None
    max_out_of_fridge_minutes: int | None


def may_review(actor: Actor) -> bool:
    return actor.has_role(*REVIEWERS)


def may_act_after_failure(actor: Actor) -> bool:
    """Re-deliver or return: the API lets dispatchers too, but on the desk they only read."""
    return actor.has_role("pharmacist")


def may_search(actor: Actor) -> bool:
    """The search service is the pharmacists' (their pharmacy's parcels, exact matches)."""
    return actor.has_role("pharmacist")


def parcel_list(actor: Actor, *, status: str | None = None, date: str | None = None,
                district: str | None = None, q: str | None = None, page: int = 1) -> ParcelPage:
    """One page of the parcels ``actor`` may see, newest first; with ``q``, the search service's hits.

    Raises ``Forbidden`` when a non-pharmacist searches and ``ValidationFailed`` for an empty search.
    """
    query: Select[Any]
    if q is not None:
        query = deliveries.search_delivery_orders(actor, q=q)
        if status:
            query = query.where(DeliveryOrder.status == status)
    else:
        query = visible_orders(actor, kind="delivery", status=status, date=date, district=district)
    orders = list(session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).unique())
    rows = _rows(orders[:PAGE_SIZE])
    if rows:
        record_access(actor, "read", "delivery_order", "list", view="admin_parcels",
                      order_ids=[row.id for row in rows])
    return ParcelPage(rows=rows, page=page, has_next=len(orders) > PAGE_SIZE)


def parcel_detail(actor: Actor, order_id: int) -> ParcelDetail:
    """One parcel with its items and history, for its pharmacy's pharmacists and dispatchers; audited.

    Raises ``NotFound`` for anyone else (another pharmacy's parcel looks like no parcel).
    """
    order = deliveries.access_staff_delivery(actor, order_id)
    record_access(actor, "read", "delivery_order", order.id, view="admin_parcel")
    return ParcelDetail(
        row=_rows([order])[0],
        items=[ItemLine(name=i.name, quantity=i.quantity, unit=i.unit) for i in order.items],
        history=[HistoryLine(at=e.at, from_status=e.from_status, to_status=e.to_status, reason=e.reason)
                 for e in order.history],
        reviewed_at=order.reviewed_at, max_out_of_fridge_minutes=order.max_out_of_fridge_minutes)


def redeliver(actor: Actor, order_id: int, *, window_start: datetime, window_end: datetime,
              reason: str | None = None) -> DeliveryOrder:
    """``orders.deliveries.redeliver`` for the desk's pharmacists (dispatchers read here)."""
    _require_after_failure(actor)
    return deliveries.redeliver(actor, order_id, window_start=window_start, window_end=window_end, reason=reason)


def return_to_pharmacy(actor: Actor, order_id: int, *, reason: str) -> DeliveryOrder:
    """``orders.deliveries.return_to_pharmacy`` for the desk's pharmacists (dispatchers read here)."""
    _require_after_failure(actor)
    return deliveries.return_to_pharmacy(actor, order_id, reason=reason)


def _require_after_failure(actor: Actor) -> None:
    if not may_act_after_failure(actor):
        raise Forbidden("On the pharmacy desk dispatchers read; they act on failed deliveries from the board.")


def status_counts(actor: Actor) -> dict[str, int]:
    """How many of ``actor``'s visible parcels wait in each queue (for the tabs)."""
    counts: dict[str, int] = {}
    for name, status in FILTERS.items():
        query = visible_orders(actor, kind="delivery", status=status).order_by(None)
        counts[name] = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return counts


def _rows(orders: Sequence[Any]) -> list[ParcelRow]:
    """Rows for these parcels: names, item counts and last reasons in one query each, not one per row."""
    if not orders:
        return []
    ids = [order.id for order in orders]
    names = dict(session.execute(select(Patient.id, Patient.name)
                                 .where(Patient.id.in_({o.patient_id for o in orders}))).all())
    pharmacies = dict(session.execute(select(Pharmacy.id, Pharmacy.name)
                                      .where(Pharmacy.id.in_({o.pharmacy_id for o in orders}))).all())
    items = dict(session.execute(select(DeliveryItem.order_id, func.count())
                                 .where(DeliveryItem.order_id.in_(ids)).group_by(DeliveryItem.order_id)).all())
    latest = (select(func.max(OrderEvent.id)).where(OrderEvent.order_id.in_(ids))
              .group_by(OrderEvent.order_id))
    reasons = dict(session.execute(select(OrderEvent.order_id, OrderEvent.reason)
                                   .where(OrderEvent.id.in_(latest))).all())
    return [ParcelRow(id=o.id, tracking_code=o.tracking_code, prescription_ref=o.prescription_ref,
                      status=o.status, patient=short_name(names.get(o.patient_id) or ""), district=o.district,
                      service_date=o.service_date, window_start=o.window_start, window_end=o.window_end,
                      cold_chain=bool(o.cold_chain), pharmacy=pharmacies.get(o.pharmacy_id, ""),
                      created_at=o.created_at, item_count=items.get(o.id, 0), last_reason=reasons.get(o.id))
            for o in orders]

