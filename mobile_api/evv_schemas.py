"""The HTTP edge of visit verification, visit records and proof of delivery."""
from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import fields, validate

from doorstep.api import PaginatedQueryArgs, Schema
from mobile_api.models import EXCEPTION_KINDS, EXCEPTION_STATUSES
from mobile_api.proof import MAX_FILE_BYTES

KINDS = [*EXCEPTION_KINDS, "temperature_excursion"]


# --- in ---------------------------------------------------------------------------------------

class CorrectionCreateArgs(Schema):
    event = fields.String(required=True, validate=validate.OneOf(["arrive", "complete"]),
                          metadata={"description": "The check-in (arrive) or check-out (complete) to correct."})
    at = fields.AwareDateTime(required=True, metadata={"description": "The right time, with offset."})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ExceptionQueryArgs(PaginatedQueryArgs):
    status = fields.String(validate=validate.OneOf(EXCEPTION_STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    worker_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class DecisionArgs(Schema):
    approved = fields.Boolean(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ProofUploadArgs(Schema):
    file = Upload(required=True, metadata={"description": f"A PNG or JPEG image, at most {MAX_FILE_BYTES} bytes."})


class ProofKindArgs(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["signature", "photo"]))


# --- out --------------------------------------------------------------------------------------

class EvvExceptionSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"enum": KINDS})
    status = fields.String(metadata={"enum": list(EXCEPTION_STATUSES)})
    stop_id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    worker_id = fields.Integer(allow_none=True)
    event_type = fields.String(allow_none=True, metadata={"description": "The report concerned."})
    distance_m = fields.Integer(allow_none=True)
    requested_at = fields.AwareDateTime(allow_none=True, metadata={"description": "A correction's asked time."})
    reason = fields.String(allow_none=True, metadata={"description": "The worker's reason for a correction."})
    raised_by = fields.Integer(allow_none=True, metadata={"description": "null: raised by the system."})
    created_at = fields.AwareDateTime()
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)


class VitalsSchema(Schema):
    systolic = fields.Integer()
    diastolic = fields.Integer()
    pulse = fields.Integer()
    temperature_c = fields.Float()
    spo2 = fields.Integer()
    glucose_mmol = fields.Float()


class VisitRecordSchema(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    stop_id = fields.Integer()
    worker_id = fields.Integer()
    done = fields.List(fields.String())
    notes = fields.String(allow_none=True)
    vitals = fields.Nested(VitalsSchema, allow_none=True)
    recorded_by = fields.Integer()
    recorded_at = fields.AwareDateTime()


class ProofFileSchema(Schema):
    id = fields.Integer()
    order_id = fields.Integer()
    stop_id = fields.Integer()
    kind = fields.String()
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    uploaded_at = fields.AwareDateTime()
    url = fields.Function(lambda f: f"/api/v1/files/{f.id}")


class TemperatureReadingSchema(Schema):
    at = fields.String()
    celsius = fields.Float()


class DeliveryProofSchema(Schema):
    order_id = fields.Integer()
    status = fields.String()
    delivered_at = fields.AwareDateTime(allow_none=True)
    recipient_name = fields.String(allow_none=True)
    method = fields.String(allow_none=True, metadata={"description": "code, signature or photo."})
    seal_code = fields.String(allow_none=True, metadata={"description": "As scanned at the door."})
    seal_at_pickup = fields.String(allow_none=True)
    files = fields.List(fields.Nested(ProofFileSchema))
    temperature_log = fields.List(fields.Nested(TemperatureReadingSchema), allow_none=True)
    excursion_minutes = fields.Integer(allow_none=True)
