"""HTTP endpoints of delivery orders: create, review, label, re-deliver, return, search.

Each view parses, calls one function of ``orders.deliveries`` and serialises.
Reading one parcel, listing and cancelling are the generic ``/orders`` endpoints
(``orders.api``).
"""
from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from orders import deliveries
from orders.delivery_schemas import (
    DeliveryOrderCreateArgs,
    DeliverySearchArgs,
    RedeliverArgs,
    ReturnArgs,
    ReviewArgs,
)
from orders.schemas import DeliveryOrderSchema, OrderSummarySchema

delivery_blp = Blueprint("delivery_orders", "orders.delivery_api", url_prefix="/api/v1",
                         description="Delivery orders: prescriptions, review, labels, failed deliveries, search")

PDF_RESPONSE = {"200": {"description": "The label: 100 x 150 mm, the tracking code as text and as a QR code",
                        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def _window(args: dict[str, Any]) -> dict[str, Any]:
    window = args.get("window") or {}
    return {"window_start": window.get("start"), "window_end": window.get("end")}


@delivery_blp.route("/delivery-orders")
class DeliveryOrders(MethodView):
    @unit_of_work
    @require_role("pharmacist")
    @delivery_blp.arguments(DeliveryOrderCreateArgs)
    @delivery_blp.response(201, DeliveryOrderSchema)
    @delivery_blp.alt_response(409, description="Another order holds this prescription_ref (existing_order_id)")
    @delivery_blp.alt_response(422, description="Unknown patient, not that patient's address, bad items or window; "
                                                "a narcotic or psychotropic item (names items.<i>.control)")
    def post(self, args: dict[str, Any]) -> Any:
        """Send a prescription's drugs from my pharmacy; it waits for review (pharmacist)"""
        return deliveries.create_delivery_order(
            current_actor(), prescription_ref=args["prescription_ref"], patient_id=args["patient_id"],
            address_id=args["address_id"], items=args["items"], cold_chain=args["cold_chain"],
            max_out_of_fridge_minutes=args["max_out_of_fridge_minutes"], **_window(args))


@delivery_blp.route("/delivery-orders/search")
class DeliverySearch(MethodView):
    @unit_of_work
    @require_role("pharmacist")
    @delivery_blp.arguments(DeliverySearchArgs, location="query")
    @delivery_blp.response(200, OrderSummarySchema(many=True))
    @delivery_blp.paginate(ListPage, **PAGINATION)
    @delivery_blp.alt_response(422, description="Nothing to search for (names q), or not a phone number")
    def get(self, args: dict[str, Any]) -> Any:
        """My pharmacy's parcels by tracking code, prescription reference or the patient's phone (pharmacist)"""
        return deliveries.search_delivery_orders(current_actor(), **args)


@delivery_blp.route("/delivery-orders/<int:order_id>/review")
class DeliveryOrderReview(MethodView):
    @unit_of_work
    @require_role("pharmacist")
    @delivery_blp.arguments(ReviewArgs)
    @delivery_blp.response(200, DeliveryOrderSchema)
    @delivery_blp.alt_response(403, description="Two-person review is on and you created this order")
    @delivery_blp.alt_response(404, description="No such delivery order of your pharmacy")
    @delivery_blp.alt_response(409, description="The order is not awaiting review")
    @delivery_blp.alt_response(422, description="A rejection without a reason")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Release a parcel for dispatch, or reject it with a reason; records the reviewer (pharmacist)"""
        return deliveries.review_prescription(current_actor(), order_id, **args)


@delivery_blp.route("/delivery-orders/<int:order_id>/label")
class DeliveryOrderLabel(MethodView):
    @unit_of_work
    @delivery_blp.doc(responses=PDF_RESPONSE)
    @delivery_blp.alt_response(404, description="No such delivery order of your pharmacy (only pharmacists and "
                                                "dispatchers print labels)")
    def get(self, order_id: int) -> Response:
        """The parcel's label as PDF with a QR code of the tracking code (its pharmacy's pharmacists, dispatchers)"""
        tracking_code, pdf = deliveries.parcel_label(current_actor(), order_id)
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="label-{tracking_code}.pdf"',
                                 "Cache-Control": "no-store"})


@delivery_blp.route("/delivery-orders/<int:order_id>/redeliver")
class DeliveryOrderRedeliver(MethodView):
    @unit_of_work
    @require_role("pharmacist", "dispatcher")
    @delivery_blp.arguments(RedeliverArgs)
    @delivery_blp.response(200, DeliveryOrderSchema)
    @delivery_blp.alt_response(404, description="No such delivery order of your pharmacy")
    @delivery_blp.alt_response(409, description="The delivery has not failed")
    @delivery_blp.alt_response(422, description="A bad or past window (names window.start/window.end)")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Deliver a failed parcel again on a new window: back to ready (its pharmacy's pharmacists, dispatchers)"""
        return deliveries.redeliver(current_actor(), order_id, reason=args["reason"], **_window(args))


@delivery_blp.route("/delivery-orders/<int:order_id>/return")
class DeliveryOrderReturn(MethodView):
    @unit_of_work
    @require_role("pharmacist", "dispatcher")
    @delivery_blp.arguments(ReturnArgs)
    @delivery_blp.response(200, DeliveryOrderSchema)
    @delivery_blp.alt_response(404, description="No such delivery order of your pharmacy")
    @delivery_blp.alt_response(409, description="Neither failed nor picked up: nothing to return")
    @delivery_blp.alt_response(422, description="No reason")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Return a failed parcel to its pharmacy: returned (its pharmacy's pharmacists, dispatchers)"""
        return deliveries.return_to_pharmacy(current_actor(), order_id, reason=args["reason"])
