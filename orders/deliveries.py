"""Delivery orders, the hospital's way: one prescription, one parcel; review; labels; failure; search.

Use cases, one function each (called by views, the seed, tests), taking the
acting ``Actor`` and typed arguments; none commits.

- ``create_delivery_order``: a pharmacist sends a prescription's drugs from their
  pharmacy. A prescription backs one delivery: while an order holds it
  (``DeliveryOrder.prescription_hold``, unique) a second use is a 409 naming the
  first order; a cancelled or rejected order released it (nothing was delivered).
  Narcotic and psychotropic drugs are never sent by delivery (dispensing rules):
  an order with one is a 422 naming ``items.<i>.control``.
- ``review_prescription``: the pharmacy's pharmacist approves (``ready``) or rejects
  with a reason; reviewer and time are recorded. With ``DOORSTEP_REVIEW_TWO_PERSON``
  the one who created the order may not review it (a second pharmacist checks).
- ``redeliver`` (``failed`` → ``ready`` on a new window) and ``return_to_pharmacy``
  (→ ``returned``): pharmacy staff or a dispatcher, with who, when and why in the history.
- ``parcel_label``: the PDF label (``orders.labels``) for the pharmacy and dispatchers.
- ``search_delivery_orders``: by tracking code, prescription ref or the patient's
  phone, within the caller's pharmacy only; every search is audited, its values never.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, or_, select

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from orders.access import access_delivery_order, find_patient_address
from orders.labels import LabelData, render_label
from orders.lifecycle import change_status, record_creation
from orders.models import DeliveryItem, DeliveryOrder, Patient
from orders.service import _require, local_tz, window_service_date
from orders.states import DELIVERY_ORDER

log = logging.getLogger("doorstep.orders.deliveries")

MAX_DELIVERY_ITEMS = 50
# No I, O, 0 or 1: read aloud over the phone, a tracking code must not be mistyped.
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 12  # 32**12 = 2**60 codes: not guessable by enumeration
TRACKING_PREFIX = "DS"
TRACKING_CODE = re.compile(rf"^{TRACKING_PREFIX}[{TRACKING_ALPHABET}]{{{TRACKING_LENGTH}}}$")

# Drugs under special control (麻醉药品, 精神药品) are dispensed at the counter, never by delivery.
CONTROLLED = {"narcotic": "Narcotic", "psychotropic": "Psychotropic"}
STAFF_ROLES = ("pharmacist", "dispatcher")
SEARCH_FIELDS = ("q", "tracking_code", "prescription_ref", "phone")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


# Creating and reviewing -------------------------------------------------------------------

def new_tracking_code() -> str:
    """A fresh code no parcel has yet (collisions are astronomically rare, but checked)."""
    while True:
        code = TRACKING_PREFIX + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
        if session.scalar(select(DeliveryOrder.id).where(DeliveryOrder.tracking_code == code)) is None:
            return code


def holder_of(prescription_ref: str) -> int | None:
    """The order that holds this prescription now (none cancelled or rejected), if any."""
    return session.scalar(select(DeliveryOrder.id).where(DeliveryOrder.prescription_hold == prescription_ref))


def create_delivery_order(actor: Actor, *, prescription_ref: str, patient_id: int, address_id: int,
                          items: Iterable[Mapping[str, Any]], cold_chain: bool = False,
                          window_start: datetime | None = None, window_end: datetime | None = None,
                          max_out_of_fridge_minutes: int | None = None, now: datetime | None = None) -> DeliveryOrder:
    """A pharmacist sends a prescription's drugs from their pharmacy; it waits for review.

    ``items`` are mappings with ``name``, ``quantity`` and optionally ``unit`` and
    ``control`` (``narcotic``, ``psychotropic``, or ``none``/absent). ``now`` (default: the
    clock) is when the order is made, for the "window not over" rule; the demo seed sets it.

    Raises ``Conflict`` (409, ``existing_order_id``) when an order holds the
    prescription, ``ValidationFailed`` (422) naming each bad field, ``Forbidden``
    for anyone but a pharmacist with a pharmacy.
    """
    _require(actor, "pharmacist")
    if not actor.pharmacy_id:
        raise Forbidden("This pharmacist account has no pharmacy.")
    prescription_ref = prescription_ref.strip()
    if not prescription_ref:
        raise ValidationFailed("The prescription reference is blank.", {"prescription_ref": ["Must not be blank."]})
    first = holder_of(prescription_ref)
    if first is not None:
        raise Conflict(f"Prescription {prescription_ref!r} is already on order {first}; a prescription backs "
                       "one delivery (cancel that order first to send it again).",
                       {"prescription_ref": [f"Already used by order {first}."]},
                       extra={"existing_order_id": first})
    errors: dict[str, list[str]] = {}
    items = list(items)
    if not 1 <= len(items) <= MAX_DELIVERY_ITEMS:
        errors["items"] = [f"Between 1 and {MAX_DELIVERY_ITEMS} items."]
    for i, item in enumerate(items):
        if int(item["quantity"]) < 1:
            errors[f"items.{i}.quantity"] = ["Must be at least 1."]
        control = item.get("control")
        if control in CONTROLLED:
            errors[f"items.{i}.control"] = [(
                f"{CONTROLLED[control]} drugs cannot be sent by delivery under dispensing rules; "
                "the patient collects them at the pharmacy.")]
    if max_out_of_fridge_minutes is not None and not cold_chain:
        errors["max_out_of_fridge_minutes"] = ["Only for a cold-chain parcel (cold_chain: true)."]
    address = None
    if session.get(Patient, patient_id) is None:
        errors["patient_id"] = ["No such patient."]
    else:
        address = find_patient_address(patient_id, address_id)
        if address is None:
            errors["address_id"] = ["No such address of this patient."]
    service_date = None
    try:
        service_date = window_service_date(window_start, window_end)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    else:
        if window_end is not None and window_end <= (now or utcnow()):
            errors["window.end"] = ["Is over already."]
    if errors:
        controlled = any(key.endswith(".control") for key in errors)
        raise ValidationFailed("Controlled drugs (narcotic, psychotropic) cannot be sent by delivery."
                               if controlled else "The delivery order cannot be created.", errors)
    assert address is not None
    order = DeliveryOrder(status=DELIVERY_ORDER.initial, patient_id=patient_id, address_id=address.id,
                          district=address.district, window_start=window_start, window_end=window_end,
                          service_date=service_date or (now or utcnow()).astimezone(local_tz()).date().isoformat(),
                          created_by=actor.user_id, pharmacy_id=actor.pharmacy_id,
                          prescription_ref=prescription_ref, prescription_hold=prescription_ref,
                          tracking_code=new_tracking_code(), cold_chain=cold_chain,
                          max_out_of_fridge_minutes=max_out_of_fridge_minutes if cold_chain else None,
                          items=[DeliveryItem(name=i["name"], quantity=int(i["quantity"]), unit=i.get("unit"))
                                 for i in items])
    session.add(order)
    session.flush()
    record_creation(order, actor)
    record_access(actor, "create", "delivery_order", order.id, patient_id=patient_id)
    session.flush()
    log.info("event=delivery_order_created order_id=%s pharmacy_id=%s district=%s cold_chain=%s",
             order.id, order.pharmacy_id, order.district, cold_chain)
    return order


def review_prescription(actor: Actor, order_id: int, *, approved: bool, reason: str | None = None) -> DeliveryOrder:
    """The pharmacy's pharmacist releases the parcel for dispatch, or rejects it with a reason.

    Raises ``NotFound`` (not this pharmacy's order), ``Forbidden`` (two-person review
    on and the caller created the order), ``ValidationFailed`` (a rejection without a
    reason) and ``InvalidTransition`` (not awaiting review).
    """
    _require(actor, "pharmacist")
    order = access_delivery_order(actor, order_id)
    if _settings().review_two_person and order.created_by == actor.user_id:
        raise Forbidden("Two-person review: a pharmacist other than the one who created this order reviews it.")
    if not approved and not (reason and reason.strip()):
        raise ValidationFailed("A rejection needs a reason.", {"reason": ["Required when approved is false."]})
    change_status(order, "ready" if approved else "rejected", actor, None if approved else reason)
    order.reviewed_by, order.reviewed_at = actor.user_id, utcnow()
    session.flush()
    record_access(actor, "update", "delivery_order", order.id, change="review", approved=approved)
    return order


# After a failed delivery ------------------------------------------------------------------

def access_staff_delivery(actor: Actor, order_id: int) -> DeliveryOrder:
    """A parcel for its pharmacy's pharmacists and dispatchers; ``NotFound`` for anyone else."""
    if not actor.has_role(*STAFF_ROLES):
        raise NotFound(f"No delivery order {order_id}.")
    return access_delivery_order(actor, order_id)


