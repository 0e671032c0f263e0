"""``GET /api/v1/districts``: the served districts as GeoJSON, for maps."""
from __future__ import annotations

from flask.views import MethodView

from doorstep.api import Blueprint

blp = Blueprint("districts", __name__, url_prefix="/api/v1", description="Served districts")


@blp.route("/districts")
class Districts(MethodView):
    @blp.response(200)
    def get(self) -> dict:
        """The served districts as a GeoJSON FeatureCollection"""
        from doorstep.geography import districts

        return districts().to_geojson()
