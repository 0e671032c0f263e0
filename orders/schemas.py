"""The HTTP edge of the orders package: request bodies and queries in, resources out.

Naming follows flask-smorest: ``XSchema`` is what we send, ``XCreateArgs`` /
``XArgs`` a body we accept, ``XQueryArgs`` a query string. Bodies reject
unknown fields (``doorstep.api.Schema``). Rules that need the database or the
hospital's settings (a window on one local day, an address of yours) live in
``orders.service`` and come back as 422s naming the same field paths.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import ValidationError, fields, validate, validates_schema

from doorstep.api import PaginatedQueryArgs, Schema
from doorstep.db import utcnow
from orders.booking import has_control_characters
from orders.catalogue import CATEGORIES
from orders.eligibility import MAX_CODES, MAX_DAYS, RULES, rule_errors
from orders.states import CARE_ORDER, DELIVERY_ORDER
from routing.crs import CRS_NAMES

LAT = validate.Range(min=-90, max=90)
LON = validate.Range(min=-180, max=180)
ALL_STATUSES = sorted(CARE_ORDER.states | DELIVERY_ORDER.states)
ORDER_SORTS = [f"{sign}{key}" for key in ("created_at", "service_date", "window_start") for sign in ("-", "")]
SKILL_CODE = r"^[a-z][a-z0-9_]{0,39}$"
SKILL_ERROR = "A skill code: lower-case letters, digits and underscores, at most 40."


class LocalDateTime(fields.AwareDateTime):
    """Sent in the hospital's time zone (``Settings.timezone``), whatever the database hands back.

    The database returns UTC; a client echoing its own input would otherwise
    get +08:00 on create and +00:00 on every later read.
    """

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(current_app.config["SETTINGS"].timezone))
        return super()._serialize(value, attr, obj, **kwargs)


def _crs() -> fields.String:
    return fields.String(load_default="wgs84", validate=validate.OneOf(CRS_NAMES),
                         metadata={"description": "Coordinate system of lat/lon: wgs84 (GPS), gcj02 "
                                                  "(AMap, Tencent, WeChat) or bd09 (Baidu)."})


# Catalogue --------------------------------------------------------------------------------

class EligibilitySchema(Schema):
    """One of ``{"rule": "none"}``, ``{"rule": "discharged_within_days", "days": N}``,
    ``{"rule": "diagnosis_in", "codes": ["I50", ...]}`` (ICD-10), ``{"rule": "triage_always"}``."""

    rule = fields.String(required=True, validate=validate.OneOf(RULES))
    days = fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_DAYS),
                          metadata={"description": "discharged_within_days: discharged at most this many "
                                                   "days before the booking date."})
    codes = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                        validate=validate.Length(min=1, max=MAX_CODES),
                        metadata={"description": "diagnosis_in: ICD-10 codes; E11 covers E11.9."})

    @validates_schema
    def _fits_rule(self, data: dict[str, Any], **_kwargs: Any) -> None:
        errors = {key.removeprefix("eligibility."): messages for key, messages in rule_errors(data).items()}
        if errors:
            raise ValidationError(errors)


class PriceSchema(Schema):
    price_fen = fields.Integer()
    effective_from = LocalDateTime()
    set_by = fields.Integer(allow_none=True, metadata={"description": "The admin who set it; null when seeded."})


class CatalogueItemSchema(Schema):
    code = fields.String()
    name = fields.String()
    name_zh = fields.String()
    category = fields.String(metadata={"enum": list(CATEGORIES)})
    skills = fields.List(fields.String())
    duration_minutes = fields.Integer()
    price_fen = fields.Function(lambda item: item.price_on(utcnow()), metadata={
        "type": "integer", "description": "Price in fen (1/100 yuan) in effect now."})
    required_qualification = fields.String(metadata={
        "description": "A skill the nurse needs besides skills; home_care_qualified is computed from the "
                       "nurse's title and years of practice."})
    eligibility = fields.Nested(EligibilitySchema)
    preparation_notes = fields.String(allow_none=True, metadata={"description": "For the patient, in English."})
    preparation_notes_zh = fields.String(allow_none=True, metadata={"description": "For the patient, in Chinese."})
    active = fields.Boolean()


class CatalogueItemAdminSchema(CatalogueItemSchema):
    """An item with its price history (admins)."""

    prices = fields.List(fields.Nested(PriceSchema), metadata={"description": "Oldest first, "
                                                                              "including prices yet to come."})


class CatalogueQueryArgs(Schema):
    include_inactive = fields.Boolean(load_default=False, metadata={"description": "Withdrawn items too (admins)."})


class _CatalogueItemFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    name_zh = fields.String(validate=validate.Length(min=1, max=60))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    skills = fields.List(fields.String(validate=validate.Regexp(SKILL_CODE, error=SKILL_ERROR)),
                         validate=validate.Length(max=20))
    required_qualification = fields.String(validate=validate.Regexp(SKILL_CODE, error=SKILL_ERROR),
                                           metadata={"description": "Default home_care_qualified."})
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(min=5, max=480))
    price_fen = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))
    eligibility = fields.Nested(EligibilitySchema, metadata={"description": "Default {\"rule\": \"none\"}."})
    preparation_notes = fields.String(allow_none=True, validate=validate.Length(max=2000))
    preparation_notes_zh = fields.String(allow_none=True, validate=validate.Length(max=2000))
    active = fields.Boolean(metadata={"description": "false withdraws the item: no longer listed or bookable."})


class CatalogueItemUpdateArgs(_CatalogueItemFields):
    """Every field optional; a new price_fen joins the price history, booked orders keep theirs."""

    price_effective_from = fields.AwareDateTime(metadata={"description": "When price_fen takes effect; "
                                                                         "default now, never in the past."})


class CatalogueItemCreateArgs(_CatalogueItemFields):
    code = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z][a-z0-9_]{1,39}$", error="2 to 40 characters: lower-case letters, digits, underscores."))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=60))
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    skills = fields.List(fields.String(validate=validate.Regexp(SKILL_CODE, error=SKILL_ERROR)), required=True,
                         validate=validate.Length(max=20))
    duration_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=5, max=480))
    price_fen = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=10_000_000))


# Clinical facts ---------------------------------------------------------------------------

class InitialAssessmentSchema(Schema):
    at = LocalDateTime()
    by = fields.Integer(metadata={"description": "The user who assessed the patient."})


class PatientClinicalSchema(Schema):
    patient_id = fields.Integer(attribute="id")
    discharge_date = fields.Date(allow_none=True)
    diagnoses = fields.List(fields.String(), metadata={"description": "ICD-10 codes."})
    initial_assessment = fields.Method("_assessment", metadata={
        "type": "object", "nullable": True,
        "description": "The assessment before the first visit ({at, by}), or null when not yet done."})

    def _assessment(self, patient: Any) -> dict[str, Any] | None:
        if patient.initial_assessment_at is None:
            return None
        return InitialAssessmentSchema().dump({"at": patient.initial_assessment_at,
                                               "by": patient.initial_assessment_by})


class PatientClinicalArgs(Schema):
    discharge_date = fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD; null clears it."})
    diagnoses = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                            validate=validate.Length(max=MAX_CODES),
                            metadata={"description": "ICD-10 codes, replacing the list, e.g. [\"I50.9\"]."})


# Patients and addresses -------------------------------------------------------------------

class AddressSchema(Schema):
    id = fields.Integer()
    label = fields.String()
    line = fields.String()
    lat = fields.Float(metadata={"description": "WGS-84 degrees."})
    lon = fields.Float(metadata={"description": "WGS-84 degrees."})
    district = fields.String()
    access_notes = fields.String(allow_none=True, metadata={
        "description": "For the worker at the door (gate code, floor, dog); shown on their route."})


class AddressCreateArgs(Schema):
    """An address: with its point (as phones send it), or only its line, which is then geocoded."""

    label = fields.String(required=True, validate=validate.Length(min=1, max=60))
    line = fields.String(required=True, validate=validate.Length(min=1, max=255),
                         metadata={"description": "The address as written; looked up when lat/lon are absent."})
    lat = fields.Float(validate=LAT, metadata={"description": "Degrees in crs. lat and lon come together; "
                                                             "without both the line is geocoded (422 naming "
                                                             "lat/lon where no geocoder is configured)."})
    lon = fields.Float(validate=LON, metadata={"description": "Degrees in crs; together with lat."})
    crs = _crs()
    access_notes = fields.String(load_default=None, validate=[validate.Length(max=500), lambda v: plain_text(v)], metadata={
        "description": "For the worker at the door, e.g. \"gate code 1234#, 3rd floor, dog\"."})

    @validates_schema
    def _point_or_none(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if ("lat" in data) != ("lon" in data):
            missing = "lon" if "lat" in data else "lat"
            raise ValidationError({missing: ["Required together with the other."]})


class PatientSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    addresses = fields.List(fields.Nested(AddressSchema))


# Windows ----------------------------------------------------------------------------------

class WindowArgs(Schema):
    start = fields.AwareDateTime(required=True, metadata={"description": "ISO 8601 with offset."})
    end = fields.AwareDateTime(required=True, metadata={"description": "After start, same local day, "
                                                                        "at most 12 hours later."})


class OrderWindowSchema(Schema):
    start = LocalDateTime()
    end = LocalDateTime()


class _WindowField(fields.Nested):
    """An order's ``window_start``/``window_end`` columns, sent as one ``{start, end}`` object or null."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        start, end = getattr(obj, "window_start", None), getattr(obj, "window_end", None)
        return {"start": start, "end": end} if start is not None and end is not None else None


