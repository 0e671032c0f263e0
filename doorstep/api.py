"""The HTTP edge every package shares: strict parsing, problem+json, one unit of work.

- ``Blueprint`` rejects unknown query parameters as well as unknown body fields.
- ``Api`` renders every HTTP error as problem+json.
- ``unit_of_work`` commits a write view's transaction before the answer leaves,
  and honours ``Idempotency-Key`` inside that same transaction.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any, Callable, TypeVar

import flask_smorest
import marshmallow as ma
from flask import Flask, Response, json, request, send_from_directory
from flask_smorest import Page
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from webargs.flaskparser import FlaskParser

from doorstep.auth import current_actor
from doorstep.db import add_row, session
from doorstep.errors import Conflict, ValidationFailed, http_exception_response
from doorstep.models import IdempotencyRecord

F = TypeVar("F", bound=Callable[..., Any])


class Schema(ma.Schema):
    """Base of every request and response schema: unknown fields are an error, and so
    is a NUL character in any string (PostgreSQL cannot store one)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _refuse_nul_characters(self, data: Any, **_kwargs: Any) -> Any:
        errors = {path: ["Must not contain NUL characters."] for path in _nul_paths(data)}
        if errors:
            raise ma.ValidationError(errors)
        return data


def _nul_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, str):
        return [path or "_schema"] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}" if path else str(k))
                ] + ([path or "_schema"] if any("\x00" in str(k) for k in value) else [])
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}.{i}" if path else str(i))]
    return []


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = {
        location: ma.RAISE
        for location in ("json", "form", "json_or_form", "querystring", "query", "files")
    } | {"headers": ma.EXCLUDE, "cookies": ma.EXCLUDE}


class Blueprint(flask_smorest.Blueprint):
    """Strict bodies and queries. The paginator reads only ``page``/``page_size``;
    each list view's query schema (a ``PaginatedQueryArgs``) refuses the rest."""

    ARGUMENTS_PARSER = StrictParser()
    PAGINATION_ARGUMENTS_PARSER = FlaskParser()

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        """As smorest's, with one schema instance per view: webargs builds a new instance from a
        class on every request (fields deep-copied, nested schemas built again), about 5 % of a
        care order's CPU. Loading keeps no state on the instance, and the OpenAPI document is the same."""
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class PaginatedQueryArgs(Schema):
    """A strict query schema that leaves ``page``/``page_size`` to ``@blp.paginate``
    (webargs hands the whole query string to both parsers)."""

    @ma.pre_load
    def _leave_pagination(self, data: Any, **_kwargs: Any) -> dict[str, Any]:
        return {key: data[key] for key in data if key not in ("page", "page_size")}


class Api(flask_smorest.Api):
    def handle_http_exception(self, error: Any) -> Response:  # noqa: D102 - smorest hook
        return http_exception_response(error)


class ListPage(Page):
    """``?page=&page_size=`` over a SQLAlchemy select: counts and slices in the database."""

    @property
    def item_count(self) -> int:
        from sqlalchemy import func

        return session.scalar(select(func.count()).select_from(self.collection.order_by(None).subquery()))

    @property
    def items(self) -> list[Any]:
        params = self.page_params
        if params.first_item >= MAX_OFFSET:  # beyond any table, and too large for SQLite's integers
            return []
        return list(session.scalars(self.collection.offset(params.first_item).limit(params.page_size)))


MAX_OFFSET = 2**31

PAGINATION = {"page": 1, "page_size": 50, "max_page_size": 200}


def unit_of_work(view: F) -> F:
    """Run a write view in one transaction, committed before the response is sent.

    With an ``Idempotency-Key`` header the first answer is stored in the same
    transaction; the same key and body replay it, another body is a 422. Reads
    (GET, HEAD) ignore the header: replaying a stored answer would hide later
    changes, and a PDF or an empty body has no JSON to store.
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key") if request.method not in READS else None
        if key:
            replay = _replay(key)
            if replay is not None:
                return replay
        try:
            response = view(*args, **kwargs)
            if key and isinstance(response, Response) and response.status_code < 300:
                _remember(key, response)
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise Conflict("This conflicts with a record that exists already (or the same request is in progress).") from exc
        except BaseException:
            session.rollback()
            raise
        return response

    wrapper.honours_idempotency_key = True  # type: ignore[attr-defined]  # checked by tests/doorstep
    return wrapper  # type: ignore[return-value]


READS = frozenset({"GET", "HEAD"})


def _body_sha256() -> str:
    return hashlib.sha256(request.get_data() or b"").hexdigest()


def _replay(key: str) -> Response | None:
    if len(key) > 255:
        raise ValidationFailed("Idempotency-Key is too long.", {"Idempotency-Key": ["At most 255 characters."]})
    record = session.execute(_STORED_ANSWER, {"user_id": current_actor().user_id, "key": key}).first()
    if record is None:
        return None
    if record.body_sha256 != _body_sha256() or record.path != request.path or record.method != request.method:
        raise ValidationFailed("This Idempotency-Key was used with another request.",
                               {"Idempotency-Key": ["Already used with a different body; use a new key."]})
    response = Response(json.dumps(record.response_body), status=record.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


# Columns, not the entity, and built once: every create pays this lookup.
_stored = IdempotencyRecord.__table__.c
_STORED_ANSWER = (select(_stored.body_sha256, _stored.path, _stored.method, _stored.status, _stored.response_body)
                  .where(_stored.user_id == bindparam("user_id"), _stored.key == bindparam("key")))


def _remember(key: str, response: Response) -> None:
    add_row(IdempotencyRecord.__table__, user_id=current_actor().user_id, key=key, method=request.method,
            path=request.path, body_sha256=_body_sha256(), status=response.status_code,
            response_body=response.get_json(silent=True))


# Request bodies: a care order or a parcel is a few kilobytes, so 256 KiB leaves room and a
# 1 MB body is refused with 413 before it is parsed. A dispatch problem document may be large.
MAX_BODY_BYTES = 256 * 1024
LARGE_BODIES = {"/api/v1/dispatch/solve": 64 * 1024 * 1024}


def _allow_large_bodies() -> None:
    limit = LARGE_BODIES.get(request.path)
    if limit is not None:
        request.max_content_length = limit


def _refuse_nul_in_url() -> None:
    if "\x00" in request.path or "%00" in request.query_string.decode("latin-1"):
        raise ValidationFailed("The address contains a NUL character.", {"url": ["Must not contain NUL characters."]})


def init_app(app: Flask) -> Api:
    import swagger_ui_bundle

    app.before_request(_refuse_nul_in_url)
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is no limit
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # larger bodies: 413 problem+json
    app.before_request(_allow_large_bodies)

    app.config.update(
        API_TITLE="Doorstep", API_VERSION="1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs", OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "Dispatch for hospitals' Internet + home care. "
                                    "Errors are application/problem+json."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api = Api(app)
    assets = swagger_ui_bundle.swagger_ui_path

    @app.get("/api/v1/docs/assets/<path:filename>")
    def _swagger_assets(filename: str) -> Response:
        return send_from_directory(assets, filename)

    return api
