"""Alembic configured in code, so migrations run from an installed package and any directory.

The revisions live in ``doorstep/migrations`` (inside the package, so an install
ships them). ``upgrade`` is what ``doorstep db upgrade`` and the ``release``
process run. ``differences`` and ``autogenerate`` work on a throwaway SQLite
database upgraded to head, so checking or writing a migration needs no server
and never touches real data.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str | None = None) -> Config:
    """An Alembic ``Config`` for our revisions; ``database_url`` defaults to the app's."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would still write for this database: ``[]`` when it matches the models."""
    from doorstep.app import import_models
    from doorstep.db import Base

    import_models()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def differences_from_head() -> list[Any]:
    """Upgrade an empty SQLite file to head and compare it with the models."""
    with tempfile.TemporaryDirectory(prefix="doorstep-migration-") as folder:
        url = f"sqlite:///{Path(folder) / 'check.db'}"
        upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            return differences(engine)
        finally:
            engine.dispose()


def autogenerate(message: str, rev_id: str | None = None) -> str:
    """Write a revision for what the models add beyond head; returns the new file's path."""
    with tempfile.TemporaryDirectory(prefix="doorstep-migration-") as folder:
        config = alembic_config(f"sqlite:///{Path(folder) / 'autogenerate.db'}")
        command.upgrade(config, "head")
        script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    if isinstance(script, list):  # only with several heads, which test_migrations forbids
        script = script[0]
    assert script is not None
    return str(script.path)
