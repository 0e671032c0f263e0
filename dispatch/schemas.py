"""The HTTP edge of dispatch: bodies in, workers and plans out.

Bodies are turned into the services' keyword arguments here (``home`` into
``home_lat``/``home_lon`` in WGS-84, shifts into ``(start, end)`` pairs), so
services never see request dicts. Times go out in the hospital's time zone.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, request
from marshmallow import fields, post_load, validate

from dispatch.qualification import TITLE_ZH, TITLES
from dispatch.workers import KINDS, MAX_CAPACITY, PreconditionFailed, home_care_qualified
from doorstep.api import PaginatedQueryArgs, Schema
from doorstep.errors import DomainError

PLAN_STATUSES = ("queued", "solving", "done", "failed")
MAX_PROBLEM_BYTES = 5 * 1024 * 1024


class LocalDateTime(fields.AwareDateTime):
    """An aware datetime, written in the hospital's time zone (``+08:00`` in Tianjin)."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        zone = ZoneInfo(current_app.config["SETTINGS"].timezone)
        return super()._serialize(value.astimezone(zone), attr, obj, **kwargs)


# --- workers ------------------------------------------------------------------------------

class HomeArgs(Schema):
    lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(("wgs84", "gcj02", "bd09")),
                        metadata={"description": "Coordinates from WeChat/AMap/Tencent (gcj02) or Baidu (bd09) "
                                                 "are converted to WGS-84."})