# Orders -----------------------------------------------------------------------------------

class HistoryEntrySchema(Schema):
    at = LocalDateTime()
    from_ = fields.String(data_key="from", attribute="from_status", allow_none=True)
    to = fields.String(attribute="to_status")
    by = fields.Integer(attribute="actor_user_id", allow_none=True,
                        metadata={"description": "The user who made the change; null for the system."})
    reason = fields.String(allow_none=True)


class DeliveryItemSchema(Schema):
    """An item of a parcel as sent back (bodies use ``orders.delivery_schemas.DeliveryItemArgs``)."""

    name = fields.String()
    quantity = fields.Integer()
    unit = fields.String(allow_none=True)


class _OrderFields(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": ["care", "delivery"]})
    status = fields.String(metadata={"enum": ALL_STATUSES})
    patient_id = fields.Integer()
    address_id = fields.Integer()
    district = fields.String()
    service_date = fields.String(metadata={"description": "Local date of service, YYYY-MM-DD."})
    window = _WindowField(OrderWindowSchema, allow_none=True)
    created_at = LocalDateTime()


def plain_text(value: str) -> None:
    """Text in any language, emoji and right-to-left scripts included; no control characters but
    newline, carriage return and tab (they garble screens, logs and labels)."""
    if has_control_characters(value):
        raise ValidationError("Must not contain control characters (newlines and tabs are fine).")


class CareQuestionSchema(Schema):
    """A triage nurse's question about a care order, and the patient's answer once given."""

    id = fields.Integer()
    text = fields.String()
    asked_by = fields.Integer()
    asked_at = LocalDateTime()
    answer = fields.String(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)


class _CareFields(Schema):
    service_code = fields.String()
    skills = fields.List(fields.String())
    duration_minutes = fields.Integer()
    price_fen = fields.Integer()
    notes = fields.String(allow_none=True)
    triaged_by = fields.Integer(allow_none=True)
    triaged_at = LocalDateTime(allow_none=True)
    series_id = fields.Integer(allow_none=True, metadata={"description": "The recurring series it belongs to."})
    series_sequence = fields.Integer(allow_none=True, metadata={"description": "Its place in the series, from 1."})


class _DeliveryFields(Schema):
    pharmacy_id = fields.Integer()
    tracking_code = fields.String()
    prescription_ref = fields.String()
    cold_chain = fields.Boolean()
    max_out_of_fridge_minutes = fields.Integer(allow_none=True, metadata={
        "description": "Cold chain: this order's longest ride; null: the hospital's default."})
    reviewed_by = fields.Integer(allow_none=True)
    reviewed_at = LocalDateTime(allow_none=True)


class _History(Schema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class CareOrderSchema(_OrderFields, _CareFields, _History):
    """A care order (home nursing visit) with its status history and triage questions."""

    questions = fields.List(fields.Nested(CareQuestionSchema),
                            metadata={"description": "Triage questions to the patient and their answers."})


class DeliveryOrderSchema(_OrderFields, _DeliveryFields, _History):
    """A delivery order (parcel) with its items and status history."""

    items = fields.List(fields.Nested(DeliveryItemSchema))
    delivery_code = fields.Method("_delivery_code", allow_none=True, metadata={
        "description": "The owner only, once the parcel is out for delivery: the 6-digit code to show the "
                       "courier at the door (null for everyone else, and once used)."})
    cold_chain_excursion_minutes = fields.Integer(allow_none=True, metadata={
        "description": "Cold chain: minutes the delivery box was outside 2-8 °C, when that was an excursion."})

    def _delivery_code(self, order: Any) -> str | None:
        from mobile_api.proof import delivery_code_for_owner

        return delivery_code_for_owner(order)


class OrderSchema(CareOrderSchema, DeliveryOrderSchema):
    """An order of either kind: ``kind`` says which kind's fields are present."""


class OrderSummarySchema(_OrderFields, _CareFields, _DeliveryFields):
    """An order in a list: no history or items (fetch the order for those)."""


class OrderQueryArgs(PaginatedQueryArgs):
    kind = fields.String(validate=validate.OneOf(["care", "delivery"]))
    status = fields.String(validate=validate.OneOf(ALL_STATUSES))
    date = fields.Date(metadata={"description": "Service date, YYYY-MM-DD (local)."})
    district = fields.String(validate=validate.Length(min=1, max=40))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(ORDER_SORTS), metadata={
        "description": "created_at, service_date or window_start; a leading '-' for newest first "
                       "(default -created_at)."})


class CareOrderCreateArgs(Schema):
    service_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    address_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    window = fields.Nested(WindowArgs, required=True)
    notes = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), plain_text])


class TriageArgs(Schema):
    accepted = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                           metadata={"description": "Required when accepted is false."})


class CancelArgs(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


# Tracking ---------------------------------------------------------------------------------

class PositionSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    at = LocalDateTime()


class TrackingSchema(Schema):
    order_id = fields.Integer()
    status = fields.String()
    eta = LocalDateTime(allow_none=True)
    worker_first_name = fields.String(allow_none=True)
    position = fields.Nested(PositionSchema, allow_none=True,
                             metadata={"description": "Only while the worker is on the way to you."})


class PublicTrackingSchema(Schema):
    tracking_code = fields.String()
    status = fields.String()
    eta = LocalDateTime(allow_none=True)


# Pharmacies -------------------------------------------------------------------------------

class PharmacySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    lat = fields.Float()
    lon = fields.Float()
    district = fields.String()


class PharmacyQueryArgs(PaginatedQueryArgs):
    """No filters yet: only ``page`` and ``page_size``."""


class PharmacyCreateArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    crs = _crs()


class PharmacyUpdateArgs(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    lat = fields.Float(validate=LAT)
    lon = fields.Float(validate=LON)
    crs = _crs()
