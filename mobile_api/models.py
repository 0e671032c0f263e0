"""What visit verification and proof of delivery keep: the office's exception queue, visit records,
proof files and the patient's one-time delivery codes.

Visit records and proof files are health data: their contents are never logged, and every read
leaves an audit row (``doorstep.audit``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from doorstep.db import Base, utcnow

EXCEPTION_KINDS = ("far_from_door", "missed_check_in", "missed_check_out", "time_correction")
EXCEPTION_STATUSES = ("open", "approved", "rejected")


class EvvException(Base):
    """Something about a visit (or a delivery) the office must look at, and what it decided.

    ``dedupe_key`` is unique where one exception per fact is enough (a missed check-in of an
    order, a far check-in of a stop), so a periodic job or a resend never opens a second one;
    time corrections leave it null (a worker may ask more than once).
    """

    __tablename__ = "evv_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    event_type: Mapped[str | None] = mapped_column(String(20))  # the report concerned: arrive, complete, ...
    stop_event_id: Mapped[int | None] = mapped_column(ForeignKey("stop_events.id"))
    distance_m: Mapped[int | None]
    requested_at: Mapped[datetime | None]  # a time correction: the time the worker says is right
    reason: Mapped[str | None] = mapped_column(Text)  # the worker's reason for a correction
    raised_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # null: the system
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class VisitRecord(Base):
    """What the nurse did at a visit, written with its ``complete`` report. Health data."""

    __tablename__ = "visit_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    done: Mapped[list[str]] = mapped_column(default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    vitals: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProofFile(Base):
    """A signature or photo a courier uploaded at a drop-off; the bytes live in the file store."""

    __tablename__ = "proof_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(ForeignKey("stops.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # signature, photo
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryCode(Base):
    """The one-time code a parcel's patient shows the courier; made when it goes out for delivery.

    Wrong tries are counted in their own transaction (``mobile_api.proof``) so that the 422
    that refuses the delivery does not also forget the try; at the limit the code is locked.
    """

    __tablename__ = "delivery_codes"

    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(6))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    failures: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
