"""Endpoints of visit verification, visit records and proof of delivery.

Workers ask for time corrections and upload proof from their phones; the office (dispatchers,
admins) works the exception queue; records and proof are read by those who may see the order.
"""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from mobile_api import evv, proof, records
from mobile_api.access import access_my_stop
from mobile_api.evv_schemas import (
    CorrectionCreateArgs,
    DecisionArgs,
    DeliveryProofSchema,
    EvvExceptionSchema,
    ExceptionQueryArgs,
    ProofFileSchema,
    ProofKindArgs,
    ProofUploadArgs,
    VisitRecordSchema,
)

PREFIX = "/api/v1"
FIELD_ROLES = ("nurse", "courier")
OFFICE = ("dispatcher", "admin")

field_blp = Blueprint("visit_verification_field", __name__, url_prefix=PREFIX,
                      description="Time corrections and proof uploads from the field")
office_blp = Blueprint("visit_verification", __name__, url_prefix=PREFIX,
                       description="The office's exception queue of visit verification")
records_blp = Blueprint("visit_records", __name__, url_prefix=PREFIX,
                        description="Visit records and proof of delivery (health data: reads audited)")
blueprints = [field_blp, office_blp, records_blp]

# An upload may be 5 MB (the rest of the API stops at 256 KiB); the service refuses a larger file.
UPLOAD_BODY_BYTES = proof.MAX_FILE_BYTES + 64 * 1024


@field_blp.before_request
def _allow_uploads() -> None:
    if request.method == "POST" and request.path.endswith("/proof"):
        request.max_content_length = UPLOAD_BODY_BYTES


@field_blp.route("/mobile/stops/<int:stop_id>/corrections")
class Corrections(MethodView):
    @unit_of_work
    @require_role(*FIELD_ROLES)
    @field_blp.arguments(CorrectionCreateArgs)
    @field_blp.response(201, EvvExceptionSchema)
    @field_blp.alt_response(404, description="Not a stop of mine")
    @field_blp.alt_response(409, description="That report was never made")
    def post(self, args: dict[str, Any], stop_id: int) -> Any:
        """Ask the office to correct my check-in or check-out time at a visit (with a reason)"""
        return evv.request_correction(current_actor(), access_my_stop(current_actor(), stop_id), **args)


@field_blp.route("/mobile/stops/<int:stop_id>/proof")
class ProofUpload(MethodView):
    @unit_of_work
    @require_role(*FIELD_ROLES)
    @field_blp.arguments(ProofKindArgs, location="form")
    @field_blp.arguments(ProofUploadArgs, location="files")
    @field_blp.response(201, ProofFileSchema)
    @field_blp.alt_response(404, description="Not a stop of mine")
    @field_blp.alt_response(409, description="The stop is done or failed")
    @field_blp.alt_response(413, description="Larger than 5 MB")
    @field_blp.alt_response(503, description="The file store did not answer; nothing was kept, send it again")
    def post(self, form: dict[str, Any], files: dict[str, Any], stop_id: int) -> Any:
        """Upload a signature or photo (PNG/JPEG, at most 5 MB) for a drop-off of mine; deliver names its id"""
        return proof.upload_proof(current_actor(), stop_id, kind=form["kind"], data=files["file"].read())


@office_blp.route("/evv/exceptions")
class Exceptions(MethodView):
    @unit_of_work
    @require_role(*OFFICE)
    @office_blp.arguments(ExceptionQueryArgs, location="query")
    @office_blp.response(200, EvvExceptionSchema(many=True))
    @office_blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict[str, Any]) -> Any:
        """The exception queue, newest first: far from the door, missed check-in/out, time corrections"""
        return evv.list_exceptions(current_actor(), **args)


@office_blp.route("/evv/exceptions/<int:exception_id>/decision")
class Decision(MethodView):
    @unit_of_work
    @require_role(*OFFICE)
    @office_blp.arguments(DecisionArgs)
    @office_blp.response(200, EvvExceptionSchema)
    @office_blp.alt_response(404, description="No such exception")
    @office_blp.alt_response(409, description="Decided already")
    def post(self, args: dict[str, Any], exception_id: int) -> Any:
        """Approve or reject an exception with a reason; an approved correction changes the recorded time"""
        return evv.decide(current_actor(), exception_id, **args)


@records_blp.route("/orders/<int:order_id>/visit-record")
class VisitRecordOfOrder(MethodView):
    @unit_of_work  # the read is audited
    @records_blp.response(200, VisitRecordSchema)
    @records_blp.alt_response(404, description="No such care order for you, or no record yet")
    def get(self, order_id: int) -> Any:
        """The visit record (what was done, notes, vitals): the patient, the nurse, dispatchers, admins"""
        return records.get_visit_record(current_actor(), order_id)


@records_blp.route("/orders/<int:order_id>/proof")
class DeliveryProofOfOrder(MethodView):
    @unit_of_work
    @records_blp.response(200, DeliveryProofSchema)
    @records_blp.alt_response(404, description="No such parcel for you")
    def get(self, order_id: int) -> Any:
        """A parcel's proof of delivery: the parcel's pharmacy, dispatchers and the patient"""
        return proof.get_delivery_proof(current_actor(), order_id)


@records_blp.route("/files/<int:file_id>")
class ProofFileContent(MethodView):
    @unit_of_work
    @records_blp.response(200, content_type="application/octet-stream",
                          description="The image (image/png or image/jpeg)")
    @records_blp.alt_response(404, description="No such file for you")
    @records_blp.alt_response(503, description="The file store did not answer; try again later")
    def get(self, file_id: int) -> Any:
        """A proof image: the parcel's pharmacy, dispatchers and the patient; each read audited"""
        row, data = proof.read_proof_file(current_actor(), file_id)
        return Response(data, mimetype=row.content_type, headers={
            "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="proof-{row.id}"'})
