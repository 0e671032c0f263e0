"""The Celery app, built from the same Settings as Flask; tasks run in the app context.

Tasks are idempotent and acknowledged late: a worker that dies mid-task leaves
the message to be redelivered. Long optimisation runs go to their own
``optimise`` queue, one at a time per process (prefetch 1).
"""
from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

TASK_ROUTES = {"dispatch.tasks.*": {"queue": "optimise"}}

# Periodic jobs, one declarative table with stable names. A message that waited longer than
# ``expires`` is dropped: the next beat brings a fresh one, so a busy worker never piles them up.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "deliver-webhooks": {"task": "orders.tasks.deliver_webhooks", "schedule": 5.0, "options": {"expires": 30}},
    "flag-missed-visits": {"task": "mobile_api.tasks.flag_missed_visits", "schedule": 300.0,
                           "options": {"expires": 240}},
    "detect-late-workers": {"task": "dispatch.live_tasks.detect_late", "schedule": 60.0, "options": {"expires": 50}},
    "watch-late-workers": {"task": "dispatch.tasks.watch_late_workers", "schedule": 60.0,
                           "options": {"expires": 50, "queue": "default"}},
}


def celery_init_app(app: Flask) -> Celery:
    settings = app.config["SETTINGS"]

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_acks_late=True, task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit_s,
        task_time_limit=settings.task_time_limit_s,
        task_default_queue="default",
        task_routes=TASK_ROUTES,
        beat_schedule=BEAT_SCHEDULE,
        imports=("dispatch.tasks", "dispatch.live_tasks", "orders.tasks", "mobile_api.tasks"),
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        timezone=settings.timezone,
        broker_connection_retry_on_startup=True,
        # Redis redelivers unacknowledged tasks after this; it must exceed the hard time limit.
        # (kombu's SQLAlchemy transport passes its options to create_engine, which refuses these.)
        broker_transport_options=({} if settings.uses_embedded_broker
                                  else {"visibility_timeout": 3600, "polling_interval": 0.2}),
        result_expires=24 * 3600,
        worker_hijack_root_logger=False,
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
