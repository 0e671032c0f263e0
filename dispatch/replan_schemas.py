"""The HTTP edge of live re-planning, absences and booking slots."""
from __future__ import annotations

from marshmallow import fields, validate

from dispatch.schemas import LocalDateTime
from doorstep.api import Schema

ABSENCE_REASONS = ("sick", "family", "training", "other")


class WorkerOffArgs(Schema):
    date = fields.Date(required=True, metadata={"description": "The local date the worker is off."})
    reason = fields.String(required=True, validate=validate.OneOf(ABSENCE_REASONS))


class WorkerAbsenceSchema(Schema):
    id = fields.Integer()
    worker_id = fields.Integer()
    date = fields.String()
    reason = fields.String()
    created_at = LocalDateTime()


class ReplanArgs(Schema):
    date = fields.Date(required=True)
    district = fields.String(required=True, validate=validate.Length(min=1, max=40))
    allow_reassign = fields.Boolean(load_default=None, metadata={
        "description": "From now on, may scheduled tasks move to another worker? Kept on the plan; "
                       "absent: unchanged (default false: they stay pinned to their worker)."})


class ReplanRefSchema(Schema):
    plan_id = fields.Integer(attribute="id")
    revision = fields.Integer()
    allow_reassign = fields.Boolean()


class PlanVersionSchema(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    revision = fields.Integer()
    date = fields.String()
    district = fields.String()
    trigger = fields.String(metadata={"description": "What caused it: order.accepted:ID, order.cancelled:ID, "
                                                     "stop.failed:ID, worker.late:..., worker.off:ID, manual:..., "
                                                     "insert:ID"})
    kind = fields.String(metadata={"description": "replan or insertion"})
    diff = fields.Dict(metadata={"description": "added, moved, dropped: order ids with worker ids (and a reason)"})
    summary = fields.Dict(allow_none=True)
    created_at = LocalDateTime()


class SlotQueryArgs(Schema):
    service_code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    address_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    date = fields.Date(required=True)


class SlotSchema(Schema):
    start = LocalDateTime()
    end = LocalDateTime()
    available = fields.Boolean(metadata={"description": "A qualified nurse can still take a visit in it."})
