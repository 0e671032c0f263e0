"""Marshmallow schemas of the webhook endpoints (the HTTP edge only)."""
from __future__ import annotations

from marshmallow import fields, validate

from doorstep.api import PaginatedQueryArgs, Schema
from orders.outbox import EVENT_TYPES


class WebhookCreateArgs(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                        metadata={"description": "http(s) URL on a public address; redirects are not followed"})
    secret = fields.String(required=True, load_only=True, validate=validate.Length(min=16, max=255),
                           metadata={"description": "Signs each body (HMAC-SHA256); stored, never returned"})
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)), required=True,
                         validate=validate.Length(min=1, max=len(EVENT_TYPES)))


class WebhookSchema(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    active = fields.Boolean()
    created_at = fields.AwareDateTime()


class WebhookQueryArgs(PaginatedQueryArgs):
    pass


class DeadLetterSchema(Schema):
    id = fields.Integer(metadata={"description": "Replay with POST /webhooks/dead-letters/{id}/replay"})
    delivery_id = fields.String(attribute="uid", metadata={"description": "The X-Doorstep-Delivery header"})
    subscription_id = fields.Integer()
    event_id = fields.Integer()
    event_type = fields.Function(lambda d: d.event.type)
    order_id = fields.Integer()
    status = fields.String(metadata={"description": "dead; pending once replayed"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    dead_at = fields.AwareDateTime(allow_none=True)
