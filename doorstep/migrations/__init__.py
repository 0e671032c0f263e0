"""Alembic migrations (``env.py``, ``versions/``); a package so that installs ship them."""
