"""HTTP endpoints of the orders package: catalogue, patients, care and delivery orders, tracking, pharmacies.

Each view parses with a schema, calls one function of ``orders.service`` (or
``orders.tracking``/``orders.catalogue``), and serialises. Writes, and reads
that leave an audit row, run inside ``unit_of_work`` (outermost), which
commits and honours ``Idempotency-Key``.
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from orders import catalogue, clinical, service, tracking
from orders.delivery_api import delivery_blp
from orders.schemas import (
    AddressCreateArgs,
    AddressSchema,
    CancelArgs,
    CareOrderCreateArgs,
    CareOrderSchema,
    CatalogueItemAdminSchema,
    CatalogueItemCreateArgs,
    CatalogueItemSchema,
    CatalogueItemUpdateArgs,
    CatalogueQueryArgs,
    OrderQueryArgs,
    OrderSchema,
    OrderSummarySchema,
    PatientClinicalArgs,
    PatientClinicalSchema,
    PatientSchema,
    PharmacyCreateArgs,
    PharmacyQueryArgs,
    PharmacySchema,
    PharmacyUpdateArgs,
    PublicTrackingSchema,
    TrackingSchema,
    TriageArgs,
)

PREFIX = "/api/v1"




catalogue_blp = Blueprint("catalogue", __name__, url_prefix=PREFIX, description="The home-care catalogue")
patients_blp = Blueprint("patients", __name__, url_prefix=PREFIX, description="Patients and their addresses")
care_blp = Blueprint("care_orders", __name__, url_prefix=PREFIX, description="Care orders and triage")
orders_blp = Blueprint("orders", __name__, url_prefix=PREFIX,
                       description="Orders of either kind: read, list, cancel, track")
track_blp = Blueprint("track", __name__, url_prefix=PREFIX, description="Public parcel tracking")
pharmacies_blp = Blueprint("pharmacies", __name__, url_prefix=PREFIX, description="Pharmacies")

blueprints: list[Blueprint] = [catalogue_blp, patients_blp, care_blp, delivery_blp, orders_blp, track_blp,
                               pharmacies_blp]


def _window(args: dict[str, Any]) -> dict[str, Any]:
    window = args.get("window") or {}
    return {"window_start": window.get("start"), "window_end": window.get("end")}


@catalogue_blp.route("/catalogue/services")
class CatalogueServices(MethodView):
    @catalogue_blp.arguments(CatalogueQueryArgs, location="query")
    @catalogue_blp.response(200, CatalogueItemSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The home-care items patients may book, with preparation notes (anyone signed in; admins may add withdrawn ones)"""
        return catalogue.list_items(current_actor(), **args)

    @unit_of_work
    @require_role("admin")
    @catalogue_blp.arguments(CatalogueItemCreateArgs)
    @catalogue_blp.response(201, CatalogueItemAdminSchema)
    @catalogue_blp.alt_response(409, description="The code is taken (names code)")
    def post(self, args: dict[str, Any]) -> Any:
        """Add an item to the catalogue with its first price (admin)"""
        return catalogue.create_item(current_actor(), **args)


@catalogue_blp.route("/catalogue/services/<string:code>")
class CatalogueServiceByCode(MethodView):
    @catalogue_blp.response(200, CatalogueItemAdminSchema)
    @catalogue_blp.alt_response(404, description="No such item (a withdrawn one: admins only)")
    def get(self, code: str) -> Any:
        """One item with its price history (anyone signed in; withdrawn items: admins)"""
        return catalogue.access_item(current_actor(), code)

    @unit_of_work
    @require_role("admin")
    @catalogue_blp.arguments(CatalogueItemUpdateArgs)
    @catalogue_blp.response(200, CatalogueItemAdminSchema)
    @catalogue_blp.alt_response(404, description="No such item")
    def patch(self, args: dict[str, Any], code: str) -> Any:
        """Change an item; a new price joins the history and booked orders keep theirs; active=false withdraws it (admin)"""
        return catalogue.update_item(current_actor(), code, **args)

    @unit_of_work
    @require_role("admin")
    @catalogue_blp.response(200, CatalogueItemAdminSchema)
    @catalogue_blp.alt_response(404, description="No such item")
    def delete(self, code: str) -> Any:
        """Withdraw an item (it stays, since orders refer to it, but is no longer listed or bookable) (admin)"""
        return catalogue.deactivate_item(current_actor(), code)


