"""The desks: server-rendered pages under ``/admin`` (sign in, the dispatcher's board;
the pharmacy desk's pages are in ``admin.parcel_views``, on this same blueprint).

These are browser pages, not the API: a signed session cookie (HttpOnly,
SameSite=Lax) names the user, every form carries a per-session CSRF token,
and errors render as small HTML pages. That error handling is registered on
this blueprint only, so ``/api/v1`` keeps answering problem+json.
Views parse, call one function of ``admin.service`` and render.
"""
from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext as _
from flask_babel import lazy_gettext, refresh
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from admin import i18n, service
from admin.i18n import HTML_LANG, choose_locale, current_locale
from admin.messages import translate
from admin.vocabulary import label
from doorstep.api import unit_of_work
from doorstep.db import session
from doorstep.errors import DomainError, Forbidden, Unauthorized, ValidationFailed

log = logging.getLogger("doorstep.admin")

F = TypeVar("F", bound=Callable[..., Any])

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

# Pages show order data: keep them out of caches and frames, and load nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

# An error page's heading and its words when the error carries none of its own.
ERROR_TITLES = {
    400: lazy_gettext("Bad request"), 401: lazy_gettext("Sign in needed"), 403: lazy_gettext("Not allowed"),
    404: lazy_gettext("Page not found"), 405: lazy_gettext("Not allowed here"), 409: lazy_gettext("Conflict"),
    422: lazy_gettext("Check your input"), 500: lazy_gettext("Something went wrong"),
}
ERROR_DETAILS = {
    403: lazy_gettext("Your role may not see this page."), 404: lazy_gettext("There is no such page."),
    409: lazy_gettext("Someone changed this at the same time; reload and try again."),
    500: lazy_gettext("Something went wrong on our side; it has been logged."),
    None: lazy_gettext("This request could not be completed."),
}


def page_for(allowed: Callable[[service.DeskUser], bool]) -> Callable[[F], F]:
    """A page decorator: signed-out visitors go to the sign-in page; users ``allowed`` refuses get 403."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.desk_user is None:
                flash(_("Please sign in first."), "info")
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            if not allowed(g.desk_user):
                raise Forbidden(_("Your role may not see this page."))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


desk_page = page_for(lambda user: user.may_use_desk)  # the dispatcher's board: dispatchers, admins
parcel_page = page_for(lambda user: user.may_use_parcels)  # the pharmacy desk: pharmacists, dispatchers


def home_url(role: str | None = None) -> str:
    """Where a user lands: pharmacists at the pharmacy desk, everyone else at the board."""
    role = role or (g.desk_user.actor.role if g.get("desk_user") else None)
    return url_for("admin.parcels") if role == "pharmacist" else url_for("admin.board")


@bp.get("/")
def index() -> Response:
    return redirect(home_url())


@bp.get("/login")
def login() -> Any:
    if g.desk_user is not None and g.desk_user.may_sign_in:
        return redirect(home_url())
    return render_template("admin_login.html", error=None, username="", next=_safe_next())


@bp.post("/login")
def login_submit() -> Any:
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _login_error(_("Enter your username and password."), username, 422)
    try:
        user = service.sign_in(username, password)
    except Unauthorized:
        log.info("event=admin_sign_in outcome=wrong_credentials")
        return _login_error(_("Wrong username or password."), username, 401)
    except Forbidden:
        log.info("event=admin_sign_in outcome=wrong_role")
        return _login_error(
            _("These pages are for dispatchers, pharmacists and administrators only; please use your work app."),
            username, 403)
    chosen_lang = cookie.get("lang")
    cookie.clear()  # a fresh session (and CSRF token) on sign-in: nothing carries over from before
    cookie["user_id"] = user.id
    if chosen_lang:
        cookie["lang"] = chosen_lang
    log.info("event=admin_sign_in outcome=ok user_id=%s role=%s", user.id, user.role)
    return redirect(_safe_next() or home_url(user.role))


@bp.post("/logout")
def logout() -> Response:
    lang = cookie.get("lang")
    cookie.clear()
    if lang:
        cookie["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("admin.login"))


@bp.get("/board")
@unit_of_work  # commits the audit row of what the dispatcher saw
@desk_page
def board() -> Response:
    from admin.board_views import board_page  # the map, timelines, actions and live lists

    return board_page(service.parse_day(request.args.get("date"), _settings().timezone))


@bp.post("/board/plan")
@unit_of_work  # request_plan enqueues the solver only once this commits
@desk_page
def plan_day() -> Response:
    day = service.parse_day(request.form.get("date"), _settings().timezone)
    plan = service.plan_day(g.desk_user.actor, day)
    flash(_("Plan #%(id)s for %(date)s requested (%(status)s).", id=plan.id, date=day,
            status=label("plan_status", plan.status)), "info")
    return redirect(url_for("admin.board", date=day))


@bp.route("/<path:_unknown>", methods=["GET", "POST"])
def unknown(_unknown: str) -> Any:
    """Unknown pages under /admin get the HTML 404, not the API's problem+json."""
    abort(404)


