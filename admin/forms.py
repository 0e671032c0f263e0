"""Plain HTML forms on the API's marshmallow schemas, with each error next to its field.

A form's values are strings; ``load`` turns them into the API's body (numbers where
the schema is strict about them) and runs the API's own schema, so a form can accept
nothing the API would refuse. Errors, from the schema or the service, come keyed by
the API's field paths (``home.lat``, ``shifts.2.end``, ``eligibility.codes.0``) and
are turned into the form's field names (``home_lat``, ``shifts_end``,
``eligibility_codes``): the path's names joined by ``_``, indexes dropped. A path
the form has no field for is shown at the top of the form (``form``). The messages
are the API's English ones, shown in the page's language (``admin.messages``).
"""
from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow
from flask import request
from flask_babel import gettext as _
from flask_babel import pgettext

from admin.messages import translate_all
from doorstep.errors import flatten_messages

_INT = re.compile(r"^-?\d{1,12}$")
_YUAN = re.compile(r"^\d{1,8}(\.\d{1,2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HHMM = re.compile(r"^\d{2}:\d{2}$")


class FormInvalid(Exception):
    """A form refused: ``{form field: message}``."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


def text(name: str) -> str | None:
    """A stripped form value, or None when empty."""
    value = request.form.get(name, "").strip()
    return value or None


def words(name: str) -> list[str]:
    """A comma- (or 、/，-) separated list field: ``"basic_care, injection"`` → two codes."""
    return [part.strip() for part in re.split(r"[,，、\s]+", request.form.get(name, "")) if part.strip()]


def number(value: str | None) -> Any:
    """A whole number when the text is one; else the text itself, for the schema to refuse by name."""
    return int(value) if value is not None and _INT.match(value) else value


def yuan_to_fen(value: str | None) -> Any:
    """``"80"`` / ``"80.5"`` yuan → 8000 / 8050 fen; anything else unchanged, for the schema to refuse."""
    if value is None or not _YUAN.match(value):
        return value
    try:
        return int(Decimal(value) * 100)
    except InvalidOperation:
        return value


def local_datetime(day: str | None, hhmm: str | None, tz_name: str, *, day_field: str = "date",
                   time_field: str = "start") -> str:
    """ISO 8601 with the hospital's offset from a date and an HH:MM field; FormInvalid naming them."""
    errors = {}
    if not day or not _DATE.match(day):
        errors[day_field] = _("The date must look like YYYY-MM-DD.")
    if not hhmm or not _HHMM.match(hhmm):
        errors[time_field] = _("The time must look like HH:MM.")
    if not errors:
        try:
            return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=ZoneInfo(tz_name)).isoformat()
        except ValueError:
            errors[day_field] = _("The date must look like YYYY-MM-DD.")
    raise FormInvalid(errors)


def load(schema: marshmallow.Schema, data: Mapping[str, Any], fields: Collection[str],
         aliases: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The API's schema on the form's values; its errors as the form's fields' (``FormInvalid``)."""
    try:
        return schema.load(dict(data))
    except marshmallow.ValidationError as exc:
        raise FormInvalid(field_errors(flatten_messages(exc.messages), fields, aliases)) from exc


def field_errors(errors: Mapping[str, Any], fields: Collection[str],
                 aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """API field paths → the form's field names, each with its messages, translated, in one line."""
    out: dict[str, str] = {}
    for path, messages in errors.items():
        name = "_".join(part for part in str(path).split(".") if not part.isdigit())
        name = (aliases or {}).get(name, name)
        if name not in fields:
            name = "form"
        detail = translate_all(messages)
        out[name] = f"{out[name]} {detail}" if name in out \
            else pgettext("invalid input", "%(detail)s", detail=detail)
    return out
