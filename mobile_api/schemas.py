"""The mobile API's edge: what phones send (``*Args``) and what they get back (``*Schema``)."""
from __future__ import annotations

from marshmallow import fields, validate

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


class ProofArgs(Schema):
    recipient_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    code = fields.String(load_default=None, validate=validate.Length(min=1, max=40))


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


class ItemSchema(Schema):
    name = fields.String()
    quantity = fields.Integer()


class TaskSchema(Schema):
    """What to do at the stop. Visits carry the service fields; pickups the pharmacy; drop-offs
    the patient. Only the fields of the stop's type are present."""

    service_code = fields.String()
    service_name = fields.String(allow_none=True)
    service_name_zh = fields.String(allow_none=True)
    duration_minutes = fields.Integer()
    notes = fields.String(allow_none=True)
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
    eta = fields.AwareDateTime(allow_none=True)
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
    version = fields.String(metadata={"description": "Also the ETag; send it as If-None-Match for a 304."})
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
