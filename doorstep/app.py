"""``create_app``: settings, then each part's ``init_app``, in the order they depend on."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.routing import IntegerConverter

from doorstep import api, auth, db, errors, feed, files, geography, health, travel
from doorstep.settings import Settings
from doorstep.worker import celery_init_app
from mobile_api.positions import init_app as positions_init_app


def create_app(config: Mapping[str, Any] | Settings | None = None) -> Flask:
    """Build the web app. ``config`` is a ``Settings`` or overrides of the env settings."""
    if isinstance(config, Settings):
        settings = config
    else:
        settings = Settings.from_env().with_overrides(**dict(config or {}))
    app = Flask("doorstep", instance_path=str(Path(settings.instance_path)))
    app.config.update(SETTINGS=settings, SECRET_KEY=settings.secret_key, TESTING=settings.testing,
                      JSON_SORT_KEYS=False, **dict(settings.extra))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    app.url_map.converters["int"] = BoundedIntConverter
    import_models()
    geography.init_app(app)  # first: a bad districts file stops start-up before anything connects
    travel.init_app(app)  # likewise a routing engine without a URL
    files.init_app(app)  # and a file store we cannot serve
    db.init_app(app)
    errors.init_app(app)
    auth.init_app(app)
    celery_init_app(app)
    health.init_app(app)
    feed.init_app(app)
    positions_init_app(app)
    rest = api.init_app(app)
    register_blueprints(rest)
    register_pages(app)
    return app


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` beyond a database integer is simply not found (404), never an overflow."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def import_models() -> None:
    """Every table's module, so metadata, relationships and Alembic see them all."""
    import dispatch.models  # noqa: F401
    import mobile_api.models  # noqa: F401
    import doorstep.models  # noqa: F401
    import orders.models  # noqa: F401
    import orders.outbox  # noqa: F401
    import orders.ratings  # noqa: F401


def register_blueprints(rest: api.Api) -> None:
    from dispatch.api import blp as dispatch_blp
    from dispatch.live_api import blp as live_blp
    from doorstep.accounts import blp as accounts_blp
    from mobile_api.api import blp as mobile_blp
    from mobile_api.evv_api import blueprints as evv_blueprints
    from orders.api import blueprints as order_blueprints
    from orders.care_api import blueprints as care_blueprints
    from orders.rating_api import blp as ratings_blp
    from orders.webhook_api import blp as webhooks_blp
    from routing.api import blp as routing_blp

    for blp in (accounts_blp, *order_blueprints, *care_blueprints, dispatch_blp, mobile_blp, *evv_blueprints, routing_blp,
                webhooks_blp,
                live_blp, ratings_blp):
        rest.register_blueprint(blp)


def register_pages(app: Flask) -> None:
    from admin.views import init_app as admin_init_app

    admin_init_app(app)