@patients_blp.route("/patients/me")
class PatientMe(MethodView):
    @unit_of_work
    @require_role("patient")
    @patients_blp.response(200, PatientSchema)
    def get(self) -> Any:
        """My patient profile with my addresses (patient)"""
        return service.get_me(current_actor())


@patients_blp.route("/patients/me/addresses")
class PatientAddresses(MethodView):
    @unit_of_work
    @require_role("patient")
    @patients_blp.arguments(AddressCreateArgs)
    @patients_blp.response(201, AddressSchema)
    @patients_blp.alt_response(422, description="Invalid; outside every served district (names lat/lon, or "
                                                "line when geocoded); no point and no geocoder (names lat/lon); "
                                                "the line not found (names line)")
    @patients_blp.alt_response(503, description="The geocoder failed (names line); send lat/lon or retry later")
    def post(self, args: dict[str, Any]) -> Any:
        """Add an address; its district is resolved from the point, or from the geocoded line (patient)"""
        return service.add_address(current_actor(), **args)


@patients_blp.route("/patients/<int:patient_id>/clinical")
class PatientClinical(MethodView):
    @unit_of_work
    @require_role("admin", "dispatcher", "nurse")
    @patients_blp.response(200, PatientClinicalSchema)
    @patients_blp.alt_response(404, description="No such patient")
    def get(self, patient_id: int) -> Any:
        """A patient's discharge date, diagnoses and initial assessment; audited (admin, dispatcher, triage nurse)"""
        return clinical.get_clinical_facts(current_actor(), patient_id)

    @unit_of_work
    @require_role("admin", "dispatcher", "nurse")
    @patients_blp.arguments(PatientClinicalArgs)
    @patients_blp.response(200, PatientClinicalSchema)
    @patients_blp.alt_response(404, description="No such patient")
    def patch(self, args: dict[str, Any], patient_id: int) -> Any:
        """Set a patient's discharge date or diagnoses (ICD-10) (admin, dispatcher, triage nurse)"""
        return clinical.update_clinical_facts(current_actor(), patient_id, **args)


@care_blp.route("/care-orders")
class CareOrders(MethodView):
    @unit_of_work
    @require_role("patient")
    @care_blp.arguments(CareOrderCreateArgs)
    @care_blp.response(201, CareOrderSchema)
    @care_blp.alt_response(422, description="Unknown service_code, not your address_id, or a bad window")
    def post(self, args: dict[str, Any]) -> Any:
        """Book a home-care visit; it waits for triage (patient)"""
        return service.place_care_order(current_actor(), service_code=args["service_code"],
                                        address_id=args["address_id"], notes=args["notes"], **_window(args))


@care_blp.route("/care-orders/<int:order_id>/triage")
class CareOrderTriage(MethodView):
    @unit_of_work
    @require_role("nurse", "dispatcher")
    @care_blp.arguments(TriageArgs)
    @care_blp.response(200, CareOrderSchema)
    @care_blp.alt_response(404, description="No such care order, or not visible to you")
    @care_blp.alt_response(409, description="The order is not waiting for triage")
    @care_blp.alt_response(422, description="A rejection without a reason")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Accept a care order for a home visit, or reject it with a reason (triage nurse, dispatcher)"""
        return service.triage_care_order(current_actor(), order_id, **args)


@orders_blp.route("/orders")
class Orders(MethodView):
    @unit_of_work
    @orders_blp.arguments(OrderQueryArgs, location="query")
    @orders_blp.response(200, OrderSummarySchema(many=True))
    @orders_blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict[str, Any]) -> Any:
        """Orders I may see, newest first: a patient's own, a pharmacy's parcels, a worker's stops, all for dispatchers"""
        return service.list_orders(current_actor(), **args)