def redeliver(actor: Actor, order_id: int, *, window_start: datetime, window_end: datetime,
              reason: str | None = None) -> DeliveryOrder:
    """Send a failed parcel again on a new window: back to ``ready`` for the next plan.

    The window moves the service date with it. Only a ``failed`` parcel is re-delivered
    (409 otherwise); the window must be valid and not over yet (422 naming it).
    """
    _require(actor, *STAFF_ROLES)
    order = access_delivery_order(actor, order_id)
    if order.status != "failed":
        raise InvalidTransition(f"Only a failed delivery is re-delivered; this one is '{order.status}'.")
    service_date = window_service_date(window_start, window_end)
    if window_end <= utcnow():
        raise ValidationFailed("The new window is over already.", {"window.end": ["Is over already."]})
    why = (reason or "").strip() or f"Re-delivery on {service_date} {_hhmm(window_start)}-{_hhmm(window_end)}"
    change_status(order, "ready", actor, why)
    order.window_start, order.window_end, order.service_date = window_start, window_end, service_date
    session.flush()
    record_access(actor, "update", "delivery_order", order.id, change="redeliver")
    log.info("event=delivery_redelivered order_id=%s date=%s", order.id, service_date)
    return order


def return_to_pharmacy(actor: Actor, order_id: int, *, reason: str) -> DeliveryOrder:
    """The parcel goes back to its pharmacy (``returned``, final), with the reason in the history."""
    _require(actor, *STAFF_ROLES)
    order = access_delivery_order(actor, order_id)
    if not (reason and reason.strip()):
        raise ValidationFailed("A return needs a reason.", {"reason": ["Must not be blank."]})
    change_status(order, "returned", actor, reason.strip())
    record_access(actor, "update", "delivery_order", order.id, change="return")
    log.info("event=delivery_returned order_id=%s pharmacy_id=%s", order.id, order.pharmacy_id)
    return order


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(local_tz()).strftime("%H:%M")


