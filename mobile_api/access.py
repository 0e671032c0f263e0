"""Which routes and stops a field worker may see: only their own, and only from finished plans.

A stop of someone else's route answers exactly like a stop that does not exist
(``NotFound``), so stop ids tell a caller nothing about other workers' days.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dispatch.models import Plan, Route, Stop
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Forbidden, NotFound

# Only a solved plan's routes are on anyone's phone; queued/solving/failed plans have none to show.
PLAN_DONE = "done"


def my_worker_id(actor: Actor) -> int:
    """The worker record behind a nurse or courier account (accounts always have one; see create_user)."""
    if actor.worker_id is None:
        raise Forbidden("Your account is not tied to a worker record; ask an administrator.")
    return actor.worker_id


def find_my_route(actor: Actor, day: date) -> Route | None:
    """My route on ``day``, or None when no finished plan of that day gives me one.

    A day may have several finished plans (a re-plan, or one plan per group of
    districts). The newest plan that has a route for me wins: a newer plan for
    other districts, which leaves me out, does not hide the route I am driving.
    """
    return session.scalar(
        select(Route)
        .join(Plan, Route.plan_id == Plan.id)
        .where(Plan.date == day.isoformat(), Plan.status == PLAN_DONE, Route.worker_id == my_worker_id(actor))
        .order_by(Plan.created_at.desc(), Plan.id.desc(), Route.id.desc())
        .limit(1)
    )


def access_my_stop(actor: Actor, stop_id: int) -> Stop:
    """A stop on one of my routes of a finished plan, or ``NotFound`` (missing and not-mine alike)."""
    stop = session.scalar(
        select(Stop)
        .join(Route, Stop.route_id == Route.id)
        .join(Plan, Route.plan_id == Plan.id)
        .where(Stop.id == stop_id, Route.worker_id == my_worker_id(actor), Plan.status == PLAN_DONE)
    )
    if stop is None:
        raise NotFound("No such stop on your routes.")
    return stop
