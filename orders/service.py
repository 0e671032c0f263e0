"""Use cases of the orders package: one function each, called by views, tasks, the CLI and tests.

Each function takes the acting ``Actor`` and typed arguments (never a request
dict), checks the rules, writes the change with its history and audit rows, and
flushes. None commits: the caller owns the transaction. Field errors name the
field as the client wrote it (``window.end``, ``address_id``) so the API can
answer 422 precisely.
"""
from __future__ import annotations

import datetime as dt
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, select

from dispatch.withdraw import withdraw_order
from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Forbidden, ValidationFailed
from doorstep.geography import districts, geocode_line
from orders.access import (
    access_care_order,
    access_me,
    access_me_at,
    access_order,
    access_pharmacy,
    is_triage_nurse,
    visible_orders,
)
from orders.booking import booking_errors, window_errors
from orders.cancellation import check_cancel
from orders.catalogue import bookable_item, booking_terms
from orders.clinical import patient_facts
from orders.lifecycle import change_status, record_creation
from orders.models import Address, CareOrder, Order, Patient, Pharmacy
from orders.states import CARE_ORDER

log = logging.getLogger("doorstep.orders")



def _require(actor: Actor, *roles: str) -> None:
    """Defence in depth: views check roles too, but the CLI and tasks call services directly."""
    if not actor.has_role(*roles):
        raise Forbidden("Your role may not do this.")


def local_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].timezone)


def locate_point(lat: float, lon: float, crs: str = "wgs84") -> tuple[float, float, str]:
    """WGS-84 ``(lat, lon, district)`` of a point given in ``crs``; 422 naming lat/lon outside every district."""
    from routing.crs import to_wgs84

    try:
        lat, lon = to_wgs84(lat, lon, crs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"crs": [str(exc)]}) from exc
    district = districts().locate(lat, lon)
    if district is None:
        message = "Outside every district we serve."
        raise ValidationFailed("This point lies outside every served district.", {"lat": [message], "lon": [message]})
    return lat, lon, district


def window_service_date(start: datetime | None, end: datetime | None, field: str = "window") -> str | None:
    """The local date (YYYY-MM-DD) of a valid window, or ``ValidationFailed`` naming the bad end."""
    if start is None and end is None:
        return None
    errors = window_errors(start, end, local_tz(), field)  # orders.booking: one place for window rules
    if errors:
        raise ValidationFailed("The time window is not valid.", errors)
    assert start is not None
    return start.astimezone(local_tz()).date().isoformat()


# Patients and addresses ------------------------------------------------------------------

def get_me(actor: Actor) -> Patient:
    """The calling patient's profile with addresses; the read is audited."""
    _require(actor, "patient")
    patient = access_me(actor)
    record_access(actor, "read", "patient", patient.id)
    return patient


def add_address(actor: Actor, *, label: str, line: str, lat: float | None = None, lon: float | None = None,
                crs: str = "wgs84", access_notes: str | None = None) -> Address:
    """Add an address to the calling patient; its district is resolved from the point.

    A point (``lat`` and ``lon``, in ``crs``) is used as sent: phones send one. Without
    one, the line is geocoded (``doorstep.geography.geocode_line``: 422 naming lat/lon
    with no geocoder configured, 422 naming ``line`` when nothing is found or the place
    is outside every district, 503 when the geocoder fails). Nothing is written before
    the point and its district are known.
    """
    _require(actor, "patient")
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise ValidationFailed("Send lat and lon together, or neither to look the line up.",
                               {missing: ["Required together with the other."]})
    if lat is not None and lon is not None:
        lat, lon, district = locate_point(lat, lon, crs)
    else:
        lat, lon = geocode_line(line)
        try:
            lat, lon, district = locate_point(lat, lon)
        except ValidationFailed:
            raise ValidationFailed("This address lies outside every served district.",
                                   {"line": ["Found outside every district we serve."]}) from None
    patient = access_me(actor)  # after the point: a failing geocoder answers before any read or write of ours
    address = Address(patient_id=patient.id, label=label, line=line, lat=lat, lon=lon, district=district,
                      access_notes=access_notes)
    session.add(address)
    session.flush()
    record_access(actor, "create", "address", address.id, patient_id=patient.id)
    log.info("event=address_added patient_id=%s address_id=%s district=%s", patient.id, address.id, district)
    return address


# Care orders ------------------------------------------------------------------------------

def place_care_order(actor: Actor, *, service_code: str, address_id: int, window_start: datetime,
                     window_end: datetime, notes: str | None = None, now: datetime | None = None) -> CareOrder:
    """A patient books a catalogue item at one of their addresses; it waits for triage.

    The window passes the hospital's booking rules at ``now`` (default: this moment;
    the demo seed books its day as if three days ahead): ``orders.booking``. At the
    patient's open-order limit the answer is 409 (``orders.series``).
    """
    from orders.series import booking_rules, insert_within_open_order_limit

    _require(actor, "patient")
    now = now or utcnow()
    # The patient locked now for the open-order count below, and the address, in one round trip.
    patient, address = access_me_at(actor, address_id)
    errors: dict[str, list[str]] = {}
    item = bookable_item(service_code)
    if item is None:
        errors["service_code"] = ["No such service in the catalogue."]
    if address is None:
        errors["address_id"] = ["No such address of yours."]
    errors.update(booking_errors(window_start, window_end, rules=booking_rules(), now=now,
                                 duration_minutes=item.duration_minutes if item is not None else None))
    if errors:
        raise ValidationFailed("The care order cannot be placed.", errors)
    assert item is not None and address is not None
    service_date = window_start.astimezone(local_tz()).date().isoformat()
    # The price in effect now, and the item's eligibility rule (422 naming service_code when the
    # patient is not eligible; terms.needs_triage when a nurse must look before it is accepted).
    terms = booking_terms(item, patient_facts(patient), now, now.astimezone(local_tz()).date())
    order = CareOrder(status=CARE_ORDER.initial, patient_id=patient.id, address_id=address.id,
                      district=address.district, window_start=window_start, window_end=window_end,
                      service_date=service_date, created_by=actor.user_id, service_code=item.code,
                      skills=list(item.skills), duration_minutes=item.duration_minutes,
                      price_fen=terms.price_fen, notes=notes,
                      history=[], questions=[])  # none yet: the answer then costs no query for them
    # One statement for its two tables and the open-order limit (409 at the limit), no unit of work.
    insert_within_open_order_limit(order)
    record_creation(order, actor)
    record_access(actor, "create", "care_order", order.id, patient_id=patient.id)
    # No flush here: the history, outbox and audit rows go with the caller's commit (one flush, not two).
    log.info("event=care_order_placed order_id=%s service_code=%s district=%s date=%s",
             order.id, item.code, order.district, service_date)
    return order


