"""``GET /api/v1/districts``: the served districts as GeoJSON, for maps."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from doorstep.api import Blueprint
from routing.crs import CRS_NAMES

blp = Blueprint("districts", __name__, url_prefix="/api/v1", description="Served districts")


class DistrictsArgs(Schema):
    crs = fields.String(load_default="wgs84", validate=validate.OneOf(CRS_NAMES),
                        metadata={"description": "Coordinate system of the outlines: wgs84 (GeoJSON, "
                                                 "OpenStreetMap tiles), gcj02 (AMap, Tencent tiles) or bd09 "
                                                 "(Baidu tiles)."})


@blp.route("/districts")
class Districts(MethodView):
    @blp.arguments(DistrictsArgs, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]) -> dict:
        """The served districts as a GeoJSON FeatureCollection, in the coordinate system the map draws in"""
        from doorstep.geography import districts

        return districts().to_geojson(args["crs"])
