"""The live-operations edge for dispatchers: alarms, trails, the live feed's token and query."""
from __future__ import annotations

from marshmallow import fields, validate

from dispatch.alarms import STATUSES
from doorstep.api import PaginatedQueryArgs, Schema


class AlarmQueryArgs(PaginatedQueryArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(STATUSES),
                           metadata={"description": "open (the default), acknowledged or all."})


class DispatchAlarmSchema(Schema):
    id = fields.Integer()
    worker_id = fields.Integer()
    lat = fields.Float()
    lon = fields.Float()
    note = fields.String(allow_none=True)
    at = fields.AwareDateTime(metadata={"description": "The first press."})
    last_pressed_at = fields.AwareDateTime()
    presses = fields.Integer()
    status = fields.String(metadata={"description": "open or acknowledged."})
    acknowledged_by = fields.Integer(allow_none=True, metadata={"description": "The dispatcher's user id."})
    acknowledged_at = fields.AwareDateTime(allow_none=True)


class TrailQueryArgs(Schema):
    date = fields.Date(required=True, metadata={"description": "The local day, YYYY-MM-DD."})


class TrailPointSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    at = fields.AwareDateTime()
    accuracy_m = fields.Float(allow_none=True)
    flag = fields.String(allow_none=True, metadata={"description": "far_from_service_area, or null."})


class TrailSchema(Schema):
    worker_id = fields.Integer()
    date = fields.Date()
    points = fields.List(fields.Nested(TrailPointSchema), metadata={"description": "Oldest first, on shift only."})


class FeedTokenSchema(Schema):
    token = fields.String(metadata={"description": "Pass as ?token= to GET /dispatch/events (EventSource "
                                                   "cannot send headers). Valid for expires_in seconds."})
    expires_in = fields.Integer()


class FeedQueryArgs(Schema):
    token = fields.String(load_default=None, validate=validate.Length(max=2000),
                          metadata={"description": "A feed token from POST /dispatch/events/token, "
                                                   "instead of an Authorization header."})
    last_event_id = fields.String(load_default=None, validate=validate.Length(max=64),
                                  metadata={"description": "Resume after this event id (the Last-Event-ID "
                                                           "header, which EventSource sends itself, wins)."})
