"""Patients, their addresses, pharmacies, the home-care catalogue and orders.

Care orders and delivery orders share one ``orders`` table (joined-table
inheritance) so that ids are unique across kinds: ``GET /orders/{id}`` and the
history work for both, and one optimistic ``version`` guards every change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from doorstep.db import Base, utcnow


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    addresses: Mapped[list["Address"]] = relationship(back_populates="patient", order_by="Address.id")

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if " " in self.name else self.name[-2:] if len(self.name) > 2 else self.name


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    line: Mapped[str] = mapped_column(String(255))
    lat: Mapped[float]
    lon: Mapped[float]
    district: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="addresses")


class Pharmacy(Base):
    __tablename__ = "pharmacies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    district: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CatalogueItem(Base):
    """One item of the hospital's home-care catalogue (a service a nurse performs)."""

    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))  # basic, specialty
    skills: Mapped[list[str]] = mapped_column(default=list)
    duration_minutes: Mapped[int]
    price_fen: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Order(Base):
    """What both kinds share: whose, where, when, and the status the state machine guards."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # care, delivery
    status: Mapped[str] = mapped_column(String(30), index=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    district: Mapped[str] = mapped_column(String(40), index=True)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    service_date: Mapped[str] = mapped_column(String(10), index=True)  # local date, YYYY-MM-DD
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    address: Mapped[Address] = relationship()
    history: Mapped[list["OrderEvent"]] = relationship(order_by="OrderEvent.id", back_populates="order")

    __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "order", "version_id_col": version}


class CareOrder(Order):
    """A home nursing visit for one catalogue item; price and skills are kept as booked."""

    __tablename__ = "care_orders"

    id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("catalogue_items.code"))
    skills: Mapped[list[str]] = mapped_column(default=list)
    duration_minutes: Mapped[int]
    price_fen: Mapped[int]
    notes: Mapped[str | None] = mapped_column(Text)
    triaged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    triaged_at: Mapped[datetime | None]

    __mapper_args__ = {"polymorphic_identity": "care"}


class DeliveryOrder(Order):
    """A parcel of pharmacist-reviewed prescription drugs from a pharmacy to a patient."""

    __tablename__ = "delivery_orders"

    id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    prescription_ref: Mapped[str] = mapped_column(String(60), unique=True)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    cold_chain: Mapped[bool] = mapped_column(default=False)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]

    pharmacy: Mapped[Pharmacy] = relationship()
    items: Mapped[list["DeliveryItem"]] = relationship(order_by="DeliveryItem.id", cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_identity": "delivery"}


class DeliveryItem(Base):
    __tablename__ = "delivery_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int]


class OrderEvent(Base):
    """One status change: who, when, from, to, why. Written with the change itself."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[Order] = relationship(back_populates="history")
