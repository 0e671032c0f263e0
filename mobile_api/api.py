"""Endpoints for nurses' and couriers' phones: the day's route, stop reports, position, SOS."""
from __future__ import annotations

from typing import Any

from flask import Response, request
from flask.views import MethodView

from doorstep.api import Blueprint, unit_of_work
from doorstep.auth import current_actor, require_role
from mobile_api import positions, service
from mobile_api.ping_body import documented_only, read_location
from mobile_api.schemas import (
    AlarmSchema,
    DayRouteSchema,
    LocationArgs,
    RouteQueryArgs,
    SosArgs,
    StopEventCreateArgs,
    StopReportSchema,
)

blp = Blueprint("mobile_api", __name__, url_prefix="/api/v1",
                description="For nurses and couriers in the field")

FIELD_ROLES = ("nurse", "courier")


@blp.route("/mobile/route")
class MyRoute(MethodView):
    @unit_of_work  # reading patient data writes an audit row, which must be committed
    @require_role(*FIELD_ROLES)
    @blp.arguments(RouteQueryArgs, location="query")
    @blp.response(200, DayRouteSchema, headers={"ETag": {"schema": {"type": "string"}}})
    @blp.alt_response(304, description="Not modified: If-None-Match holds the current version")
    def get(self, args: dict) -> Any:
        """My stops of the day in order, with task details, windows and ETAs"""
        route = service.my_route(current_actor(), args["date"],
                                 known_versions=request.if_none_match.as_set(include_weak=True))
        # Weak: the same version may come with other live ETAs, which are not worth a new version.
        headers = {"ETag": f'W/"{route.version}"', "Cache-Control": "private, no-cache"}
        if route.unchanged:
            return Response(status=304, headers=headers)
        return route, 200, headers


@blp.route("/mobile/stops/<int:stop_id>/events")
class StopEvents(MethodView):
    @unit_of_work
    @require_role(*FIELD_ROLES)
    @blp.arguments(StopEventCreateArgs)
    @blp.response(201, StopReportSchema)
    @blp.alt_response(200, schema=StopReportSchema, description="The same report again: the stored one")
    def post(self, args: dict, stop_id: int) -> Any:
        """Report depart, arrive, start, complete, pickup, deliver or fail at one of my stops"""
        report = service.record_stop_event(current_actor(), stop_id, **args)
        return report, 201 if report.created else 200


@blp.route("/mobile/location")
class MyLocation(MethodView):
    # No unit_of_work and no Idempotency-Key: a ping writes no SQL row (mobile_api/positions.py)
    # and is idempotent by (worker, at) on its own. At 2,000 pings/s the body is read by
    # ping_body.read_location (LocationArgs's answers, without building a schema per ping);
    # LocationArgs and the 204 stay the documentation.
    @require_role(*FIELD_ROLES)
    @documented_only(blp.arguments(LocationArgs), blp.response(204))
    def post(self) -> Response:
        """Report where I am. Kept only while I am on shift (otherwise accepted and dropped);
        a position far from the served districts is kept and flagged for the dispatchers"""
        positions.report_position(current_actor(), **read_location())
        return Response(status=204)


@blp.route("/mobile/sos")
class Sos(MethodView):
    @unit_of_work
    @require_role(*FIELD_ROLES)
    @blp.arguments(SosArgs)
    @blp.response(201, AlarmSchema)
    @blp.alt_response(200, schema=AlarmSchema, description="Pressed again within a minute: the same alarm, updated")
    def post(self, args: dict) -> Any:
        """Raise an alarm: committed, then on the dispatchers' live feed at once"""
        raised = service.raise_alarm(current_actor(), **args)
        return raised.alarm, 201 if raised.created else 200