# The parcel label -------------------------------------------------------------------------

def parcel_label(actor: Actor, order_id: int) -> tuple[str, bytes]:
    """``(tracking_code, PDF bytes)`` of a parcel's label, for its pharmacy and dispatchers; audited."""
    order = access_staff_delivery(actor, order_id)
    window = (f"{_hhmm(order.window_start)}-{_hhmm(order.window_end)}"
              if order.window_start and order.window_end else None)
    max_minutes = (order.max_out_of_fridge_minutes or _settings().cold_chain_max_minutes) if order.cold_chain else None
    data = LabelData(tracking_code=order.tracking_code, order_id=order.id, pharmacy_name=order.pharmacy.name,
                     patient_name=order.patient.name, district=order.district, service_date=order.service_date,
                     window=window, cold_chain=order.cold_chain, max_out_of_fridge_minutes=max_minutes,
                     item_count=len(order.items))
    record_access(actor, "read", "delivery_label", order.id)
    return order.tracking_code, render_label(data)


# Search -----------------------------------------------------------------------------------

def normalise_phone(text: str) -> str | None:
    """A phone number as digits only, without China's country code; None if it is not one.

    ``+86 138-0000-0001``, ``0086 13800000001`` and ``(138) 0000 0001`` all give ``13800000001``.
    """
    digits = re.sub(r"[\s\-().]", "", text)
    if digits.startswith("+"):
        digits = digits[1:].removeprefix("86")
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if digits.isdigit() and 5 <= len(digits) <= 15 else None


def _phone_matches(number: str) -> Any:
    """Patients whose stored phone, written with any spacing or country code, is ``number``."""
    stored = Patient.phone
    for char in (" ", "-", "(", ")", "."):
        stored = func.replace(stored, char, "")
    return stored.in_([number, f"+86{number}", f"86{number}", f"0086{number}"])


def search_delivery_orders(actor: Actor, *, q: str | None = None, tracking_code: str | None = None,
                           prescription_ref: str | None = None, phone: str | None = None) -> Select[Any]:
    """The caller's pharmacy's parcels matching every given criterion, newest first; audited.

    ``q`` matches a tracking code, a prescription reference or a phone number exactly;
    the named parameters match only their own field. Exact matches only: a search
    finds a parcel someone asks about, it does not browse patients. A pharmacist of
    another pharmacy finds nothing. The audit row and the log say which fields were
    searched, never their values.
    """
    _require(actor, "pharmacist")
    given = {name: value.strip() for name, value in
             (("q", q), ("tracking_code", tracking_code), ("prescription_ref", prescription_ref), ("phone", phone))
             if value is not None and value.strip()}
    if not given:
        raise ValidationFailed("Say what to search for.",
                               {"query.q": ["Give q, tracking_code, prescription_ref or phone."]})
    number = None
    if "phone" in given:
        number = normalise_phone(given["phone"])
        if number is None:
            raise ValidationFailed("Not a phone number.", {"query.phone": ["Digits, with an optional +86."]})
    query = (select(DeliveryOrder).join(Patient, DeliveryOrder.patient_id == Patient.id)
             .where(DeliveryOrder.pharmacy_id == (actor.pharmacy_id or -1)))
    if "tracking_code" in given:
        query = query.where(DeliveryOrder.tracking_code == given["tracking_code"].upper())
    if "prescription_ref" in given:
        query = query.where(DeliveryOrder.prescription_ref == given["prescription_ref"])
    if number is not None:
        query = query.where(_phone_matches(number))
    if "q" in given:
        text = given["q"]
        anything = [DeliveryOrder.tracking_code == text.upper(), DeliveryOrder.prescription_ref == text]
        q_number = normalise_phone(text)
        if q_number is not None:
            anything.append(_phone_matches(q_number))
        query = query.where(or_(*anything))
    fields = sorted(given)
    record_access(actor, "search", "delivery_order", "search", by=fields)
    log.info("event=delivery_search user_id=%s pharmacy_id=%s by=%s", actor.user_id, actor.pharmacy_id,
             ",".join(fields))
    return query.order_by(DeliveryOrder.created_at.desc(), DeliveryOrder.id.desc())
