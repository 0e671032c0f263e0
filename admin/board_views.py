"""The dispatcher's board: the page, its actions and the two small JSON answers its script uses.

Each action is a form with the session's CSRF token (checked for every POST in
``admin.views``), parsed with the API's schema and handed to the same service
function the API calls: steering (``dispatch.steering``), re-plans and absences
(``dispatch.replan``), visit-verification decisions (``mobile_api.evv``), alarms
(``dispatch.alarms``). A refusal (422, 409) comes back to the board as a message
at the top, in the page's language (``admin.messages``); nothing changes. The page works without script; with it, the map is
drawn (Leaflet, served from this origin) and the live feed adds SOS, lateness and
exceptions as they happen.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from admin import board_live, service
from admin.messages import knows, translate, translate_all
from admin.views import SECURITY_HEADERS, bp, desk_page
from admin.vocabulary import VOCABULARY, label
from doorstep.api import unit_of_work
from doorstep.db import session
from doorstep.errors import Conflict, DomainError, ValidationFailed


def board_page(day: str) -> Response:
    """The board of ``day``: the plan's tables, the map's data, timelines, the live lists."""
    actor = g.desk_user.actor
    board = service.board(actor, day)
    plan_id = board.plan.id if board.plan is not None and board.plan.status == "done" else None
    html = render_template(
        "admin_board.html", board=board,
        map_json=_json(board_live.map_data(plan_id, day)),
        timelines=board_live.timelines(plan_id, day), workers=board_live.workers_of_day(day),
        exceptions=board_live.open_exceptions(actor), late=board_live.late_workers(day),
        districts=_district_codes(), reasons=_absence_reasons(), steerable=plan_id is not None,
        board_words=_script_words())
    response = current_app.make_response(html)
    response.headers["Content-Security-Policy"] = board_csp()
    return response


def board_csp() -> str:
    """The pages' policy, plus the tile server's origin for images when one is configured."""
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    tiles = current_app.config["SETTINGS"].tile_url
    if not tiles:
        return policy
    parts = urlsplit(tiles)
    host = parts.netloc
    if "{s}" in host:  # a.tile..., webrd01.is...: a CSP wildcard covers only a whole first label
        host = "*." + host.split(".", 1)[1]
    return f"{policy}; img-src 'self' data: {parts.scheme}://{host}"


@bp.post("/board/tasks/<int:order_id>/steer")
@desk_page
def steer_task(order_id: int) -> Response:
    from dispatch import steering
    from dispatch.steering_schemas import SteerToWorkerArgs

    day = _day()
    action = request.form.get("action", "")
    plan_id = _int(request.form.get("plan_id"), "plan_id")
    try:
        if action == "unassign":
            steering.unassign_task(g.desk_user.actor, plan_id, order_id)
        elif action in ("pin", "move"):
            args = _load(SteerToWorkerArgs(), {"worker_id": request.form.get("worker_id", "")})
            steer = steering.pin_task if action == "pin" else steering.move_task
            steer(g.desk_user.actor, plan_id, order_id, worker_id=args["worker_id"])
        else:
            raise ValidationFailed("Choose pin, move or unassign.", {"action": ["One of pin, move, unassign."]})
    except (ValidationFailed, Conflict) as exc:
        return _refused(exc, day)
    done = {"pin": _("Order #%(order)s pinned to the worker."), "move": _("Order #%(order)s moved."),
            "unassign": _("Order #%(order)s unassigned.")}[action]
    flash(done % {"order": order_id}, "info")
    return _back(day)


@bp.post("/board/replan")
@unit_of_work
@desk_page
def replan() -> Response:
    from dispatch.replan import request_replan
    from dispatch.replan_schemas import ReplanArgs

    day = _day()
    try:
        args = _load(ReplanArgs(), {"date": day, "district": request.form.get("district", ""),
                                    "allow_reassign": request.form.get("allow_reassign") == "on"})
        request_replan(g.desk_user.actor, day=args["date"], district=args["district"],
                       allow_reassign=args["allow_reassign"])
    except (ValidationFailed, Conflict) as exc:
        return _refused(exc, day)
    flash(_("Re-plan of %(district)s queued.", district=label("district", args["district"])), "info")
    return _back(day)


@bp.post("/board/workers/off")
@unit_of_work
@desk_page
def worker_off() -> Response:
    from dispatch.replan import worker_off as mark_off
    from dispatch.replan_schemas import WorkerOffArgs

    day = _day()
    try:
        worker_id = _int(request.form.get("worker_id"), "worker_id")
        args = _load(WorkerOffArgs(), {"date": day, "reason": request.form.get("reason", "")})
        mark_off(g.desk_user.actor, worker_id, day=args["date"], reason=args["reason"])
    except (ValidationFailed, Conflict) as exc:
        return _refused(exc, day)
    flash(_("Marked off; their districts are being re-planned."), "info")
    return _back(day)


@bp.post("/board/exceptions/<int:exception_id>/decision")
@unit_of_work
@desk_page
def decide_exception(exception_id: int) -> Response:
    from mobile_api import evv
    from mobile_api.evv_schemas import DecisionArgs

    day = _day()
    try:
        args = _load(DecisionArgs(), {"approved": request.form.get("decision") == "approve",
                                      "reason": request.form.get("reason", "").strip()})
        decided = evv.decide(g.desk_user.actor, exception_id, approved=args["approved"], reason=args["reason"])
    except (ValidationFailed, Conflict) as exc:
        return _refused(exc, day)
    flash(_("Exception #%(id)s %(status)s.", id=decided.id, status=label("evv_status", decided.status)), "info")
    return _back(day)


@bp.post("/board/alarms/<int:alarm_id>/acknowledge")
@unit_of_work
@desk_page
def acknowledge_alarm(alarm_id: int) -> Response:
    from dispatch.alarms import acknowledge_alarm as take

    day = _day()
    try:
        take(g.desk_user.actor, alarm_id)
    except Conflict as exc:
        return _refused(exc, day)
    flash(_("Alarm #%(id)s acknowledged.", id=alarm_id), "info")
    return _back(day)


@bp.post("/board/feed-token")
@desk_page
def feed_token() -> Response:
    """A live-feed token for the board's EventSource (``?token=``), for the signed-in dispatcher."""
    from dispatch.live import issue_feed_token

    return jsonify(issue_feed_token(g.desk_user.actor))