@orders_blp.route("/orders/<int:order_id>")
class OrderById(MethodView):
    @unit_of_work
    @orders_blp.response(200, OrderSchema)
    @orders_blp.alt_response(404, description="No such order, or not visible to you")
    def get(self, order_id: int) -> Any:
        """An order of either kind with its status history"""
        return service.get_order(current_actor(), order_id)


@orders_blp.route("/orders/<int:order_id>/cancel")
class OrderCancel(MethodView):
    @unit_of_work
    @require_role("patient", "pharmacist", "dispatcher")
    @orders_blp.arguments(CancelArgs)
    @orders_blp.response(200, OrderSchema)
    @orders_blp.alt_response(404, description="No such order, or not visible to you")
    @orders_blp.alt_response(409, description="Too late to cancel, or already final")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Cancel an order (patient before the worker is on the way, its pharmacy, dispatcher)"""
        return service.cancel_order(current_actor(), order_id, args["reason"])


@orders_blp.route("/orders/<int:order_id>/tracking")
class OrderTracking(MethodView):
    @unit_of_work
    @require_role("patient")
    @orders_blp.response(200, TrackingSchema)
    @orders_blp.alt_response(404, description="No such order of yours")
    def get(self, order_id: int) -> Any:
        """Status, ETA, the worker's first name, and their position while on the way (the order's patient)"""
        return tracking.order_tracking(current_actor(), order_id)


@track_blp.route("/track/<string:tracking_code>")
class PublicTrack(MethodView):
    @track_blp.doc(security=[])
    @track_blp.response(200, PublicTrackingSchema)
    @track_blp.alt_response(404, description="No parcel has this tracking code")
    def get(self, tracking_code: str) -> Any:
        """A parcel's status and ETA by tracking code; no personal data (public)"""
        return tracking.public_tracking(tracking_code)


@pharmacies_blp.route("/pharmacies")
class Pharmacies(MethodView):
    @require_role("admin", "dispatcher", "pharmacist")
    @pharmacies_blp.arguments(PharmacyQueryArgs, location="query")
    @pharmacies_blp.response(200, PharmacySchema(many=True))
    @pharmacies_blp.paginate(ListPage, **PAGINATION)
    def get(self, _args: dict[str, Any]) -> Any:
        """Pharmacies (admin and dispatcher: all; pharmacist: their own)"""
        return service.list_pharmacies(current_actor())

    @unit_of_work
    @require_role("admin")
    @pharmacies_blp.arguments(PharmacyCreateArgs)
    @pharmacies_blp.response(201, PharmacySchema)
    @pharmacies_blp.alt_response(422, description="Invalid, or outside every served district (names lat/lon)")
    def post(self, args: dict[str, Any]) -> Any:
        """Register a pharmacy (admin)"""
        return service.create_pharmacy(current_actor(), **args)


@pharmacies_blp.route("/pharmacies/<int:pharmacy_id>")
class PharmacyById(MethodView):
    @require_role("admin", "dispatcher", "pharmacist")
    @pharmacies_blp.response(200, PharmacySchema)
    @pharmacies_blp.alt_response(404, description="No such pharmacy (a pharmacist sees only their own)")
    def get(self, pharmacy_id: int) -> Any:
        """One pharmacy (admin, dispatcher; a pharmacist their own)"""
        return service.get_pharmacy(current_actor(), pharmacy_id)

    @unit_of_work
    @require_role("admin")
    @pharmacies_blp.arguments(PharmacyUpdateArgs)
    @pharmacies_blp.response(200, PharmacySchema)
    @pharmacies_blp.alt_response(404, description="No such pharmacy")
    @pharmacies_blp.alt_response(422, description="Invalid, or outside every served district (names lat/lon)")
    def patch(self, args: dict[str, Any], pharmacy_id: int) -> Any:
        """Rename or move a pharmacy (admin)"""
        return service.update_pharmacy(current_actor(), pharmacy_id, **args)
