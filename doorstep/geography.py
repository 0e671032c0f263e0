"""The deployment's geography, set up once by ``create_app``: served districts and the geocoder.

``routing`` stays pure (no Flask); this module is the wiring. ``init_app``
reads ``Settings.districts_file`` (``DOORSTEP_DISTRICTS_FILE``; the shipped
Tianjin districts when unset) and ``Settings.geocoder*`` into
``app.extensions``, and every caller asks :func:`districts` and
:func:`geocode_line`, so the services, the demo seed, the workers' checks and
``GET /api/v1/districts`` always agree. Settings that cannot work stop the app
at start-up (:class:`GeographyConfigError`, naming the setting, the file and
the fault) instead of failing on the first address.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, current_app

from doorstep.errors import DomainError, ValidationFailed
from routing.districts import DistrictIndex
from routing.geocode import (
    AddressNotFound,
    Geocoder,
    GeocoderConfigError,
    GeocoderOutage,
    make_geocoder,
)

log = logging.getLogger("doorstep.geography")

DISTRICTS = "doorstep.districts"
GEOCODER = "doorstep.geocoder"


class GeographyConfigError(RuntimeError):
    """A geography setting cannot work; raised by ``create_app``."""


class DistrictsFileError(GeographyConfigError):
    """The configured districts file is missing, not GeoJSON, or has an unusable district."""


class GeocoderUnavailable(DomainError):
    """503: the geocoder is down, slow, over quota or refuses our key.

    Not a 422: the line may be perfectly good, and the same request can succeed
    later, which is what 503 tells a client (and its retry logic); a 422 would
    tell it to change its input. The body still names ``line`` and says how to
    avoid the geocoder altogether: send ``lat`` and ``lon``.
    """

    status, title, type_ = 503, "Geocoder unavailable", "https://doorstep.dev/problems/geocoder-unavailable"


def load_districts(path: str | os.PathLike[str] | None) -> DistrictIndex:
    """The districts in the GeoJSON file at ``path``; the shipped Tianjin ones when ``None``.

    Raises ``DistrictsFileError`` with the file's path and what is wrong with it.
    """
    if path is None:
        return DistrictIndex.default()
    try:
        return DistrictIndex.from_geojson(Path(path))
    except OSError as exc:
        problem = exc.strerror or str(exc)
    except ValueError as exc:
        problem = str(exc)
    raise DistrictsFileError(f"DOORSTEP_DISTRICTS_FILE {os.fspath(path)}: {problem}")


def districts(app: Flask | None = None) -> DistrictIndex:
    """The served districts of ``app`` (default: the current app)."""
    return (app or current_app).extensions[DISTRICTS]


def geocoder(app: Flask | None = None) -> Geocoder | None:
    """The configured geocoder of ``app`` (default: the current app); ``None`` when there is none."""
    return (app or current_app).extensions.get(GEOCODER)


def geocode_line(line: str) -> tuple[float, float]:
    """The WGS-84 ``(lat, lon)`` of an address line, for a body that came without a point.

    Raises ``ValidationFailed`` (422) naming ``lat``/``lon`` when no geocoder is
    configured, or ``line`` when the geocoder knows no such place, and
    ``GeocoderUnavailable`` (503) naming ``line`` when the geocoder fails.
    """
    service = geocoder()
    if service is None:
        message = "Required: this service does not look addresses up; send the point from your map."
        raise ValidationFailed("Send the address's coordinates (lat and lon): addresses are not geocoded here.",
                               {"lat": [message], "lon": [message]})
    try:
        return service.geocode(line)
    except AddressNotFound:
        raise ValidationFailed("No place was found for this address line.",
                               {"line": ["Not found by the geocoder: check it, or send lat and lon."]}) from None
    except GeocoderOutage:
        raise GeocoderUnavailable("The geocoder is not answering; try again later, or send lat and lon.",
                                  {"line": ["Could not be looked up just now."]}) from None


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    index = load_districts(settings.districts_file)
    app.extensions[DISTRICTS] = index
    log.info("event=districts_loaded source=%s codes=%s",
             settings.districts_file or "shipped", ",".join(index.codes))
    if settings.geocoder:
        try:
            app.extensions[GEOCODER] = make_geocoder(
                settings.geocoder, url=settings.geocoder_url, api_key=settings.geocoder_api_key,
                min_delay_s=settings.geocoder_min_delay_s)
        except GeocoderConfigError as exc:
            raise GeographyConfigError(f"DOORSTEP_GEOCODER={settings.geocoder}: {exc}") from None
        log.info("event=geocoder_configured provider=%s crs=%s", settings.geocoder,
                 app.extensions[GEOCODER].crs)
