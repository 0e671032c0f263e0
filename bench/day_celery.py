"""The Celery app of ``doorstep.wsgi`` with its task time limits scaled for a fast clock.

Under libfaketime at ``x60`` Celery counts its time limits on the fast clock, so the
default 120 s soft limit would be 2 real seconds. ``bench.day`` runs its workers and beat
as ``celery -A bench.day_celery:celery`` and gunicorn as ``bench.day_celery:app`` (the
sender puts the limits in each task message) with ``BENCH_DAY_SPEED`` set: every
``Settings`` the process builds gets the limits times the speed (their real-time
length); the app and its other settings are untouched.
"""
from __future__ import annotations

import dataclasses
import os

from doorstep.settings import Settings

_speed = float(os.environ.get("BENCH_DAY_SPEED", "1"))
_from_env = Settings.from_env.__func__  # type: ignore[attr-defined]


def _scaled(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
    settings = _from_env(cls, *args, **kwargs)
    return dataclasses.replace(settings, task_soft_time_limit_s=int(settings.task_soft_time_limit_s * _speed),
                               task_time_limit_s=int(settings.task_time_limit_s * _speed))


Settings.from_env = classmethod(_scaled)  # type: ignore[method-assign,assignment]

from doorstep.wsgi import app, celery

__all__ = ["app", "celery"]
