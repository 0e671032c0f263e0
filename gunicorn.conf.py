"""Gunicorn's settings for the ``web`` process (``Procfile``); gunicorn reads this file from the
working directory by itself, and command-line flags still override it.

Why these: a request is mostly Python (CPU, under the GIL) with a few database round trips,
so one process per core and a bit more keeps the cores busy while some wait on PostgreSQL;
threads let a process hold the dispatchers' live feeds (one long request each) without
starving the API. Every number is an environment variable, for the machine at hand.
"""
from __future__ import annotations

import os

_cores = os.cpu_count() or 1

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"  # noqa: S104 - behind the platform's router
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * _cores))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", 4))
# A synchronous POST /dispatch/solve may search for its whole time limit; the worker's heartbeat
# runs beside it in gthread, so this only ends a worker that hangs.
timeout = int(os.environ.get("WEB_TIMEOUT", 120))
graceful_timeout = 30
keepalive = 5
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", 0))  # 0: never recycle a worker
max_requests_jitter = max_requests // 10
# No access log by default: request lines carry ids and search terms (a patient's phone) in query
# strings. Turn it on with GUNICORN_CMD_ARGS="--access-logfile -" where that is acceptable.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
