"""The HTTP edge of triage and recurring visits (``orders.care_api``): bodies in, resources out."""
from __future__ import annotations

from marshmallow import fields, validate

from doorstep.api import PaginatedQueryArgs, Schema
from orders.schemas import (
    CareQuestionSchema,
    LocalDateTime,
    OrderSummarySchema,
    OrderWindowSchema,
    WindowArgs,
    _WindowField,
    plain_text,
)

NOTES = [validate.Length(max=2000), plain_text]
TEXT = [validate.Length(min=1, max=2000), plain_text]


class QuestionArgs(Schema):
    text = fields.String(required=True, validate=TEXT, metadata={"description": "The question, up to 2,000 characters."})


class AnswerArgs(Schema):
    text = fields.String(required=True, validate=TEXT, metadata={"description": "The answer, up to 2,000 characters."})


class TriageQueueArgs(PaginatedQueryArgs):
    """No filters: only ``page`` and ``page_size``."""


class QueuePatientSchema(Schema):
    first_name = fields.String()
    age = fields.Integer(allow_none=True, metadata={"description": "Whole years, when the birth date is known."})
    first_visit = fields.Boolean(attribute="first_visit", metadata={
        "description": "Not assessed yet: accepting this order records the initial assessment."})


class QueueSeriesSchema(Schema):
    id = fields.Integer(attribute="series_id")
    sequence = fields.Integer(attribute="series_sequence")


class _QueuePatient(fields.Nested):
    def get_value(self, obj, attr, accessor=None, default=None):  # type: ignore[no-untyped-def]
        patient = obj.patient
        return {"first_name": patient.first_name, "age": patient.age,
                "first_visit": patient.initial_assessment_at is None}


class _QueueSeries(fields.Nested):
    def get_value(self, obj, attr, accessor=None, default=None):  # type: ignore[no-untyped-def]
        return obj if obj.series_id is not None else None


class TriageQueueItemSchema(Schema):
    """What a triage nurse needs to decide: the item, the window, who (first name, age), notes, questions."""

    id = fields.Integer()
    status = fields.String()
    created_at = LocalDateTime()
    service_code = fields.String()
    skills = fields.List(fields.String())
    duration_minutes = fields.Integer()
    district = fields.String()
    service_date = fields.String()
    window = _WindowField(OrderWindowSchema, allow_none=True)
    notes = fields.String(allow_none=True)
    patient = _QueuePatient(QueuePatientSchema)
    series = _QueueSeries(QueueSeriesSchema, allow_none=True, metadata={
        "description": "The series it belongs to, or null: accepting a series' first visit accepts them all."})
    questions = fields.List(fields.Nested(CareQuestionSchema))


class SeriesCreateArgs(Schema):
    service_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    address_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    first_window = fields.Nested(WindowArgs, required=True, metadata={
        "description": "The first visit's window; the others are at the same local time of day."})
    every_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=90))
    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=2, max=52),
                           metadata={"description": "How many visits, the first included."})
    notes = fields.String(load_default=None, allow_none=True, validate=NOTES)


class CareSeriesSchema(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    service_code = fields.String()
    every_days = fields.Integer()
    count = fields.Integer()
    created_at = LocalDateTime()
    orders = fields.List(fields.Nested(OrderSummarySchema))


class SeriesCancelArgs(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=500), plain_text],
                           metadata={"description": "Required of a dispatcher."})


class LeftOrderSchema(Schema):
    id = fields.Integer()
    status = fields.String()


class SeriesCancellationSchema(Schema):
    series = fields.Nested(CareSeriesSchema)
    cancelled = fields.List(fields.Integer(), metadata={"description": "Ids of the visits cancelled now."})
    left = fields.List(fields.Nested(LeftOrderSchema), metadata={
        "description": "Visits left as they are: started (en_route or later) or already final."})
