"""``/orders/{id}/rating`` (the patient rates, patient and dispatchers read) and ``/ratings`` (dispatchers)."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from doorstep.api import PAGINATION, Blueprint, ListPage, PaginatedQueryArgs, Schema, unit_of_work
from doorstep.auth import current_actor, require_role
from orders import ratings

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="Patients' ratings of finished orders")


class RatingCreateArgs(Schema):
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


class RatingQueryArgs(PaginatedQueryArgs):
    stars_at_most = fields.Integer(load_default=None, validate=validate.Range(min=1, max=5))


class RatingSchema(Schema):
    order_id = fields.Integer()
    stars = fields.Integer()
    comment = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


@blp.route("/orders/<int:order_id>/rating")
class OrderRating(MethodView):
    @unit_of_work
    @require_role("patient")
    @blp.arguments(RatingCreateArgs)
    @blp.response(201, RatingSchema)
    @blp.alt_response(409, description="Not completed yet, or rated already")
    def post(self, args: dict, order_id: int) -> Any:
        """Rate my completed visit or delivered parcel, once: 1-5 stars and an optional comment"""
        return ratings.rate_order(current_actor(), order_id, **args)

    @unit_of_work  # the read is audited
    @require_role("patient", *ratings.STAFF)
    @blp.response(200, RatingSchema)
    def get(self, order_id: int) -> Any:
        """An order's rating (its patient, dispatchers, admins)"""
        return ratings.order_rating(current_actor(), order_id)


@blp.route("/ratings")
class Ratings(MethodView):
    @unit_of_work  # the read is audited
    @require_role(*ratings.STAFF)
    @blp.arguments(RatingQueryArgs, location="query")
    @blp.response(200, RatingSchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict) -> Any:
        """Patients' ratings, newest first (dispatchers, admins); audited"""
        return ratings.ratings_query(current_actor(), args["stars_at_most"])
