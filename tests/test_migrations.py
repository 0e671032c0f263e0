"""The migrations build exactly the models, from an empty database, on every database we run.

The rest of the suite creates its tables from the models; these tests keep the
migrations honest. When a model changes, they fail until a revision is written:
``doorstep db revision -m "what changed"`` (then review it by hand).
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, pool

from doorstep import migrate

POSTGRES = (os.environ.get("DATABASE_URL") or "").startswith(("postgres://", "postgresql"))


def test_the_migrations_have_a_single_head() -> None:
    assert len(migrate.heads()) == 1, migrate.heads()


def test_upgrading_an_empty_sqlite_database_builds_exactly_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    assert migrate.current(engine) == migrate.heads()[0]
    assert migrate.differences(engine) == []


def test_downgrading_to_base_drops_every_table_and_upgrading_again_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'round-trip.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url, poolclass=pool.NullPool)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert migrate.differences(engine) == []


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    """A throwaway database on the suite's PostgreSQL server (the shared one stays untouched)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from doorstep.settings import normalise_database_url

    base = make_url(normalise_database_url(os.environ["DATABASE_URL"]))
    admin_dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"doorstep_migrations_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(not POSTGRES, reason="DATABASE_URL is not PostgreSQL")
def test_upgrading_an_empty_postgresql_database_builds_exactly_the_models(empty_postgres: str) -> None:
    migrate.upgrade(empty_postgres)
    engine = create_engine(empty_postgres, poolclass=pool.NullPool)
    try:
        assert migrate.current(engine) == migrate.heads()[0]
        assert migrate.differences(engine) == []
    finally:
        engine.dispose()
