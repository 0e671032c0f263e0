"""The pharmacy desk under ``/admin/parcels``: review queue, failed deliveries, all parcels, one parcel.

Pages for a pharmacist (their pharmacy's parcels) and dispatchers (every pharmacy's,
to read). Forms are plain HTML forms, each with the session's CSRF token (checked for
every POST by ``admin.views``); they are validated with the API's own marshmallow
schemas (``orders.delivery_schemas``) and then by the same service functions as the
API, so a form and an API call can never disagree. A refused form is the parcel's page
again, 422, with each error next to its field; a success redirects (303) back to the
page the form was on, with a message.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow
from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from werkzeug.wrappers import Response

from admin import parcels as desk
from admin.forms import FormInvalid
from admin.messages import translate_all
from admin.views import bp, parcel_page
from admin.vocabulary import label
from doorstep.api import unit_of_work
from doorstep.db import session
from doorstep.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from orders import deliveries
from orders.delivery_schemas import RedeliverArgs, ReturnArgs, ReviewArgs

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HHMM = re.compile(r"^\d{2}:\d{2}$")


# --- pages -----------------------------------------------------------------------------------

@bp.get("/parcels")
@unit_of_work  # commits the audit row of what the page showed
@parcel_page
def parcels() -> str:
    """The review queue: parcels awaiting a pharmacist's review, newest first."""
    return _list_page("review", status="awaiting_review")


@bp.get("/parcels/failed")
@unit_of_work
@parcel_page
def parcels_failed() -> str:
    """Failed deliveries: re-deliver on a new window, or return to the pharmacy."""
    return _list_page("failed", status="failed")


@bp.get("/parcels/all")
@unit_of_work
@parcel_page
def parcels_all() -> str:
    """Every parcel by status, date and district; or a search (tracking code, prescription, phone)."""
    args = request.args
    status = args.get("status") if args.get("status") in desk.STATUSES else None
    date = args.get("date") if _DATE.match(args.get("date", "")) else None
    q = args.get("q", "").strip() or None
    if q is not None and not desk.may_search(g.desk_user.actor):
        q = None  # the search form is not shown to dispatchers; a hand-made URL just lists
    return _list_page("all", status=status, date=date, q=q)


@bp.get("/parcels/<int:order_id>")
@unit_of_work
@parcel_page
def parcel(order_id: int) -> str:
    """One parcel: its facts, items and history, and the actions its status allows."""
    return _detail_page(order_id)


@bp.get("/parcels/<int:order_id>/label")
@unit_of_work  # the print is audited
@parcel_page
def parcel_label(order_id: int) -> Response:
    """The label PDF, as the API serves it (same access check: its pharmacy and dispatchers)."""
    tracking_code, pdf = deliveries.parcel_label(g.desk_user.actor, order_id)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="label-{tracking_code}.pdf"'})


# --- actions ---------------------------------------------------------------------------------

@bp.post("/parcels/<int:order_id>/approve")
@unit_of_work
@parcel_page
def parcel_approve(order_id: int) -> Any:
    return _act(order_id, "review", lambda: deliveries.review_prescription(
        g.desk_user.actor, order_id, **_load(ReviewArgs(), {"approved": True})), _("%(code)s approved (%(status)s)."))


@bp.post("/parcels/<int:order_id>/reject")
@unit_of_work
@parcel_page
def parcel_reject(order_id: int) -> Any:
    def reject() -> Any:
        args = _load(ReviewArgs(), {"approved": False, "reason": _text("reason")})
        return deliveries.review_prescription(g.desk_user.actor, order_id, **args)

    return _act(order_id, "reject", reject, _("%(code)s rejected."))


@bp.post("/parcels/<int:order_id>/redeliver")
@unit_of_work
@parcel_page
def parcel_redeliver(order_id: int) -> Any:
    def redeliver() -> Any:
        args = _load(RedeliverArgs(), {"window": _window_from_form(), "reason": _text("reason")})
        return desk.redeliver(g.desk_user.actor, order_id, window_start=args["window"]["start"],
                                 window_end=args["window"]["end"], reason=args["reason"])

    return _act(order_id, "redeliver", redeliver, _("%(code)s will be delivered again (%(status)s)."))


@bp.post("/parcels/<int:order_id>/return")
@unit_of_work
@parcel_page
def parcel_return(order_id: int) -> Any:
    def give_back() -> Any:
        args = _load(ReturnArgs(), {"reason": _text("reason") or ""})
        return desk.return_to_pharmacy(g.desk_user.actor, order_id, reason=args["reason"])

    return _act(order_id, "return", give_back, _("%(code)s returned to the pharmacy."))


# --- helpers ---------------------------------------------------------------------------------

def _list_page(view: str, **filters: Any) -> str:
    actor = g.desk_user.actor
    page = request.args.get("page", "1")
    listing = desk.parcel_list(actor, page=int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1,
                                  **filters)
    return render_template("admin_parcels.html", view=view, listing=listing, filters=filters,
                           counts=desk.status_counts(actor), statuses=desk.STATUSES,
                           caps=_capabilities(), today=_today())