class ShiftArgs(Schema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class WorkerUpdateArgs(Schema):
    """Every field optional: the ones given replace the stored ones (``shifts`` as a whole)."""

    kind = fields.String(validate=validate.OneOf(KINDS))
    name = fields.String(validate=validate.Length(min=1, max=100))
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=50))
    districts = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                            validate=validate.Length(min=1, max=20))
    home = fields.Nested(HomeArgs)
    shifts = fields.List(fields.Nested(ShiftArgs), validate=validate.Length(max=400))
    capacity = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=40)),
                           values=fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_CAPACITY)), allow_none=True,
                           metadata={"description": "Named dimensions, e.g. {\"parcels\": 30}. "
                                                    "Couriers default to 30 parcels."})
    active = fields.Boolean()
    title = fields.String(allow_none=True, validate=validate.OneOf(TITLES), metadata={
        "description": "Nurses: nurse (护士), senior_nurse (护师), supervising_nurse (主管护师), "
                       "associate_chief_nurse (副主任护师), chief_nurse (主任护师)."})
    registration_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=40), metadata={
        "description": "Nurses: the practising certificate number (护士执业证书编号); unique (409)."})
    practice_began = fields.Date(allow_none=True, metadata={"description": "Nurses: when clinical practice "
                                                                           "began, YYYY-MM-DD."})

    @post_load
    def to_service_kwargs(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        from routing.crs import to_wgs84

        home = data.pop("home", None)
        if home is not None:
            data["home_lat"], data["home_lon"] = to_wgs84(home["lat"], home["lon"], home["crs"])
        if "shifts" in data:
            data["shifts"] = [(s["start"], s["end"]) for s in data["shifts"]]
        return data


class WorkerCreateArgs(WorkerUpdateArgs):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    skills = fields.List(fields.String(validate=validate.Length(min=1, max=40)), load_default=list,
                         validate=validate.Length(max=50))
    districts = fields.List(fields.String(validate=validate.Length(min=1, max=40)), required=True,
                            validate=validate.Length(min=1, max=20))
    home = fields.Nested(HomeArgs, required=True)
    shifts = fields.List(fields.Nested(ShiftArgs), load_default=list, validate=validate.Length(max=400))


class WorkerQueryArgs(PaginatedQueryArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    active = fields.Boolean()
    district = fields.String(validate=validate.Length(min=1, max=40))


class HomeSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()


class ShiftSchema(Schema):
    id = fields.Integer()
    start = LocalDateTime()
    end = LocalDateTime()


class WorkerSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    name = fields.String()
    skills = fields.List(fields.String())
    districts = fields.List(fields.String())
    home = fields.Function(lambda w: {"lat": w.home_lat, "lon": w.home_lon}, metadata={"type": "object"})
    shifts = fields.List(fields.Nested(ShiftSchema))
    capacity = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True)
    active = fields.Boolean()
    title = fields.String(allow_none=True, metadata={"enum": list(TITLES)})
    title_zh = fields.Function(lambda w: TITLE_ZH.get(w.title or ""), allow_none=True,
                               metadata={"type": "string", "nullable": True})
    registration_number = fields.String(allow_none=True)
    practice_began = fields.Date(allow_none=True)
    home_care_qualified = fields.Function(lambda w: home_care_qualified(w), metadata={
        "type": "boolean", "description": "Today, by the hospital's DOORSTEP_HOME_CARE_MIN_YEARS and "
                                          "DOORSTEP_HOME_CARE_MIN_TITLE: may this nurse make home visits?"})
    version = fields.Integer(metadata={"description": "Also sent as the ETag; send it back in If-Match."})


def etag(worker: Any) -> dict[str, str]:
    return {"ETag": f'"{worker.version}"'}


def if_match_version() -> int | None:
    """The version an ``If-Match: "3"`` header expects, or None without the header."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if match is None:
        raise PreconditionFailed('If-Match must be an ETag this API sent, such as "3".')
    return int(match.group(1))


# --- plans --------------------------------------------------------------------------------

class PlanCreateArgs(Schema):
    date = fields.Date(required=True, metadata={"description": "The local service date, YYYY-MM-DD."})
    districts = fields.List(fields.String(validate=validate.Length(min=1, max=40)),
                            validate=validate.Length(min=1, max=20), load_default=None,
                            metadata={"description": "Only these districts; all when absent."})


class PlanQueryArgs(PaginatedQueryArgs):
    date = fields.Date()
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))


class PlanRefSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    date = fields.String()
    districts = fields.List(fields.String(), allow_none=True)


class PlanSummarySchema(PlanRefSchema):
    progress = fields.Float(metadata={"description": "0 to 1, while solving."})
    created_at = LocalDateTime()
    started_at = LocalDateTime(allow_none=True)
    finished_at = LocalDateTime(allow_none=True)
    error = fields.String(allow_none=True)
    summary = fields.Dict(allow_none=True, metadata={"description": "assigned, unassigned, travel_time (s), "
                                                                    "distance (m), solve_seconds, ..."})


class StopSchema(Schema):
    id = fields.Integer()
    sequence = fields.Integer()
    type = fields.String(metadata={"description": "start, visit, pickup, dropoff, break or end"})
    order_id = fields.Integer(allow_none=True)
    arrival = LocalDateTime(allow_none=True)
    start = LocalDateTime(allow_none=True)
    end = LocalDateTime(allow_none=True)
    status = fields.String()


class RouteSchema(Schema):
    worker_id = fields.Integer()
    worker_name = fields.String()
    travel_time = fields.Integer(metadata={"description": "seconds"})
    distance = fields.Integer(metadata={"description": "metres"})
    service_time = fields.Integer(metadata={"description": "seconds"})
    waiting_time = fields.Integer(metadata={"description": "seconds"})
    stops = fields.List(fields.Nested(StopSchema))


class UnassignedSchema(Schema):
    order_id = fields.Integer(allow_none=True)
    task = fields.String()
    reason = fields.String(metadata={"description": "A reason code of dispatch-problem.md, or cancelled / "
                                                    "status_changed when the order changed while solving."})
    detail = fields.String()


class PlanSchema(PlanSummarySchema):
    routes = fields.List(fields.Nested(RouteSchema))
    unassigned = fields.List(fields.Nested(UnassignedSchema))


# --- the optimiser over HTTP --------------------------------------------------------------

PROBLEM_BODY = {
    "required": True,
    "description": "A problem document, format version 1 (dispatch-problem.md): version, locations, "
                   "matrix or matrices (optional), workers, tasks, options. At most 5 MB; "
                   "options.time_limit is capped at 20 s here.",
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}
PLAN_DOCUMENT = {"type": "object", "additionalProperties": True,
                 "description": "A plan document, format version 1: status, routes, unassigned, summary."}


def read_problem_body() -> Any:
    """The raw JSON body, at most ``MAX_PROBLEM_BYTES``: the problem format is richer than a
    marshmallow schema, and the optimiser reports its own faults by JSON path."""
    request.max_content_length = MAX_PROBLEM_BYTES  # larger bodies: 413 before they are read
    body = request.get_json(force=True, silent=True)
    if body is None:
        raise DomainError("The request body is not valid JSON.", {"body": ["Not valid JSON."]})
    return body
