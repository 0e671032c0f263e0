"""Domain exceptions, and the one place that turns any error into problem+json.

Clients always get ``application/problem+json`` (RFC 9457): never an HTML page,
never a traceback. Validation errors carry ``errors: {"field.path": [msg]}``.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask, Response, json
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("doorstep.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of the errors a service may raise on purpose; each maps to one status."""

    status = 400
    title = "Bad request"
    type_ = "about:blank"

    def __init__(self, detail: str = "", errors: Mapping[str, list[str]] | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = dict(errors or {})
        self.extra = dict(extra or {})  # RFC 9457 extension members, e.g. existing_order_id


class NotFound(DomainError):
    """Missing, or not yours: the same answer either way, so ids leak nothing."""

    status, title, type_ = 404, "Not found", "https://doorstep.dev/problems/not-found"


class Forbidden(DomainError):
    status, title, type_ = 403, "Forbidden", "https://doorstep.dev/problems/forbidden"


class Unauthorized(DomainError):
    status, title, type_ = 401, "Unauthorized", "https://doorstep.dev/problems/unauthorized"


class Conflict(DomainError):
    status, title, type_ = 409, "Conflict", "https://doorstep.dev/problems/conflict"


class InvalidTransition(Conflict):
    title, type_ = "Illegal status change", "https://doorstep.dev/problems/invalid-transition"


class ValidationFailed(DomainError):
    status, title, type_ = 422, "Validation failed", "https://doorstep.dev/problems/validation"


def problem_response(
    status: int, title: str, detail: str = "", *, type_: str = "about:blank",
    errors: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    body: dict[str, Any] = {**(extra or {}), "type": type_, "title": title, "status": status,
                            "detail": detail or title}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages → ``{"window.start": ["..."]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, (list, tuple)):
        for i, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def webargs_errors(messages: Any) -> dict[str, list[str]]:
    """Drop webargs' location level (json/query/...) so paths read as the client wrote them."""
    if isinstance(messages, dict) and set(messages) <= {"json", "query", "querystring", "form", "headers", "files", "view_args"}:
        merged: dict[str, list[str]] = {}
        for location, inner in messages.items():
            prefix = "" if location == "json" else ("query" if location == "querystring" else location)
            merged.update(flatten_messages(inner, prefix))
        return merged
    return flatten_messages(messages)


def http_exception_response(exc: HTTPException) -> Response:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    errors = webargs_errors(messages) if messages else None
    detail = exc.description or ""
    if errors == {"_schema": ["Invalid JSON body."]}:
        errors, detail = {"body": ["Not valid JSON."]}, "The request body is not valid JSON."
    elif errors:
        detail = "Some fields are not valid: " + ", ".join(sorted(errors))
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    return problem_response(exc.code or 500, exc.name, detail, errors=errors, headers=headers)


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response:
        return problem_response(exc.status, exc.title, exc.detail, type_=exc.type_, errors=exc.errors or None,
                                extra=exc.extra)

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Response:
        return problem_response(409, "Conflict", "Someone changed this record at the same time; reload and try again.",
                                type_=Conflict.type_)

    @app.errorhandler(OperationalError)
    def _crossed(exc: OperationalError) -> Response:
        # PostgreSQL gave up one of two transactions that crossed (a deadlock, a serialisation
        # failure: SQLSTATE class 40); the unit of work rolled it back whole, so the caller
        # may simply send it again. Anything else (the database is down) stays a 500.
        if str(getattr(exc.orig, "sqlstate", "") or "").startswith("40"):
            log.warning("event=transaction_crossed sqlstate=%s", exc.orig.sqlstate)  # type: ignore[union-attr]
            return problem_response(409, "Conflict", "This change crossed another one saved at the same moment; "
                                    "nothing was saved. Send it again.", type_=Conflict.type_)
        return _internal(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return http_exception_response(exc)

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> Response:
        log.exception("event=unhandled_error error=%s", type(exc).__name__)
        return problem_response(500, "Internal server error", "Something went wrong on our side; it has been logged.")
