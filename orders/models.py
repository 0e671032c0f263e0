"""Patients, their addresses, pharmacies, the home-care catalogue and orders.

Care orders and delivery orders share one ``orders`` table (joined-table
inheritance) so that ids are unique across kinds: ``GET /orders/{id}`` and the
history work for both, and one optimistic ``version`` guards every change.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from doorstep.db import Base, utcnow


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Clinical facts that catalogue eligibility rules ask about (orders/eligibility.py); health
    # data: reads are audited and the values are never logged.
    discharge_date: Mapped[date | None]
    diagnoses: Mapped[list[str]] = mapped_column(default=list)  # ICD-10 codes
    # The assessment before the first home visit, part of triage.
    initial_assessment_at: Mapped[datetime | None]
    # A user id without a foreign key: users already refer to patients, and a cycle of keys
    # would leave no order in which to empty the two tables.
    initial_assessment_by: Mapped[int | None]
    birth_date: Mapped[date | None]  # when known: the triage queue shows the age

    @property
    def age(self) -> int | None:
        """Whole years today (UTC date: a day's error at most, enough for triage), or None when unknown."""
        if self.birth_date is None:
            return None
        today = utcnow().date()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

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
    # For the worker at the door, e.g. "gate code 1234#, 3rd floor, dog": shown on the day's route only.
    access_notes: Mapped[str | None] = mapped_column(Text)
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
    # The price as last set to take effect at once; ``prices`` is the authority (see price_on).
    price_fen: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)
    required_qualification: Mapped[str] = mapped_column(String(40), default="home_care_qualified")
    eligibility: Mapped[dict[str, Any]] = mapped_column(default=lambda: {"rule": "none"})
    preparation_notes: Mapped[str | None] = mapped_column(Text)
    preparation_notes_zh: Mapped[str | None] = mapped_column(Text)

    prices: Mapped[list["CataloguePrice"]] = relationship(
        order_by="[CataloguePrice.effective_from, CataloguePrice.id]", cascade="all, delete-orphan", lazy="selectin")

    def price_on(self, moment: datetime) -> int:
        """The price in effect at ``moment``: the latest price row that took effect by then."""
        current = self.price_fen
        for row in self.prices:
            if row.effective_from <= moment:
                current = row.price_fen
        return current


class CataloguePrice(Base):
    """One price of an item from a moment on; an order keeps the price in effect when it was booked."""

    __tablename__ = "catalogue_prices"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("catalogue_items.id"), index=True)
    price_fen: Mapped[int]
    effective_from: Mapped[datetime]
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    # No save-update cascade: each change adds its own event (orders.lifecycle), and the creation's
    # event, written apart, sits in the collection for the answer without being saved again.
    history: Mapped[list["OrderEvent"]] = relationship(order_by="OrderEvent.id", back_populates="order",
                                                       cascade="merge")

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
    # One occurrence of a recurring series (orders/series.py): which series, and which visit of it (1, 2, ...).
    series_id: Mapped[int | None] = mapped_column(ForeignKey("care_series.id"), index=True)
    series_sequence: Mapped[int | None]

    questions: Mapped[list["CareQuestion"]] = relationship(order_by="CareQuestion.id", back_populates="order")

    __mapper_args__ = {"polymorphic_identity": "care"}


class DeliveryOrder(Order):
    """A parcel of pharmacist-reviewed prescription drugs from a pharmacy to a patient."""

    __tablename__ = "delivery_orders"

    id: Mapped[int] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    pharmacy_id: Mapped[int] = mapped_column(ForeignKey("pharmacies.id"), index=True)
    prescription_ref: Mapped[str] = mapped_column(String(60), index=True)
    # A prescription backs one delivery: the ref while this order holds it, null once the
    # order is cancelled or rejected (never delivered, so the prescription may be used again).
    # Unique, so two pharmacists racing with one prescription cannot both win.
    prescription_hold: Mapped[str | None] = mapped_column(String(60), unique=True)
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    cold_chain: Mapped[bool] = mapped_column(default=False)
    # Per order; null: the hospital's DOORSTEP_COLD_CHAIN_MAX_MINUTES (cold-chain parcels only).
    max_out_of_fridge_minutes: Mapped[int | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    # Proof of delivery (mobile_api/proof.py): the seal scanned at pickup, which the drop-off must match,
    # and for cold chain the minutes outside 2-8 °C in the delivery box's log (null: none recorded).
    seal_code: Mapped[str | None] = mapped_column(String(40))
    cold_chain_excursion_minutes: Mapped[int | None]

    pharmacy: Mapped[Pharmacy] = relationship()
    items: Mapped[list["DeliveryItem"]] = relationship(order_by="DeliveryItem.id", cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_identity": "delivery"}

    RELEASES_PRESCRIPTION = frozenset({"cancelled", "rejected"})

    @validates("status")
    def _release_prescription(self, _key: str, status: str) -> str:
        if status in self.RELEASES_PRESCRIPTION:
            self.prescription_hold = None
        return status


class DeliveryItem(Base):
    __tablename__ = "delivery_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("delivery_orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int]
    unit: Mapped[str | None] = mapped_column(String(20))  # e.g. box, vial, pen


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


class CareSeries(Base):
    """Recurring visits booked at once (e.g. PICC maintenance weekly for six weeks): one care order each."""

    __tablename__ = "care_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("catalogue_items.code"))
    every_days: Mapped[int]
    count: Mapped[int]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list[CareOrder]] = relationship(order_by="CareOrder.series_sequence",
                                                   foreign_keys="CareOrder.series_id")


class CareQuestion(Base):
    """A triage nurse's question to the patient about a care order, and the patient's answer.

    Health data: the texts are never logged; reads and writes leave audit rows (ids only).
    """

    __tablename__ = "care_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("care_orders.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]

    order: Mapped[CareOrder] = relationship(back_populates="questions")
