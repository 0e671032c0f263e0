"""Visit records: what the nurse did, notes and vitals, written with the visit's ``complete`` report.

Health data: the contents are never logged; writing and every read leave an audit row with ids only.
Who reads one: the patient (their own), the nurses whose routes had the visit, dispatchers and
admins (``orders.access``); anyone else gets 404.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from dispatch.models import Stop
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import NotFound
from mobile_api.models import VisitRecord
from orders.access import access_care_order
from orders.models import Order

log = logging.getLogger("doorstep.records")

# Plausible at a home visit: outside these a value is a typo (or a unit mix-up), so 422 naming it.
VITAL_RANGES: dict[str, tuple[float, float, str]] = {
    "systolic": (50, 260, "mmHg"),
    "diastolic": (30, 160, "mmHg"),
    "pulse": (20, 250, "beats a minute"),
    "temperature_c": (30.0, 43.0, "°C"),
    "spo2": (50, 100, "%"),
    "glucose_mmol": (1.0, 35.0, "mmol/L"),
}


def save_record(actor: Actor, stop: Stop, order: Order, record: dict[str, Any]) -> VisitRecord:
    """Keep the record of the visit at ``stop`` (one per stop; the schema validated its fields)."""
    vitals = {k: v for k, v in (record.get("vitals") or {}).items() if v is not None} or None
    row = VisitRecord(stop_id=stop.id, order_id=order.id, patient_id=order.patient_id,
                      worker_id=stop.route.worker_id, done=list(record.get("done") or []),
                      notes=record.get("notes"), vitals=vitals, recorded_by=actor.user_id)
    session.add(row)
    session.flush()
    record_access(actor, "create", "visit_record", row.id, order_id=order.id)
    log.info("event=visit_record stop_id=%s order_id=%s record_id=%s", stop.id, order.id, row.id)
    return row


def get_visit_record(actor: Actor, order_id: int) -> VisitRecord:
    """The record of a care order's visit, for those who may see the order; the read is audited."""
    order = access_care_order(actor, order_id)
    row = session.scalar(select(VisitRecord).where(VisitRecord.order_id == order.id)
                         .order_by(VisitRecord.id.desc()).limit(1))
    if row is None:
        raise NotFound(f"Order {order_id} has no visit record yet.")
    record_access(actor, "read", "visit_record", row.id, order_id=order.id)
    return row
