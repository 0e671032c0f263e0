"""A throwaway PostgreSQL database beside ``DATABASE_URL``, for benchmarks that serve the app.

The service benchmarks must not touch the database the tests (or a deployment) use: they
create their own on the same server, named for the benchmark, and drop it afterwards.
"""
from __future__ import annotations

import os
import subprocess


def psql_url(url: str) -> str:
    """``url`` as psql takes it (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgres+psycopg://", "postgresql://")


def create_database(name: str) -> str | None:
    """Create ``name`` (dropped first if it exists) beside ``DATABASE_URL``; its URL, or None
    when ``DATABASE_URL`` is not PostgreSQL (the benchmark then runs on SQLite)."""
    url = os.environ.get("DATABASE_URL")
    if not url or not url.split(":", 1)[0].startswith("postgres"):
        return None
    admin = psql_url(url)
    subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    return url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    """Drop ``name`` beside ``DATABASE_URL``, if that is PostgreSQL; never fails."""
    url = os.environ.get("DATABASE_URL", "")
    if url.split(":", 1)[0].startswith("postgres"):
        subprocess.run(["psql", psql_url(url), "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
