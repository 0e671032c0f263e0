"""The deployment's travel times, set up once by ``create_app``: engine, cache and geodesic tuning.

``routing.travel`` stays pure (no Flask, no settings); this module is the
wiring. ``init_app`` builds one :class:`routing.travel.Travel` from the
settings (``DOORSTEP_ROUTING_*``, ``DOORSTEP_DETOUR_FACTOR``,
``DOORSTEP_HANDOVER_S``) into ``app.extensions``, so a road engine's cell cache
lives as long as the process; its cells go to Redis when ``REDIS_URL`` is set,
shared by every web and Celery process. A setting that cannot work (an unknown
engine, a road engine without a URL) stops the app at start-up.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from doorstep.settings import Settings
from routing.travel import Travel, TravelConfig, build_travel

TRAVEL = "doorstep.travel"


class TravelConfigError(RuntimeError):
    """A routing setting cannot work; raised by ``create_app``."""


def travel_config(settings: Settings) -> TravelConfig:
    """The routing settings as plain values for :func:`routing.travel.build_travel`."""
    return TravelConfig(
        engine=settings.routing_engine, url=settings.routing_url, timeout_s=settings.routing_timeout_s,
        retries=settings.routing_retries, max_locations=settings.routing_max_locations,
        detour_factor=settings.detour_factor, handover_s=settings.handover_s,
        cache_ttl_s=settings.routing_cache_ttl_s, cache_max_cells=settings.routing_cache_cells,
    )


def make_travel(settings: Settings) -> Travel:
    """The configured provider, with a Redis cache when ``REDIS_URL`` is set and an engine is used.

    Raises
    ------
    TravelConfigError
        Naming the setting that cannot work.
    """
    config = travel_config(settings)
    client: Any = None
    if settings.redis_url and config.engine.strip().lower() != "geodesic":
        import redis

        # Short timeouts: without its cache a plan still gets its tables, from the engine.
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=5)
    try:
        return build_travel(config, redis_client=client)
    except ValueError as exc:
        raise TravelConfigError(f"routing settings: {exc}") from None


def init_app(app: Flask) -> None:
    app.extensions[TRAVEL] = make_travel(app.config["SETTINGS"])


def travel() -> Travel:
    """The current app's provider (built on first use if ``init_app`` did not run)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if TRAVEL not in app.extensions:
        init_app(app)
    return app.extensions[TRAVEL]
