"""The Celery app of ``doorstep.wsgi`` with its task time limits scaled for a fast clock.

Under libfaketime at ``x60`` Celery counts its time limits on the fast clock, so the
default 120 s soft limit would be 2 real seconds. ``bench.day`` runs its workers as
``celery -A bench.day_celery:celery worker`` with ``BENCH_DAY_SPEED`` set, which keeps
the limits at their real-time length; the app and its settings are otherwise untouched.
"""
from __future__ import annotations

import os

from doorstep.wsgi import app, celery

_speed = float(os.environ.get("BENCH_DAY_SPEED", "1"))
celery.conf.update(task_soft_time_limit=int(celery.conf.task_soft_time_limit * _speed),
                   task_time_limit=int(celery.conf.task_time_limit * _speed))

__all__ = ["app", "celery"]
