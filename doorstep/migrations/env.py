"""Alembic environment: the models' metadata against the configured database.

Run through ``doorstep db upgrade`` (``doorstep.migrate``) or plain ``alembic -c
doorstep/alembic.ini``. The URL comes from the caller (``config.attributes``),
then ``sqlalchemy.url``, then ``Settings.from_env()`` — the same database the app
uses. SQLite needs batch mode to alter tables; ``compare_type`` lets
autogenerate and the migration test see changed column types.
"""
from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from doorstep.app import import_models
from doorstep.db import Base, UTCDateTime
from doorstep.settings import Settings, normalise_database_url

config = context.config
import_models()
target_metadata = Base.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    return normalise_database_url(url) if url else Settings.from_env().database_url


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our aware-datetime decorator as the plain column type it stores, so revisions
    depend on SQLAlchemy alone and survive a rename of ``doorstep.db``."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def options(dialect_name: str) -> dict[str, Any]:
    return {"target_metadata": target_metadata, "compare_type": True, "render_item": render_item,
            "render_as_batch": dialect_name == "sqlite"}


def run_offline() -> None:
    url = database_url()
    context.configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"},
                      **options(url.split(":", 1)[0].split("+", 1)[0]))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
