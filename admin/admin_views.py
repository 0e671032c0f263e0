"""``/admin/users``, ``/admin/audit``, ``/admin/districts``; the navigation's rights; the saved language.

Accounts and the audit log are for admins; the districts map for anyone on the desk
pages. An account is created with the accounts API's schema (``UserCreateArgs``)
and ``create_user``, deactivated with ``deactivate_user``. ``?lang=`` on any desk
page, once signed in, is also kept on the account (``set_user_locale``), so the
language follows the user to another device.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from admin import administration as adm
from admin.forms import FormInvalid, field_errors, load, number, text
from admin.i18n import normalise_locale
from admin.views import bp, page_for
from admin.vocabulary import label
from doorstep.accounts import UserCreateArgs, create_user, deactivate_user, set_user_locale
from doorstep.api import unit_of_work
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, ValidationFailed

admin_page = page_for(lambda user: adm.may_administer(user.actor))
districts_page = page_for(lambda user: adm.may_view_districts(user.actor))

USER_FIELDS = ("username", "password", "role", "worker_id", "pharmacy_id")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@bp.before_request
def _keep_chosen_language() -> None:
    """After ``admin.views`` has read the session: a signed-in user's ``?lang=`` is saved to the account."""
    code = normalise_locale(request.args.get("lang"))
    user = g.get("desk_user")
    if code is None or user is None or user.locale == code:
        return
    try:
        set_user_locale(user.actor, code)
        session.commit()
    except Exception:
        session.rollback()
        raise
    g.user_locale = code


@bp.context_processor
def _administration_rights() -> dict[str, Any]:
    user = g.get("desk_user")
    actor = user.actor if user else None
    return {"may": {"workers": bool(actor and adm.may_manage_workers(actor)),
                    "administer": bool(actor and adm.may_administer(actor)),
                    "districts": bool(actor and adm.may_view_districts(actor))}}


@bp.app_template_filter("adm_pair")
def _pair(code: str, group: str) -> tuple[str, str]:
    """A code and its words, for a select's option: ``("nurse", "护士")``."""
    return code, label(group, code)


@bp.app_template_filter("adm_worker")
def _worker_option(worker: Any) -> tuple[int, str]:
    return worker.id, f"{worker.name} ({label('worker', worker.kind)} #{worker.id})"


@bp.app_context_processor
def _money_and_time() -> dict[str, Any]:
    return {"yuan": _yuan, "now": utcnow}


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"¥{fen // 100:,}.{fen % 100:02d}"


# --- accounts --------------------------------------------------------------------------------

@bp.get("/users")
@admin_page
def users() -> Any:
    return _users_page()


@bp.post("/users")
@unit_of_work
@admin_page
def user_create() -> Any:
    body = {"username": text("username") or "", "password": request.form.get("password", ""),
            "role": text("role") or "", "worker_id": number(text("worker_id")),
            "pharmacy_id": number(text("pharmacy_id"))}
    try:
        args = load(UserCreateArgs(), body, USER_FIELDS)
        if args["role"] not in adm.STAFF_ROLES:
            raise FormInvalid({"role": _("Only staff accounts are created here.")})
        user = create_user(args.pop("username"), args.pop("password"), args.pop("role"),
                           actor=g.desk_user.actor, **args)
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        session.rollback()
        if isinstance(exc, FormInvalid):
            errors = exc.fields
        elif isinstance(exc, Conflict):
            errors = {"username": _("This username is taken.")}
        else:
            errors = field_errors(exc.errors or {"form": [exc.detail]}, USER_FIELDS)
        return _users_page(errors=errors, status=422)
    flash(_("Account %(username)s created.", username=user.username), "info")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<int:user_id>/deactivate")
@unit_of_work
@admin_page
def user_deactivate(user_id: int) -> Response:
    try:
        user = deactivate_user(g.desk_user.actor, user_id)
    except Conflict:
        session.rollback()
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.users"), 303)
    flash(_("Account %(username)s deactivated; it stops working at once.", username=user.username), "info")
    return redirect(url_for("admin.users"), 303)


def _users_page(*, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    role = request.args.get("role")
    html = render_template("admin_users.html", users=adm.staff_users(role), roles=adm.STAFF_ROLES,
                           role=role if role in adm.STAFF_ROLES else None,
                           workers=adm.workers(g.desk_user.actor), pharmacies=adm.pharmacies(),
                           errors=errors or {}, values=request.form)
    return html, status


# --- the audit log ---------------------------------------------------------------------------

@bp.get("/audit")
@unit_of_work  # commits the audit row of this reading
@admin_page
def audit() -> Any:
    args = request.args
    errors: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for name in ("date_from", "date_to"):
        value = args.get(name, "").strip()
        dates[name] = None
        if value:
            try:
                dates[name] = date.fromisoformat(value) if _DATE.match(value) else None
            except ValueError:
                pass
            if dates[name] is None:
                errors[name] = _("The date must look like YYYY-MM-DD.")
    if dates["date_from"] and dates["date_to"] and dates["date_to"] < dates["date_from"]:
        errors["date_to"] = _("The end date is before the start date.")
    filters = adm.AuditFilters(who=args.get("who", "").strip()[:80] or None,
                               action=args.get("action", "").strip()[:20] or None,
                               entity=args.get("entity", "").strip()[:40] or None, **dates)
    page = args.get("page", "1")
    page_no = int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1
    if errors:  # nothing read, nothing to record: the filters come back with their errors
        log = adm.AuditPage(rows=[], page=1, has_next=False, **adm.audit_vocabulary())
    else:
        log = adm.audit_log(g.desk_user.actor, filters, page=page_no, tz_name=current_app.config["SETTINGS"].timezone)
    html = render_template("admin_audit.html", log=log, filters=filters, errors=errors, values=args)
    return html, 422 if errors else 200


# --- districts -------------------------------------------------------------------------------

@bp.get("/districts")
@districts_page
def districts() -> str:
    return render_template("admin_districts.html", map=adm.district_map())
