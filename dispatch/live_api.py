"""Live operations for dispatchers: the live feed (server-sent events), alarms, workers' trails."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask.views import MethodView

from dispatch import (
    alarms,
    live_events,  # noqa: F401 - registers the failed-stop announcement
)
from dispatch import live_schemas as s
from dispatch.live import feed_actor, issue_feed_token
from doorstep import feed
from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from mobile_api import positions

blp = Blueprint("live", __name__, url_prefix="/api/v1",
                description="Live operations: the dispatchers' feed, alarms and trails")

MANAGERS = ("dispatcher", "admin")

SSE_RESPONSE = {"200": {"description": "text/event-stream: each event `id: <id>` and `data: {\"id\", \"kind\", "
                                       "\"at\", \"data\"}`; comment lines as a heartbeat",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}}}}


@blp.route("/dispatch/events")
class LiveFeed(MethodView):
    @blp.arguments(s.FeedQueryArgs, location="query")
    @blp.doc(responses=SSE_RESPONSE, parameters=[{"in": "header", "name": "Last-Event-ID", "required": False,
                                                  "schema": {"type": "string", "maxLength": 64}}])
    def get(self, args: dict) -> Any:
        """The live feed as server-sent events: SOS, late workers, flagged positions, EVV exceptions,
        failed stops, plan versions (dispatchers, admins; a bearer token or ?token=)"""
        feed_actor(g.get("actor"), args["token"])
        after = request.headers.get("Last-Event-ID") or args["last_event_id"]
        seconds = current_app.config["SETTINGS"].feed_stream_s
        body = feed.stream(feed.feed(), after, seconds=seconds)
        return Response(body, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@blp.route("/dispatch/events/token")
class LiveFeedToken(MethodView):
    @require_role(*MANAGERS)
    @blp.response(201, s.FeedTokenSchema)
    def post(self) -> Any:
        """A feed token for ?token= (EventSource cannot send headers), valid for a minute"""
        return issue_feed_token(current_actor())


@blp.route("/alarms")
class Alarms(MethodView):
    @require_role(*MANAGERS)
    @blp.arguments(s.AlarmQueryArgs, location="query")
    @blp.response(200, s.DispatchAlarmSchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict) -> Any:
        """Alarms, last pressed first: open ones by default"""
        return alarms.alarms_query(args["status"])


@blp.route("/alarms/<int:alarm_id>/acknowledge")
class AcknowledgeAlarm(MethodView):
    @unit_of_work
    @require_role(*MANAGERS)
    @blp.response(200, s.DispatchAlarmSchema)
    @blp.alt_response(409, description="Acknowledged already")
    def post(self, alarm_id: int) -> Any:
        """Acknowledge an alarm: the board and the other dispatchers see who took it"""
        return alarms.acknowledge_alarm(current_actor(), alarm_id)


@blp.route("/workers/<int:worker_id>/trail")
class WorkerTrail(MethodView):
    @unit_of_work  # the read is audited: the audit row must be committed
    @require_role(*MANAGERS)
    @blp.arguments(s.TrailQueryArgs, location="query")
    @blp.response(200, s.TrailSchema)
    def get(self, args: dict, worker_id: int) -> Any:
        """A worker's kept positions on a day (on shift only, within the retention period); audited"""
        points = positions.worker_trail(current_actor(), worker_id, args["date"])
        return {"worker_id": worker_id, "date": args["date"], "points": points}
