"""``/admin/catalogue``: the home-care catalogue — list, create, edit, price changes, withdraw (admins).

Forms are loaded with the catalogue API's schemas (``CatalogueItemCreateArgs``,
``CatalogueItemUpdateArgs``, with the eligibility rule's own schema nested) and go
to ``orders.catalogue`` as the API does. Prices are typed in yuan and sent in fen.
An edit sends only the fields that changed, so the audit row names what changed.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from admin import administration as adm
from admin.forms import (
    FormInvalid,
    field_errors,
    load,
    local_datetime,
    number,
    text,
    words,
    yuan_to_fen,
)
from admin.views import bp, page_for
from doorstep.api import unit_of_work
from doorstep.db import session
from doorstep.errors import Conflict, ValidationFailed
from doorstep.models import User
from orders import catalogue
from orders.eligibility import RULES
from orders.schemas import CatalogueItemCreateArgs, CatalogueItemUpdateArgs

admin_page = page_for(lambda user: adm.may_administer(user.actor))

ITEM_FIELDS = ("code", "name", "name_zh", "category", "skills", "duration_minutes", "price", "eligibility_rule",
               "eligibility_days", "eligibility_codes", "preparation_notes", "preparation_notes_zh")
PRICE_FIELDS = ("price", "date", "start")
ALIASES = {"price_fen": "price", "eligibility": "eligibility_rule", "price_effective_from": "date"}
EDITABLE = ("name", "name_zh", "category", "skills", "duration_minutes", "eligibility", "preparation_notes",
            "preparation_notes_zh")


@bp.get("/catalogue")
@admin_page
def catalogue_items() -> Any:
    return _list_page()


@bp.post("/catalogue")
@unit_of_work
@admin_page
def catalogue_create() -> Any:
    try:
        body = {**_item_body(), "code": text("code") or "", "price_fen": _given(yuan_to_fen(text("price")))}
        item = catalogue.create_item(g.desk_user.actor, **load(CatalogueItemCreateArgs(), body, ITEM_FIELDS, ALIASES))
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        session.rollback()
        return _list_page(errors=_errors(exc, ITEM_FIELDS), status=422)
    flash(_("%(code)s added.", code=item.code), "info")
    return redirect(url_for("admin.catalogue_item", code=item.code), 303)


@bp.get("/catalogue/<string:code>")
@admin_page
def catalogue_item(code: str) -> Any:
    return _detail_page(code)


@bp.post("/catalogue/<string:code>")
@unit_of_work
@admin_page
def catalogue_update(code: str) -> Any:
    def change() -> dict[str, Any]:
        item = catalogue.access_item(g.desk_user.actor, code)
        args = load(CatalogueItemUpdateArgs(), _item_body(), ITEM_FIELDS, ALIASES)
        return {key: value for key, value in args.items() if getattr(item, key) != value}

    return _act(code, "item", change, ITEM_FIELDS, _("%(code)s saved."))


@bp.post("/catalogue/<string:code>/price")
@unit_of_work
@admin_page
def catalogue_price(code: str) -> Any:
    def change() -> dict[str, Any]:
        body: dict[str, Any] = {"price_fen": _given(yuan_to_fen(text("price")))}
        if text("date") or text("start"):  # blank: effective at once
            body["price_effective_from"] = local_datetime(text("date"), text("start") or "00:00", _tz())
        return load(CatalogueItemUpdateArgs(), body, PRICE_FIELDS, ALIASES)

    return _act(code, "price", change, PRICE_FIELDS, _("New price of %(code)s recorded."))


@bp.post("/catalogue/<string:code>/withdraw")
@unit_of_work
@admin_page
def catalogue_withdraw(code: str) -> Any:
    return _act(code, "status", lambda: {"active": False}, (), _("%(code)s withdrawn: no longer listed or bookable."))


@bp.post("/catalogue/<string:code>/reinstate")
@unit_of_work
@admin_page
def catalogue_reinstate(code: str) -> Any:
    return _act(code, "status", lambda: {"active": True}, (), _("%(code)s is bookable again."))


# --- helpers ---------------------------------------------------------------------------------

def _item_body() -> dict[str, Any]:
    rule: dict[str, Any] = {"rule": text("eligibility_rule") or ""}
    if rule["rule"] == "discharged_within_days":
        rule["days"] = number(text("eligibility_days")) if text("eligibility_days") else None
    elif rule["rule"] == "diagnosis_in":
        rule["codes"] = words("eligibility_codes")
    return {"name": text("name") or "", "name_zh": text("name_zh") or "", "category": text("category") or "",
            "skills": words("skills"), "duration_minutes": _given(number(text("duration_minutes"))),
            "eligibility": {key: value for key, value in rule.items() if value is not None},
            "preparation_notes": text("preparation_notes"), "preparation_notes_zh": text("preparation_notes_zh")}


def _given(value: Any) -> Any:
    """An empty field as an empty string, which the schema refuses by name (None would mean "no change")."""
    return "" if value is None else value


def _act(code: str, form: str, changes: Any, fields: tuple[str, ...], done: str) -> Any:
    """Apply one change; ``done`` is the translated message, its ``%(code)s`` filled here."""
    try:
        args = changes()
        item = catalogue.update_item(g.desk_user.actor, code, **args) if args else \
            catalogue.access_item(g.desk_user.actor, code)
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        session.rollback()
        return _detail_page(code, form=form, errors=_errors(exc, fields), status=422)
    flash(done % {"code": item.code}, "info")
    return redirect(url_for("admin.catalogue_item", code=item.code), 303)


def _errors(exc: Exception, fields: tuple[str, ...]) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return exc.fields
    assert isinstance(exc, (ValidationFailed, Conflict))
    return field_errors(exc.errors or {"form": [exc.detail]}, fields, ALIASES)


def _list_page(*, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    items = catalogue.list_items(g.desk_user.actor, include_inactive=True)
    html = render_template("admin_catalogue.html", items=items, errors=errors or {}, values=request.form,
                           rules=RULES, categories=catalogue.CATEGORIES)
    return html, status


def _detail_page(code: str, *, form: str | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> Any:
    item = catalogue.access_item(g.desk_user.actor, code)
    setters = {row.set_by for row in item.prices if row.set_by is not None}
    usernames = dict(session.execute(select(User.id, User.username).where(User.id.in_(setters))).tuples().all()) \
        if setters else {}
    html = render_template("admin_catalogue_item.html", item=item, usernames=usernames, form=form, errors=errors or {},
                           values=request.form if form else {}, rules=RULES, categories=catalogue.CATEGORIES)
    return html, status


def _tz() -> str:
    return current_app.config["SETTINGS"].timezone
