"""Celery tasks of the dispatch package: thin, idempotent wrappers that take ids.

``solve_plan`` runs on the ``optimise`` queue (``doorstep.worker.TASK_ROUTES``),
one at a time per process (prefetch 1), acknowledged late so a worker that dies
mid-solve leaves the message to be redelivered; ``run_plan`` makes the
redelivery harmless. Its time limits are the Celery app's
(``task_soft_time_limit``/``task_time_limit`` from Settings), which sit above
the solver's own ``solver_time_limit_s``: the solver returns first, the soft
limit marks the plan failed, the hard limit kills only a stuck process.
"""
from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from dispatch.service import TRANSIENT_ERRORS, run_plan

log = logging.getLogger("doorstep.dispatch.tasks")


@shared_task(bind=True, acks_late=True, autoretry_for=TRANSIENT_ERRORS, max_retries=3,
             retry_backoff=5, retry_backoff_max=60, retry_jitter=True)
def solve_plan(self: Any, plan_id: int) -> dict[str, Any]:
    """Build, solve and save plan ``plan_id``; a plan no longer queued is left as it is.

    Progress goes to the plan row (``run_plan`` does that) and to the task's
    state (``PROGRESS`` with ``fraction`` and ``message``) for Celery tools.
    """

    def progress(fraction: float, message: str) -> None:
        if self.request.id is not None:  # None when called directly, outside a worker
            self.update_state(state="PROGRESS", meta={"plan_id": plan_id, "fraction": fraction,
                                                      "message": message})

    plan = run_plan(plan_id, on_progress=progress, final_attempt=self.request.retries >= self.max_retries)
    status = plan.status if plan is not None else "missing"
    log.info("event=solve_plan_finished plan_id=%s status=%s retries=%s", plan_id, status, self.request.retries)
    return {"plan_id": plan_id, "status": status}


# --- live re-planning (dispatch/replan.py) -----------------------------------------------------

def _live_retry_errors() -> tuple[type[BaseException], ...]:
    from dispatch.locks import Busy
    from dispatch.replan import LiveStale

    return (*TRANSIENT_ERRORS, Busy, LiveStale)


@shared_task(bind=True, acks_late=True, autoretry_for=_live_retry_errors(), max_retries=10,
             retry_backoff=2, retry_backoff_max=60, retry_jitter=True)
def replan(self: Any, district: str, day: str, trigger: str) -> dict[str, Any]:
    """Re-optimise ``district`` on ``day`` after ``trigger``; the same trigger again does nothing.

    Retried while another re-plan holds the district (``Busy``) or a stop was
    reported meanwhile (``LiveStale``).
    """
    from dispatch.replan import replan_district

    version = replan_district(district, day, trigger)
    log.info("event=replan_finished district=%s day=%s revision=%s", district, day,
             version.revision if version else None)
    return {"district": district, "date": day, "revision": version.revision if version else None}


@shared_task(bind=True, acks_late=True, autoretry_for=_live_retry_errors(), max_retries=5,
             retry_backoff=1, retry_backoff_max=30, retry_jitter=True)
def insert_urgent(self: Any, order_id: int) -> dict[str, Any]:
    """Insert order ``order_id`` into its day's current plan at once, then queue the re-plan."""
    from dispatch.replan import insert_order

    version = insert_order(order_id)
    return {"order_id": order_id, "inserted": version is not None}


@shared_task(acks_late=True)
def watch_late_workers() -> dict[str, Any]:
    """Beat job: a worker later than the setting's minutes on their next stop re-plans its district."""
    from dispatch.replan import replan_late_workers

    return {"queued": replan_late_workers()}
