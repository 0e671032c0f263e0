"""The HTTP edge of delivery orders: bodies and queries in (``orders.deliveries`` checks the rules).

What goes out is ``orders.schemas.DeliveryOrderSchema`` / ``OrderSummarySchema``,
shared with the generic order endpoints.
"""
from __future__ import annotations

from marshmallow import fields, validate

from doorstep.api import PaginatedQueryArgs, Schema
from orders.schemas import WindowArgs

CONTROL_VALUES = ["narcotic", "psychotropic", "none"]


class DeliveryItemArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=999),
                              metadata={"description": "How many units, a whole number above 0."})
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=20),
                         metadata={"description": "e.g. box, vial, pen."})
    control = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CONTROL_VALUES),
                            metadata={"description": "narcotic or psychotropic drugs are refused (422 naming "
                                                     "items.<i>.control): they are never sent by delivery."})


class DeliveryOrderCreateArgs(Schema):
    prescription_ref = fields.String(required=True, validate=validate.Length(min=1, max=60),
                                     metadata={"description": "One prescription backs one delivery: 409 with "
                                                              "existing_order_id while another order holds it."})
    patient_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    address_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=2**31 - 1))
    items = fields.List(fields.Nested(DeliveryItemArgs), required=True, validate=validate.Length(min=1, max=50))
    cold_chain = fields.Boolean(required=True)
    max_out_of_fridge_minutes = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=5, max=24 * 60),
        metadata={"description": "Cold chain only: the longest ride; default DOORSTEP_COLD_CHAIN_MAX_MINUTES."})
    window = fields.Nested(WindowArgs, load_default=None, allow_none=True)


class ReviewArgs(Schema):
    approved = fields.Boolean(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                           metadata={"description": "Required when approved is false."})


class RedeliverArgs(Schema):
    window = fields.Nested(WindowArgs, required=True, metadata={"description": "The new window, not over yet."})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500),
                           metadata={"description": "Why, for the history; default names the new window."})


class ReturnArgs(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DeliverySearchArgs(PaginatedQueryArgs):
    """At least one; several must all match. Exact matches only."""

    q = fields.String(validate=validate.Length(min=1, max=60),
                      metadata={"description": "A tracking code, a prescription reference or a phone number."})
    tracking_code = fields.String(validate=validate.Length(min=1, max=20))
    prescription_ref = fields.String(validate=validate.Length(min=1, max=60))
    phone = fields.String(validate=validate.Length(min=1, max=30),
                          metadata={"description": "The patient's phone; spaces, dashes and +86 are ignored."})
