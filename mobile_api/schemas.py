"""The mobile API's edge: what phones send (``*Args``) and what they get back (``*Schema``)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate, validates_schema

from doorstep.api import Schema
from mobile_api.service import EVENT_TYPES

LAT = validate.Range(min=-90, max=90)
LON = validate.Range(min=-180, max=180)
CRS = ("wgs84", "gcj02", "bd09")  # routing.crs.CRS_NAMES; spelled out so the docs list them


def _crs() -> fields.String:
    return fields.String(load_default="wgs84", validate=validate.OneOf(CRS),
                         metadata={"description": "Coordinate system of lat/lon: wgs84 (GPS, the default), "
                                                  "gcj02 (AMap, Tencent, WeChat) or bd09 (Baidu)."})


# --- in ---------------------------------------------------------------------------------------------

class RouteQueryArgs(Schema):
    date = fields.Date(required=True, metadata={"description": "The local service date, YYYY-MM-DD."})


class TemperatureReadingArgs(Schema):
    at = fields.AwareDateTime(required=True)
    celsius = fields.Float(required=True, validate=validate.Range(min=-40, max=60))


class ProofArgs(Schema):
    """At deliver: who took it, the seal, and the patient's code or an uploaded signature/photo;
    a cold-chain parcel adds the delivery box's temperature log (mobile_api/proof.py)."""

    recipient_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    code = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                         metadata={"description": "The 6-digit code the patient shows."})
    seal_code = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                              metadata={"description": "The parcel's seal as scanned; must match the pickup's."})
    file_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1)),
                           load_default=None, validate=validate.Length(min=1, max=10),
                           metadata={"description": "Signatures or photos uploaded at this stop."})
    temperature_log = fields.List(fields.Nested(TemperatureReadingArgs), load_default=None,
                                  validate=validate.Length(min=1, max=2880))


class VitalsArgs(Schema):
    """Plausible ranges only: anything outside is a 422 naming record.vitals.<field>."""

    systolic = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=50, max=260))
    diastolic = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=30, max=160))
    pulse = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=20, max=250))
    temperature_c = fields.Float(load_default=None, validate=validate.Range(min=30, max=43))
    spo2 = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=50, max=100))
    glucose_mmol = fields.Float(load_default=None, validate=validate.Range(min=1, max=35))

    @validates_schema
    def _pressure_pair(self, data: dict, **_kwargs: object) -> None:
        systolic, diastolic = data.get("systolic"), data.get("diastolic")
        if (systolic is None) != (diastolic is None):
            raise ValidationError({"diastolic" if diastolic is None else "systolic": ["Give both pressures."]})
        if systolic is not None and diastolic >= systolic:
            raise ValidationError({"diastolic": ["Must be below systolic."]})


class VisitRecordArgs(Schema):
    done = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                       validate=validate.Length(min=1, max=50), metadata={"description": "What was done."})
    notes = fields.String(load_default=None, validate=validate.Length(max=4000))
    vitals = fields.Nested(VitalsArgs, load_default=None)


class StopEventCreateArgs(Schema):
    type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    at = fields.AwareDateTime(required=True, metadata={"description": "When it happened, with offset."})
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    crs = _crs()
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    reason = fields.String(load_default=None, validate=validate.Length(max=2000),
                           metadata={"description": "Required when type is fail."})
    proof = fields.Nested(ProofArgs, load_default=None, metadata={"description": "Only with type deliver."})
    event_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64), metadata={
        "description": "The phone's id for this report: a resend with it returns the stored report."})
    record = fields.Nested(VisitRecordArgs, load_default=None,
                           metadata={"description": "Only with complete at a visit: the visit record."})
    seal_code = fields.String(load_default=None, validate=validate.Length(min=1, max=40),
                              metadata={"description": "Required with pickup of a parcel: its seal as scanned."})


class LocationArgs(Schema):
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    at = fields.AwareDateTime(required=True)
    crs = fields.String(load_default=None, validate=validate.OneOf(CRS),
                        metadata={"description": "Coordinate system of lat/lon; WGS-84 when absent."})
    accuracy_m = fields.Float(load_default=None, validate=validate.Range(min=0, max=100_000),
                              metadata={"description": "The fix's accuracy radius in metres, as the phone says."})