@bp.get("/board/positions")
@desk_page
def board_positions() -> Response:
    """The routes' workers' last positions, for the map to move its markers."""
    from dispatch.models import Plan

    day = service.parse_day(request.args.get("date"), current_app.config["SETTINGS"].timezone)
    plan = service.latest_plan(day)
    plan_id = plan.id if plan is not None and plan.status == "done" else None
    if plan_id is not None and session.get(Plan, plan_id) is None:
        plan_id = None
    return jsonify({"positions": board_live.positions(board_live.route_workers(plan_id))})


# --- helpers ---------------------------------------------------------------------------------------

def _day() -> str:
    return service.parse_day(request.form.get("date"), current_app.config["SETTINGS"].timezone)


def _int(text: str | None, name: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise ValidationFailed(f"{name} must be a number.", {name: ["Not a number."]}) from None
    if not 0 < value < 2**31:
        raise ValidationFailed(f"{name} is out of range.", {name: ["Out of range."]})
    return value


def _load(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The API's schema on the form's fields: its messages, keyed by field, as a ``ValidationFailed``."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        errors = exc.normalized_messages()
        raise ValidationFailed("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items()),
                               errors) from None


def _refused(exc: DomainError, day: str) -> Response:
    session.rollback()
    flash(_("Not done: %(detail)s", detail=_refusal(exc)), "error")
    return _back(day)


def _refusal(exc: DomainError) -> str:
    """What was refused, translated: its detail, or each named field's messages when the detail is
    not one we know (the schema's, joined by ``_load``)."""
    if not exc.errors or knows(exc.detail):
        return translate(exc.detail)
    names = {"worker_id": _("Worker"), "district": _("District"), "date": _("Date"), "reason": _("Reason"),
             "action": _("Action"), "plan_id": pgettext("plan number", "Plan")}
    return "; ".join(_("%(field)s: %(message)s", field=names.get(field, field), message=translate_all(messages))
                     for field, messages in exc.errors.items())


def _back(day: str) -> Response:
    return redirect(url_for("admin.board", date=day) + "#main", code=303)


def _script_words() -> str:
    """The words the board's script writes, in the page's language (``%(name)s`` left for it to fill)."""
    words = {
        "live.on": _("Connected"), "live.off": _("Not connected"),
        "sos.live": _("SOS! Worker #%(worker)s (press %(presses)s)"),
        "live.acknowledged": _("Alarm #%(id)s acknowledged"),
        "live.late": _("Worker #%(worker)s is %(minutes)s min late (order #%(order)s)"),
        "live.evv": _("New visit-verification exception #%(id)s: %(kind)s (reload to decide)"),
        "live.plan": _("Plan changed (revision %(revision)s, %(district)s); reload to see it."),
        "live.failed": _("A stop failed (order #%(order)s)"),
        "live.flagged": _("Worker #%(worker)s's position is far from the service area"),
    }
    for group in ("evv", "district"):
        words.update({f"{group}.{code}": label(group, code) for code in VOCABULARY[group]})
    return _json(words)


def _json(value: Any) -> str:
    """JSON safe inside a <script> element (no closing tag can appear in it)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _district_codes() -> list[str]:
    from doorstep.geography import districts

    return [f["properties"]["code"] for f in districts().to_geojson()["features"]]


def _absence_reasons() -> tuple[str, ...]:
    from dispatch.replan_schemas import ABSENCE_REASONS

    return ABSENCE_REASONS