# --- request hooks ---------------------------------------------------------------------------

@bp.before_request
def _prepare() -> None:
    if request.endpoint == "admin.static":
        return
    if "lang" in request.args:
        choose_locale(request.args.get("lang"))
    g.desk_user = service.desk_user(cookie.get("user_id"))
    g.user_locale = g.desk_user.locale if g.desk_user else None
    refresh()  # Babel caches the locale in ``g``, which outlives a request when a test holds the app context
    if g.desk_user is not None:
        g.actor = g.desk_user.actor
    if request.method == "POST":
        _check_csrf()


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@bp.errorhandler(Exception)
def _error_page(exc: Exception) -> tuple[str, int]:
    """Any error on a desk page as a small HTML page in the reader's language."""
    session.rollback()
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        custom = exc.description != type(exc).description
        detail = exc.description if custom else _error_detail(status)
    elif isinstance(exc, DomainError):
        # The services speak English (admin.messages translates them); the one input these pages
        # validate gets its own words.
        status = exc.status
        detail = _("The date must look like YYYY-MM-DD.") if isinstance(exc, ValidationFailed) and "date" in exc.errors \
            else translate(exc.detail)
    elif isinstance(exc, StaleDataError):
        status, detail = 409, _("Someone changed this at the same time; reload and try again.")
    else:
        log.exception("event=admin_error error=%s path=%s", type(exc).__name__, request.path)
        status, detail = 500, _("Something went wrong on our side; it has been logged.")
    if "desk_user" not in g:
        g.desk_user = None
    title = str(ERROR_TITLES.get(status) or ERROR_TITLES[400 if status < 500 else 500])
    return render_template("admin_error.html", status=status, title=title, detail=detail), status


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    locale = current_locale()
    return {"label": label, "locale": locale, "html_lang": HTML_LANG[locale],
            "lang_url": _lang_url, "csrf_token": csrf_token, "local_time": _local_time, "home_url": home_url,
            "desk_user": g.get("desk_user"), "flashes": get_flashed_messages(with_categories=True)}


# --- helpers ---------------------------------------------------------------------------------

def csrf_token() -> str:
    """This session's CSRF token, made on first use; every form posts it back."""
    token = cookie.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        cookie["csrf"] = token
    return token


def _check_csrf() -> None:
    expected = cookie.get("csrf")
    sent = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(str(expected), sent):
        log.info("event=admin_csrf_rejected path=%s", request.path)
        abort(400, description=_("The form has expired or came from another page. Go back, reload and try again."))


def _login_error(error: str, username: str, status: int) -> tuple[str, int]:
    return render_template("admin_login.html", error=error, username=username, next=_safe_next()), status


def _safe_next() -> str | None:
    """Where to go after signing in: only a path of these pages, never another site."""
    target = request.values.get("next", "")
    if target.startswith("/admin/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _error_detail(status: int) -> str:
    return str(ERROR_DETAILS.get(status, ERROR_DETAILS[None]))


def _lang_url(code: str) -> str:
    """This page in another language (GET pages keep their query; others go to the path)."""
    args = request.args.to_dict() if request.method == "GET" else {}
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"


def _local_time(value: datetime | None, fmt: str = "%H:%M") -> str:
    if value is None:
        return "—"
    return value.astimezone(ZoneInfo(_settings().timezone)).strftime(fmt)


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def init_app(app: Flask) -> None:
    """Mount the desk under /admin; the session cookie is HttpOnly and SameSite=Lax."""
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    i18n.init_app(app)
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Their routes join this blueprint before it is registered: the pharmacy desk, the board's
    # actions and live answers, and the administration pages.
    from admin import admin_views, board_views, catalogue_views, parcel_views, worker_views  # noqa: F401

    app.register_blueprint(bp)
