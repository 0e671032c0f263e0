"""``/admin/workers``: nurses and couriers — list, create, edit, shifts, days off (admins and dispatchers).

Each form is loaded with the workers API's schema (``WorkerCreateArgs``,
``WorkerUpdateArgs``, ``WorkerOffArgs``) and handed to the same service functions
(``create_worker``, ``update_worker``, ``worker_off``). The edit forms carry the
worker's version, as the API's If-Match does: an edit made meanwhile by someone else
is not overwritten but reported. Shifts are added and removed one at a time by
replacing the list, as the API's PATCH does.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin import administration as adm
from admin.forms import FormInvalid, field_errors, load, local_datetime, number, text, words
from admin.views import bp, page_for
from admin.vocabulary import label
from dispatch.qualification import TITLES
from dispatch.replan import worker_off
from dispatch.replan_schemas import ABSENCE_REASONS, WorkerOffArgs
from dispatch.schemas import WorkerCreateArgs, WorkerUpdateArgs
from dispatch.workers import (
    KINDS,
    PreconditionFailed,
    access_worker,
    create_worker,
    district_codes,
    update_worker,
)
from doorstep.api import unit_of_work
from doorstep.db import session
from doorstep.errors import Conflict, ValidationFailed

workers_page = page_for(lambda user: adm.may_manage_workers(user.actor))

WORKER_FIELDS = ("kind", "name", "skills", "districts", "home_lat", "home_lon", "title", "registration_number",
                 "practice_began", "active")
SHIFT_FIELDS = ("date", "start", "end")
# An overlap is reported on the list of shifts; on the add-shift form it belongs to the new one.
SHIFT_ALIASES = {"shifts_start": "start", "shifts_end": "end", "shifts": "end"}


@bp.get("/workers")
@workers_page
def workers() -> str:
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    return _list_page(kind=kind)


@bp.post("/workers")
@unit_of_work
@workers_page
def worker_create() -> Any:
    try:
        args = load(WorkerCreateArgs(), _worker_body(), WORKER_FIELDS)
        worker = create_worker(g.desk_user.actor, **args)
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        session.rollback()
        return _list_page(errors=_errors(exc, WORKER_FIELDS), status=422)
    flash(_("%(name)s added; now give them shifts.", name=worker.name), "info")
    return redirect(url_for("admin.worker", worker_id=worker.id), 303)


@bp.get("/workers/<int:worker_id>")
@workers_page
def worker(worker_id: int) -> Any:
    return _detail_page(worker_id)


@bp.post("/workers/<int:worker_id>")
@unit_of_work
@workers_page
def worker_update(worker_id: int) -> Any:
    def change() -> Any:
        body = _worker_body()
        body["active"] = request.form.get("active") == "on"
        return load(WorkerUpdateArgs(), body, WORKER_FIELDS)

    return _edit(worker_id, "worker", change, WORKER_FIELDS, _("Saved."))


@bp.post("/workers/<int:worker_id>/shifts")
@unit_of_work
@workers_page
def worker_shift_add(worker_id: int) -> Any:
    def add() -> Any:
        tz = _tz()
        start = local_datetime(text("date"), text("start"), tz, time_field="start")
        end = local_datetime(text("date"), text("end"), tz, time_field="end")
        existing = [{"start": a.isoformat(), "end": b.isoformat()}
                    for a, b in adm.shift_pairs(access_worker(g.desk_user.actor, worker_id))]
        return load(WorkerUpdateArgs(), {"shifts": [*existing, {"start": start, "end": end}]},
                    SHIFT_FIELDS, SHIFT_ALIASES)

    return _edit(worker_id, "shift", add, SHIFT_FIELDS, _("Shift added."), SHIFT_ALIASES)


@bp.post("/workers/<int:worker_id>/shifts/<int:shift_id>/remove")
@unit_of_work
@workers_page
def worker_shift_remove(worker_id: int, shift_id: int) -> Any:
    def remove() -> Any:
        worker = access_worker(g.desk_user.actor, worker_id)
        if not adm.has_shift(worker, shift_id):
            raise FormInvalid({"form": _("That shift no longer exists.")})
        return {"shifts": adm.shift_pairs(worker, without=shift_id)}

    return _edit(worker_id, "shift", remove, SHIFT_FIELDS, _("Shift removed."))


@bp.post("/workers/<int:worker_id>/off")
@unit_of_work
@workers_page
def worker_day_off(worker_id: int) -> Any:
    try:
        args = load(WorkerOffArgs(), {"date": text("date") or "", "reason": text("reason") or ""},
                    ("date", "reason"))
        worker_off(g.desk_user.actor, worker_id, day=args["date"], reason=args["reason"])
    except (FormInvalid, ValidationFailed) as exc:
        session.rollback()
        return _detail_page(worker_id, form="off", errors=_errors(exc, ("date", "reason")), status=422)
    flash(_("Day off on %(date)s recorded (%(reason)s).", date=args["date"].isoformat(), reason=label("absence", args["reason"])), "info")
    return redirect(url_for("admin.worker", worker_id=worker_id), 303)


# --- helpers ---------------------------------------------------------------------------------

def _worker_body() -> dict[str, Any]:
    """The API's worker body from the form (nurse-only fields empty → null)."""
    body: dict[str, Any] = {"kind": text("kind") or "", "name": text("name") or "", "skills": words("skills"),
                            "districts": request.form.getlist("districts"),
                            "home": {"lat": text("home_lat") or "", "lon": text("home_lon") or ""},
                            "title": text("title"), "registration_number": text("registration_number"),
                            "practice_began": text("practice_began")}
    return body