def _detail_page(order_id: int, *, form: str | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> Any:
    detail = desk.parcel_detail(g.desk_user.actor, order_id)
    html = render_template("admin_parcel.html", detail=detail, row=detail.row, caps=_capabilities(),
                           form=form, errors=errors or {}, values=request.form, today=_today())
    return html, status


def _act(order_id: int, form: str, action: Any, done: str) -> Any:
    """Run one action; on bad input show the parcel again with the errors, on a stale one say so.

    ``done`` is the translated message of success, its ``%(code)s`` and ``%(status)s`` filled here.
    """
    try:
        order = action()
    except FormInvalid as exc:
        session.rollback()
        return _detail_page(order_id, form=form, errors=exc.fields, status=422)
    except ValidationFailed as exc:
        session.rollback()
        return _detail_page(order_id, form=form, errors=_field_errors(exc.errors or {"form": [exc.detail]}),
                            status=422)
    except (InvalidTransition, Conflict):
        session.rollback()
        flash(_("This parcel's status has changed (someone may just have handled it); check it and try again."), "error")
        return redirect(url_for("admin.parcel", order_id=order_id), 303)
    except Forbidden:
        session.rollback()
        if g.desk_user.actor.role != "pharmacist":
            raise
        flash(_("Two-person review: the pharmacist who created the order may not review it; ask a colleague."), "error")  # the only pharmacist refusal: two-person review
        return redirect(url_for("admin.parcel", order_id=order_id), 303)
    flash(done % {"code": order.tracking_code, "status": label("status", order.status)}, "info")
    return redirect(_back() or url_for("admin.parcel", order_id=order_id), 303)


def _load(schema: marshmallow.Schema, data: dict[str, Any]) -> dict[str, Any]:
    """The API's schema on the form's values; its errors as the form's fields'."""
    try:
        return schema.load(data)
    except marshmallow.ValidationError as exc:
        raise FormInvalid(_field_errors(_flatten(exc.messages))) from exc


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, dict):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]}


def _field_errors(errors: dict[str, Any]) -> dict[str, str]:
    """API field names (``window.end``, ``reason``) as the form's (``end``, ``reason``), in the page's words."""
    fields: dict[str, str] = {}
    for name, messages in errors.items():
        field = {"window.start": "start", "window.end": "end", "window": "end"}.get(name, name)
        if field not in ("reason", "date", "start", "end"):
            field = "form"
        detail = translate_all(messages)
        fields[field] = _form_error(field) % {"detail": detail}
    return fields


def _form_error(field: str) -> str:
    """The words of a field's error, translated, with ``%(detail)s`` left for the API's own."""
    if field == "reason" and _text("reason"):  # given, yet refused (too long): say why
        return pgettext("invalid input", "%(detail)s")
    return {"reason": _("Give a reason."), "date": _("The date must look like YYYY-MM-DD. %(detail)s"),
            "start": _("The start is not valid: %(detail)s"), "end": _("The window is not valid: %(detail)s"),
            }.get(field) or _("Could not save: %(detail)s")


def _window_from_form() -> dict[str, str]:
    """``{start, end}`` in ISO 8601 with the hospital's offset, from a date and two HH:MM fields."""
    date, start, end = _text("date") or "", _text("start") or "", _text("end") or ""
    errors = {}
    if not _DATE.match(date):
        errors["date"] = _("The date must look like YYYY-MM-DD. %(detail)s", detail="")
    for name, value in (("start", start), ("end", end)):
        if not _HHMM.match(value):
            errors[name] = _("The time must look like HH:MM.")
    if not errors:
        tz = ZoneInfo(current_app.config["SETTINGS"].timezone)
        try:
            return {name: datetime.fromisoformat(f"{date}T{value}").replace(tzinfo=tz).isoformat()
                    for name, value in (("start", start), ("end", end))}
        except ValueError:
            errors["date"] = _("The date must look like YYYY-MM-DD. %(detail)s", detail="")
    raise FormInvalid(errors)


def _text(name: str) -> str | None:
    value = request.form.get(name, "").strip()
    return value or None


def _back() -> str | None:
    """The desk page the form was on (only a path of the pharmacy desk)."""
    target = request.form.get("back", "")
    if target.startswith("/admin/parcels") and "//" not in target and "\\" not in target:
        return target
    return None


def _capabilities() -> dict[str, bool]:
    actor = g.desk_user.actor
    return {"review": desk.may_review(actor), "after_failure": desk.may_act_after_failure(actor),
            "search": desk.may_search(actor), "all_pharmacies": actor.role != "pharmacist"}


def _today() -> str:
    return datetime.now(ZoneInfo(current_app.config["SETTINGS"].timezone)).date().isoformat()