class SosArgs(Schema):
    lat = fields.Float(required=True, validate=LAT)
    lon = fields.Float(required=True, validate=LON)
    crs = _crs()
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


# --- out --------------------------------------------------------------------------------------------

class WindowSchema(Schema):
    start = fields.AwareDateTime(allow_none=True)
    end = fields.AwareDateTime(allow_none=True)


class PlaceSchema(Schema):
    line = fields.String()
    district = fields.String()
    access_notes = fields.String(allow_none=True, metadata={"description": "Gate code, floor, dog..."})


class ItemSchema(Schema):
    name = fields.String()
    quantity = fields.Integer()
    unit = fields.String(allow_none=True)


class TaskSchema(Schema):
    """What to do at the stop. Visits carry the service fields; pickups the pharmacy; drop-offs
    the patient. Only the fields of the stop's type are present."""

    service_code = fields.String()
    service_name = fields.String(allow_none=True)
    service_name_zh = fields.String(allow_none=True)
    duration_minutes = fields.Integer()
    notes = fields.String(allow_none=True, metadata={"description": "The care order's notes."})
    preparation_notes = fields.String(allow_none=True, metadata={"description": "The catalogue item's."})
    preparation_notes_zh = fields.String(allow_none=True)
    tracking_code = fields.String()
    items = fields.List(fields.Nested(ItemSchema))
    cold_chain = fields.Boolean()
    pharmacy_name = fields.String()
    patient_first_name = fields.String()
    address = fields.Nested(PlaceSchema)
    window = fields.Nested(WindowSchema, metadata={"description": "The patient's window (for a pickup: the "
                                                                 "delivery window the parcel works to)."})


class LocationSchema(Schema):
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)


class StopCardSchema(Schema):
    id = fields.Integer()
    sequence = fields.Integer()
    type = fields.String(metadata={"description": "start, visit, pickup, dropoff, break or end."})
    status = fields.String(metadata={"description": "planned, departed, arrived, started, done or failed."})
    order_id = fields.Integer(allow_none=True)
    arrival = fields.AwareDateTime(allow_none=True)
    start = fields.AwareDateTime(allow_none=True)
    end = fields.AwareDateTime(allow_none=True)
    eta = fields.AwareDateTime(allow_none=True, metadata={"description": "The planned arrival; null once reached."})
    live_eta = fields.AwareDateTime(allow_none=True, metadata={
        "description": "The arrival re-estimated from my last position on shift along the stops ahead (travel, "
                       "service durations, window starts); null once reached or without a recent position. "
                       "Not part of the version (ETag): fresh in every 200."})
    location = fields.Nested(LocationSchema)
    task = fields.Nested(TaskSchema, allow_none=True)


class WorkerRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class DayRouteSchema(Schema):
    date = fields.Date()
    worker = fields.Nested(WorkerRefSchema)
    plan_id = fields.Integer(allow_none=True)
    route_id = fields.Integer(allow_none=True)
    version = fields.String(metadata={"description": "Also the (weak) ETag; send it as If-None-Match for a 304. "
                                                     "It changes with the stops, not with live ETAs."})
    stops = fields.List(fields.Nested(StopCardSchema))


class StopRefSchema(Schema):
    id = fields.Integer()
    status = fields.String()


class OrderRefSchema(Schema):
    id = fields.Integer()
    status = fields.String()


class EventRefSchema(Schema):
    id = fields.Integer()
    type = fields.String()
    at = fields.AwareDateTime()
    distance_m = fields.Integer(allow_none=True, metadata={"description": "From the stop's point."})
    flags = fields.List(fields.String(), metadata={
        "description": "far_from_door, temperature_excursion: accepted, and queued for the office."})
    corrected_at = fields.AwareDateTime(allow_none=True, metadata={"description": "An approved correction."})


class StopReportSchema(Schema):
    stop = fields.Nested(StopRefSchema)
    order = fields.Nested(OrderRefSchema, allow_none=True)
    event = fields.Nested(EventRefSchema)


class AlarmSchema(Schema):
    id = fields.Integer()
    worker_id = fields.Integer()
    at = fields.AwareDateTime(metadata={"description": "The first press."})
    last_pressed_at = fields.AwareDateTime()
    presses = fields.Integer(metadata={"description": "Presses folded into this alarm (repeats within a minute)."})
    status = fields.String(metadata={"description": "open or acknowledged."})
