"""Dispatch: who does which visit or delivery, in what order, at what time.

The optimiser (``problem``, ``model``, ``search``, ``plan``, ``diagnose``) is pure:
a format-v1 problem document in, a plan document out, through
:func:`dispatch.search.solve_document`; it imports nothing else of Doorstep and
no Flask, SQLAlchemy or Celery.
"""

from typing import Any

__all__ = ["solve_document"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing dispatch.models (the database side) does not load OR-Tools.
    if name == "solve_document":
        from dispatch.search import solve_document

        return solve_document
    raise AttributeError(f"module 'dispatch' has no attribute {name!r}")
