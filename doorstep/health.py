"""``GET /healthz``: is the database reachable, is the broker reachable."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

from doorstep.db import session

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    parts = {"database": _check_database(), "broker": _check_broker()}
    ok = all(v == "ok" for v in parts.values())
    return jsonify({"status": "ok" if ok else "degraded", **parts}), 200 if ok else 503


def _check_database() -> str:
    try:
        session.execute(text("SELECT 1"))
        return "ok"
    except Exception:  # noqa: BLE001 - any failure means "down"
        session.rollback()
        return "down"


def _check_broker() -> str:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:  # noqa: BLE001
        return "down"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
