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