def _edit(worker_id: int, form: str, changes: Any, fields: tuple[str, ...], done: str,
          aliases: dict[str, str] | None = None) -> Any:
    """Apply one edit guarded by the form's version; errors back on the page, stale edits reported."""
    version = number(text("version"))
    try:
        args = changes()
        update_worker(g.desk_user.actor, worker_id,
                      expected_version=version if isinstance(version, int) else None, **args)
    except PreconditionFailed:
        session.rollback()
        flash(_("Someone changed this worker meanwhile; here is the latest, please try again."), "error")
        return redirect(url_for("admin.worker", worker_id=worker_id), 303)
    except (FormInvalid, ValidationFailed, Conflict) as exc:
        session.rollback()
        return _detail_page(worker_id, form=form, errors=_errors(exc, fields, aliases), status=422)
    flash(done, "info")
    return redirect(url_for("admin.worker", worker_id=worker_id), 303)


def _errors(exc: Exception, fields: tuple[str, ...], aliases: dict[str, str] | None = None) -> dict[str, str]:
    if isinstance(exc, FormInvalid):
        return exc.fields
    assert isinstance(exc, (ValidationFailed, Conflict))
    return field_errors(exc.errors or {"form": [exc.detail]}, fields, aliases)


def _list_page(*, kind: str | None = None, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    html = render_template("admin_workers.html", workers=adm.workers(g.desk_user.actor, kind), kind=kind,
                           errors=errors or {}, values=request.form, **_choices())
    return html, status


def _detail_page(worker_id: int, *, form: str | None = None, errors: dict[str, str] | None = None,
                 status: int = 200) -> Any:
    worker = access_worker(g.desk_user.actor, worker_id)
    today = _today()
    html = render_template("admin_worker.html", worker=worker, absences=adm.upcoming_absences(worker.id, today),
                           form=form, errors=errors or {}, values=request.form if form else {}, today=today,
                           **_choices())
    return html, status


def _choices() -> dict[str, Any]:
    return {"kinds": KINDS, "titles": TITLES, "district_codes": district_codes(), "reasons": ABSENCE_REASONS}


def _tz() -> str:
    return current_app.config["SETTINGS"].timezone


def _today() -> str:
    from admin.service import local_today

    return local_today(_tz())
