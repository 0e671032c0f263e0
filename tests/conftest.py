"""Fixtures for the whole suite.

The suite runs on the embedded defaults (SQLite in a temporary instance folder,
a broker on SQLite) unless ``DATABASE_URL`` and ``REDIS_URL`` are set, in which
case it runs against that PostgreSQL and Redis. Tables are created once per
session and emptied after each test.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
import time_machine
from sqlalchemy import text

from doorstep.app import create_app, import_models
from doorstep.db import Base, session
from doorstep.settings import Settings


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings from the environment, with a private instance folder for this run."""
    instance = tmp_path_factory.mktemp("instance")
    env = dict(os.environ)
    env["DOORSTEP_INSTANCE_PATH"] = str(instance)
    env.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-for-hs256")
    # feed_stream_s: a live-feed stream ends after half a second, so tests (and the fuzz) read it whole.
    # trail_retention_days: Redis expires trails on its own (real) clock, past the suite's 2026 days.
    return Settings.from_env(env).with_overrides(testing=True, solver_time_limit_s=2, feed_stream_s=0.5,
                                                 trail_retention_days=36_500)


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    """One app for the session; the schema is created from the models (migrations are tested apart)."""
    import_models()
    app = create_app(settings)
    engine = app.extensions["doorstep.engine"]
    _drop_every_table(engine)
    Base.metadata.create_all(engine)
    yield app
    session.remove()


def _drop_every_table(engine: Any) -> None:
    """Start from an empty schema: on a shared PostgreSQL database that includes tables an older
    version of the models made (``drop_all`` knows only today's, and a leftover table's foreign key
    to one of them would stop it)."""
    if engine.dialect.name != "postgresql":
        Base.metadata.drop_all(engine)
        return
    with engine.begin() as conn:
        names = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
        if names:
            conn.execute(text("DROP TABLE " + ", ".join(f'"{name}"' for name in names) + " CASCADE"))


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Empty every table after each test that used the app, so tests never see each other's rows."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    session.remove()
    engine = app.extensions["doorstep.engine"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(autouse=True)
def _fresh_live_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """Positions, cached shifts and the live feed start empty in each test that uses the app; on
    Redis under keys of this test only (other runs share the server), deleted afterwards."""
    if "app" not in request.fixturenames:
        yield
        return
    import uuid

    from doorstep import feed
    from mobile_api import positions

    app = request.getfixturevalue("app")
    settings, prefix = app.config["SETTINGS"], f"doorstep-test:{uuid.uuid4().hex}:"
    app.extensions[positions.EXTENSION] = positions.build_store(settings.redis_url, prefix)
    app.extensions[positions.SHIFTS_EXTENSION] = positions.ShiftCache(settings.shift_cache_s)
    app.extensions[feed.EXTENSION] = feed.build_feed(settings.redis_url, f"{prefix}feed")
    yield
    app.extensions[positions.EXTENSION].close()
    app.extensions[feed.EXTENSION].close()


@pytest.fixture(autouse=True)
def _suite_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that use the app run at ``SUITE_NOW``, three days before ``SERVICE_DATE``, with the clock
    ticking: booking rules (lead time, horizon, no past windows) hold for the service date whatever
    the real date. A test may travel further with ``time_machine.travel``."""
    if "app" not in request.fixturenames:
        yield
        return
    from tests.factories import SUITE_NOW

    with time_machine.travel(SUITE_NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash test passwords at argon2's lowest cost: personas are created per test.

    Verification reads the cost from the hash, so signing in is still a real argon2 check.
    """
    import doorstep.auth
    from argon2 import PasswordHasher

    monkeypatch.setattr(doorstep.auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def hospital(app):  # type: ignore[no-untyped-def]
    """Change the hospital's settings for one test: ``hospital(booking_lead_hours=2)``; restored after."""
    original = app.config["SETTINGS"]

    def change(**overrides: object) -> None:
        app.config["SETTINGS"] = original.with_overrides(**overrides)

    yield change
    app.config["SETTINGS"] = original


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A test client; authenticate with ``personas.headers(name)``."""
    with app.app_context():
        yield app.test_client()


@pytest.fixture
def personas(app, client):  # type: ignore[no-untyped-def]
    """Named people of a small hospital (see ``tests/factories.py``), created fresh per test."""
    from tests.factories import Personas

    return Personas.create(client)
