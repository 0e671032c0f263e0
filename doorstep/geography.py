"""The deployment's geography, loaded once by ``create_app``: its served districts.

``routing`` stays pure (no Flask); this module is the wiring. ``init_app``
reads ``Settings.districts_file`` (``DOORSTEP_DISTRICTS_FILE``; the shipped
Tianjin districts when unset) into ``app.extensions`` and every caller asks
:func:`districts` for it, so the services, the demo seed, the workers' checks
and ``GET /api/v1/districts`` always agree. A file that cannot be used stops
the app at start-up with :class:`DistrictsFileError` naming the file and the
fault, instead of failing on the first address.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, current_app

from routing.districts import DistrictIndex

log = logging.getLogger("doorstep.geography")

DISTRICTS = "doorstep.districts"


class DistrictsFileError(RuntimeError):
    """The configured districts file is missing, not GeoJSON, or has an unusable district."""


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


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    index = load_districts(settings.districts_file)
    app.extensions[DISTRICTS] = index
    log.info("event=districts_loaded source=%s codes=%s",
             settings.districts_file or "shipped", ",".join(index.codes))
