"""Who may see which order, patient and address: named access helpers.

Every helper returns the object or raises ``NotFound`` — the same answer for
"does not exist" and "not yours", so ids leak nothing (Zulip's
``access_stream_by_id``). Role checks (403) happen before, in the views
(``require_role``) or in the service for rules a role alone cannot express.

Visibility of orders, one rule for reading one order and for lists:

- patient: their own orders;
- nurse, courier: orders with a stop on one of their routes (any plan); a nurse
  with the ``triage`` skill also sees care orders waiting for triage
  (``requested``, or ``awaiting_patient`` for an answer) and those they triaged, since triage happens before planning;
- pharmacist: delivery orders of their pharmacy;
- dispatcher, admin: every order.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, bindparam, false, or_, select
from sqlalchemy.orm import with_polymorphic

from dispatch.models import Route, Stop, Worker
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import NotFound
from orders.models import Address, CareOrder, DeliveryOrder, Order, Patient, Pharmacy

TRIAGE_SKILL = "triage"

# Orders of both kinds in one query: joined-table loading without a query per row.
AnyOrder = with_polymorphic(Order, [CareOrder, DeliveryOrder])


def is_triage_nurse(actor: Actor) -> bool:
    """A nurse account whose worker record carries the ``triage`` skill."""
    if actor.role != "nurse" or not actor.worker_id:
        return False
    worker = session.get(Worker, actor.worker_id)
    return worker is not None and worker.active and TRIAGE_SKILL in (worker.skills or [])


def _on_my_routes(worker_id: int) -> Any:
    return AnyOrder.id.in_(select(Stop.order_id).join(Route, Stop.route_id == Route.id)
                           .where(Route.worker_id == worker_id, Stop.order_id.is_not(None)))


def _visible(actor: Actor) -> Any:
    """The SQL condition that selects the orders ``actor`` may see."""
    if actor.role in ("dispatcher", "admin"):
        return AnyOrder.id.is_not(None)
    if actor.role == "patient" and actor.patient_id:
        return AnyOrder.patient_id == actor.patient_id
    if actor.role == "pharmacist" and actor.pharmacy_id:
        return AnyOrder.DeliveryOrder.pharmacy_id == actor.pharmacy_id
    if actor.role in ("nurse", "courier") and actor.worker_id:
        mine = _on_my_routes(actor.worker_id)
        if is_triage_nurse(actor):
            return or_(mine, AnyOrder.CareOrder.triaged_by == actor.user_id,
                       (AnyOrder.kind == "care") & AnyOrder.status.in_(("requested", "awaiting_patient")))
        return mine
    return false()


SORT_COLUMNS = {"created_at": AnyOrder.created_at, "service_date": AnyOrder.service_date,
                "window_start": AnyOrder.window_start}


def visible_orders(actor: Actor, *, kind: str | None = None, status: str | None = None,
                   date: str | None = None, district: str | None = None,
                   sort: str = "-created_at") -> Select[Any]:
    """A select of the orders ``actor`` may see, filtered and sorted (for pagination).

    ``sort`` is a column of ``SORT_COLUMNS``, with a leading ``-`` for descending;
    ties go by id in the same direction, so pages never overlap.
    """
    query = select(AnyOrder).where(_visible(actor))
    if kind:
        query = query.where(AnyOrder.kind == kind)
    if status:
        query = query.where(AnyOrder.status == status)
    if date:
        query = query.where(AnyOrder.service_date == date)
    if district:
        query = query.where(AnyOrder.district == district)
    column = SORT_COLUMNS[sort.lstrip("-")]
    if sort.startswith("-"):
        return query.order_by(column.desc(), AnyOrder.id.desc())
    return query.order_by(column.asc(), AnyOrder.id.asc())


def access_order(actor: Actor, order_id: int) -> Order:
    """The order if ``actor`` may see it, else ``NotFound`` (missing and not-yours alike)."""
    order = session.scalar(select(AnyOrder).where(AnyOrder.id == order_id, _visible(actor)))
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


def access_care_order(actor: Actor, order_id: int) -> CareOrder:
    order = access_order(actor, order_id)
    if not isinstance(order, CareOrder):
        raise NotFound(f"No care order {order_id}.")
    return order


def access_delivery_order(actor: Actor, order_id: int) -> DeliveryOrder:
    order = access_order(actor, order_id)
    if not isinstance(order, DeliveryOrder):
        raise NotFound(f"No delivery order {order_id}.")
    return order


def access_own_order(actor: Actor, order_id: int) -> Order:
    """An order of the calling patient only (tracking is for the owner, not for staff)."""
    order = session.get(Order, order_id) if actor.role == "patient" and actor.patient_id else None
    if order is None or order.patient_id != actor.patient_id:
        raise NotFound(f"No order {order_id}.")
    return order


def access_me(actor: Actor) -> Patient:
    """The calling patient's own record (``access_me_at`` also locks it, for a booking)."""
    patient = session.get(Patient, actor.patient_id) if actor.role == "patient" and actor.patient_id else None
    if patient is None:
        raise NotFound("This account has no patient record.")
    return patient


def access_me_at(actor: Actor, address_id: int) -> tuple[Patient, Address | None]:
    """The calling patient's record, locked until the transaction ends (``SELECT ... FOR UPDATE``; see
    ``orders.series.check_open_order_limit``), and their address ``address_id`` (None when it is not
    theirs), in one round trip: a booking needs both."""
    row = (session.execute(_ME_AT, {"patient_id": actor.patient_id, "address_id": address_id}).first()
           if actor.role == "patient" and actor.patient_id else None)
    if row is None:
        raise NotFound("This account has no patient record.")
    return row[0], row[1]


# Built once, with named parameters: building a select costs more than running it (every booking reads this).
_ME_AT = (select(Patient, Address)
          .outerjoin(Address, and_(Address.id == bindparam("address_id"), Address.patient_id == Patient.id))
          .where(Patient.id == bindparam("patient_id"))
          .with_for_update(of=Patient))


def find_patient_address(patient_id: int, address_id: int) -> Address | None:
    """The address if it belongs to that patient (callers turn None into a 422 on their field)."""
    address = session.get(Address, address_id)
    return address if address is not None and address.patient_id == patient_id else None


def access_pharmacy(actor: Actor, pharmacy_id: int) -> Pharmacy:
    """Any pharmacy for staff who manage or dispatch; a pharmacist sees only their own."""
    pharmacy = session.get(Pharmacy, pharmacy_id)
    if pharmacy is None or (actor.role == "pharmacist" and actor.pharmacy_id != pharmacy_id):
        raise NotFound(f"No pharmacy {pharmacy_id}.")
    return pharmacy