def triage_care_order(actor: Actor, order_id: int, *, accepted: bool, reason: str | None = None) -> CareOrder:
    """A triage nurse or a dispatcher accepts the order for a home visit, or rejects it with a reason.

    Accepting a patient's first visit records their initial assessment; deciding the first
    visit of a series decides every visit of it still waiting (``orders.triage.after_triage``).
    """
    from orders.triage import after_triage

    if not (actor.role == "dispatcher" or is_triage_nurse(actor)):
        raise Forbidden("Only a nurse with the triage skill or a dispatcher may triage.")
    order = access_care_order(actor, order_id)
    if not accepted and not (reason and reason.strip()):
        raise ValidationFailed("A rejection needs a reason.", {"reason": ["Required when accepted is false."]})
    change_status(order, "accepted" if accepted else "rejected", actor, None if accepted else reason)
    order.triaged_by, order.triaged_at = actor.user_id, utcnow()
    after_triage(actor, order, accepted=accepted, reason=reason)  # first-visit assessment; the whole series
    session.flush()
    record_access(actor, "update", "care_order", order.id, change="triage", accepted=accepted)
    return order


# Both kinds -------------------------------------------------------------------------------

def get_order(actor: Actor, order_id: int) -> Order:
    """One order the caller may see, with its history; the read is audited."""
    order = access_order(actor, order_id)
    record_access(actor, "read", "order", order.id)
    return order


def list_orders(actor: Actor, *, kind: str | None = None, status: str | None = None,
                date: dt.date | str | None = None, district: str | None = None,
                sort: str = "-created_at") -> Select[Any]:
    """The caller's orders, filtered and sorted (default newest first), as a select for the paginator;
    audited once."""
    if isinstance(date, dt.date):
        date = date.isoformat()
    filters = {k: v for k, v in (("kind", kind), ("status", status), ("date", date), ("district", district)) if v}
    record_access(actor, "read", "order", "list", **filters)
    return visible_orders(actor, kind=kind, status=status, date=date, district=district, sort=sort)


def cancel_order(actor: Actor, order_id: int, reason: str | None = None) -> Order:
    """Cancel an order under the rules of ``orders.cancellation`` (who, until when, with a reason);
    its stops leave the plan's routes (``dispatch.withdraw``), so the worker's phone drops them."""
    _require(actor, "patient", "pharmacist", "dispatcher")
    order = access_order(actor, order_id)
    check_cancel(actor.role, order.kind, order.status, reason)
    change_status(order, "cancelled", actor, reason)
    withdraw_order(order.id, order.kind)
    record_access(actor, "update", "order", order.id, change="cancel")
    return order


# Pharmacies -------------------------------------------------------------------------------

def list_pharmacies(actor: Actor) -> Select[Any]:
    """Admins and dispatchers see every pharmacy; a pharmacist sees their own."""
    _require(actor, "admin", "dispatcher", "pharmacist")
    query = select(Pharmacy).order_by(Pharmacy.id)
    if actor.role == "pharmacist":
        query = query.where(Pharmacy.id == actor.pharmacy_id)
    return query


def get_pharmacy(actor: Actor, pharmacy_id: int) -> Pharmacy:
    _require(actor, "admin", "dispatcher", "pharmacist")
    return access_pharmacy(actor, pharmacy_id)


def create_pharmacy(actor: Actor, *, name: str, lat: float, lon: float, crs: str = "wgs84") -> Pharmacy:
    """Register a pharmacy at a point inside a served district."""
    _require(actor, "admin")
    lat, lon, district = locate_point(lat, lon, crs)
    pharmacy = Pharmacy(name=name, lat=lat, lon=lon, district=district)
    session.add(pharmacy)
    session.flush()
    log.info("event=pharmacy_created pharmacy_id=%s district=%s", pharmacy.id, district)
    return pharmacy


def update_pharmacy(actor: Actor, pharmacy_id: int, *, name: str | None = None, lat: float | None = None,
                    lon: float | None = None, crs: str = "wgs84") -> Pharmacy:
    """Rename or move a pharmacy; a move needs both lat and lon and re-resolves the district."""
    _require(actor, "admin")
    pharmacy = access_pharmacy(actor, pharmacy_id)
    if (lat is None) != (lon is None):
        missing = "lon" if lon is None else "lat"
        raise ValidationFailed("A move needs both lat and lon.", {missing: ["Required together with the other."]})
    if name is not None:
        pharmacy.name = name
    if lat is not None and lon is not None:
        pharmacy.lat, pharmacy.lon, pharmacy.district = locate_point(lat, lon, crs)
    session.flush()
    return pharmacy

