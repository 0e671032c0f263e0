"""The body of ``POST /mobile/location``, read without marshmallow when it is well formed.

Pings come at 2,000/s (issue 6), and building and running a marshmallow schema through
webargs was the largest share of a ping's CPU. So the view reads the body here:

- a JSON object (``application/json``) with only the documented keys and plainly valid
  values — numbers in range, ``at`` an ISO 8601 time with an offset, ``crs`` one of
  ``wgs84``/``gcj02``/``bd09`` or absent, ``accuracy_m`` 0..100,000 or absent — is taken
  as it is, in a few microseconds;
- **anything else** goes to ``LocationArgs`` through the API's strict webargs parser, exactly
  as ``@blp.arguments(LocationArgs)`` would: the same 422 problem+json naming each field
  (an unknown field, ``lat`` out of range, a naive ``at``, a NUL character...), the same
  400 for a body that is not JSON, and the same acceptance of what marshmallow accepts
  that the quick path does not bother with (a number sent as a string).

The quick path accepts nothing that ``LocationArgs().load`` refuses, and gives the same
values where both accept (tests/mobile_api/test_ping_body.py checks that with Hypothesis).
``LocationArgs`` stays the endpoint's OpenAPI description (``documented_only``) and what
the fuzz test generates from.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from copy import deepcopy
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, Request, request
from flask.sessions import SecureCookieSessionInterface
from webargs.core import parse_json

from doorstep.api import Blueprint
from mobile_api.schemas import CRS, LocationArgs

F = TypeVar("F", bound=Callable[..., Any])

PATH = "/api/v1/mobile/location"
KEYS = frozenset({"lat", "lon", "at", "crs", "accuracy_m"})
CRS_NAMES = frozenset(CRS)
MAX_ACCURACY_M = 100_000  # as LocationArgs.accuracy_m
_SCHEMA = LocationArgs()


def read_location() -> dict[str, Any]:
    """The ping's arguments (``lat``, ``lon``, ``at``, ``crs``, ``accuracy_m``), as
    ``LocationArgs`` would load them; raises the parser's 400/422 for a bad body."""
    if request.mimetype == "application/json":
        try:
            data = parse_json(request.get_data(cache=True))  # cached: the fallback reads it again
        except ValueError:  # not JSON, or not UTF-8: the parser's own answer below
            data = None
        if type(data) is dict:
            args = quick_load(data)
            if args is not None:
                return args
    return _parse_with_schema()


def quick_load(data: dict[str, Any]) -> dict[str, Any] | None:
    """``data`` loaded if it is plainly valid, else None (then the schema decides)."""
    if not data.keys() <= KEYS:
        return None
    lat, lon, accuracy = data.get("lat"), data.get("lon"), data.get("accuracy_m")
    if not (_number(lat) and -90 <= lat <= 90 and _number(lon) and -180 <= lon <= 180):
        return None
    if accuracy is not None and not (_number(accuracy) and 0 <= accuracy <= MAX_ACCURACY_M):
        return None
    crs = data.get("crs")
    if crs is not None and (type(crs) is not str or crs not in CRS_NAMES):
        return None
    at = data.get("at")
    if type(at) is not str or "\x00" in at:  # fromisoformat stops at a NUL; the schema refuses any
        return None
    try:
        when = datetime.fromisoformat(at)  # what marshmallow's DateTime uses
    except ValueError:
        return None
    if when.tzinfo is None or when.utcoffset() is None:  # naive: the schema names the field
        return None
    return {"lat": float(lat), "lon": float(lon), "at": when, "crs": crs,
            "accuracy_m": None if accuracy is None else float(accuracy)}


def _number(value: Any) -> bool:
    # bool is an int subclass and marshmallow refuses it; NaN and infinities fail the ranges anyway
    return (type(value) is float and math.isfinite(value)) or type(value) is int


def _parse_with_schema() -> dict[str, Any]:
    return Blueprint.ARGUMENTS_PARSER.parse(_SCHEMA, request, location="json")


def documented_only(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """Give a view the OpenAPI description that flask-smorest's ``decorators`` (``blp.arguments``,
    ``blp.response``...) would, without their work on each request: the view parses and
    answers by itself, and must behave as documented."""

    def decorate(view: F) -> F:
        documented: Any = view
        for decorator in reversed(decorators):
            documented = decorator(documented)
        view._apidoc = deepcopy(documented._apidoc)  # type: ignore[attr-defined]
        return view

    return decorate


class SessionlessPings(SecureCookieSessionInterface):
    """Flask's signed-cookie session, except for pings: opening it builds an itsdangerous
    serializer and reads the cookies on every request, and a ping (a phone with a bearer
    token) has no cookie and uses no session. A ping gets Flask's null session: nothing to
    read, nothing saved, and any write would raise."""

    def open_session(self, app: Flask, request: Request) -> Any:
        if request.path == PATH:
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:  # leave a custom one alone
        app.session_interface = SessionlessPings()
