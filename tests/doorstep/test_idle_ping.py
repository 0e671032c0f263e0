"""Pooled PostgreSQL connections are checked only after sitting idle (doorstep.db.PING_AFTER_IDLE_S),
and one the server closed meanwhile is replaced without the caller noticing."""
from __future__ import annotations

import pytest
from sqlalchemy import text

import doorstep.db


@pytest.fixture
def engine(app):  # type: ignore[no-untyped-def]
    engine = app.extensions["doorstep.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("the idle check is for PostgreSQL's pool (SQLite has no server to lose)")
    return engine


def _backend_pid(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.scalar(text("SELECT pg_backend_pid()"))


def test_a_connection_in_use_is_not_pinged(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or True)
    for _ in range(5):
        _backend_pid(engine)
    assert pings == []


def test_an_idle_connection_the_server_closed_is_replaced(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    engine.dispose()
    idle, other = engine.connect(), engine.connect()
    first = idle.scalar(text("SELECT pg_backend_pid()"))
    idle.close()  # back in the pool, idle
    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    other.commit()
    other.close()
    monkeypatch.setattr(doorstep.db, "PING_AFTER_IDLE_S", 0.0)  # both have been idle long enough
    for _ in range(2):  # whichever the pool hands out first: no error, the dead one is pinged and replaced
        assert _backend_pid(engine) != first
