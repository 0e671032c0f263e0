"""Locks: one per district and day around a re-plan, and the order every writer takes row locks in.

``district_lock``: two re-plans (or a re-plan and an urgent insertion) of one
district never race. With ``REDIS_URL`` set it is a Redis lock (``SET NX PX``
with a token, released only by its holder); without, a lease row in
``dispatch_locks`` taken by one conditional UPDATE, which works alike on
PostgreSQL and SQLite and holds no transaction open while the optimiser runs.
Either way the lock expires on its own after ``ttl_s``, so a worker that dies
never blocks the district for good.

**Row lock order.** Everything that changes routes in the field's day (a
re-plan, an insertion or a dispatcher's change writing a revision, a stop
report, a cancellation withdrawing stops) first locks, before writing anything:

1. the orders it will change, by id ascending (``lock_orders``), then
2. the stops of the routes it will change, by id ascending (``lock_route_stops``),

and only then writes, the plan row last. Two such transactions therefore wait
for each other instead of deadlocking (a stop report used to update its stop,
then its order, while a re-plan held the orders and wanted the stops). The
locked rows are read again (``populate_existing``), so what is written follows
what the other transaction committed. SQLite ignores ``FOR UPDATE``: it lets
one writer at a time anyway.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from dispatch.models import DispatchLock, Route, Stop
from doorstep.db import session, utcnow
from orders.models import Order

log = logging.getLogger("doorstep.dispatch.locks")


class Busy(Exception):
    """Another re-plan of the same district and day holds the lock."""


@contextmanager
def district_lock(district: str, day: str, *, ttl_s: float, wait_s: float = 0.0) -> Iterator[None]:
    """Hold ``replan:<district>:<day>`` for the block; raise ``Busy`` if not free within ``wait_s``.

    The caller's session must have nothing uncommitted: the database lease commits.
    """
    key = f"replan:{district}:{day}"
    settings = current_app.config["SETTINGS"]
    if settings.redis_url:
        with _redis_lock(settings.redis_url, key, ttl_s, wait_s):
            yield
        return
    token = secrets.token_hex(16)
    deadline = time.monotonic() + wait_s
    while not _take_lease(key, token, ttl_s):
        if time.monotonic() >= deadline:
            raise Busy(key)
        time.sleep(0.05)
    try:
        yield
    finally:
        _release_lease(key, token)


@contextmanager
def _redis_lock(url: str, key: str, ttl_s: float, wait_s: float) -> Iterator[None]:
    import redis

    client: Any = redis.Redis.from_url(url)
    lock = client.lock(f"doorstep:{key}", timeout=ttl_s, blocking=wait_s > 0,
                       blocking_timeout=wait_s if wait_s > 0 else None)
    if not lock.acquire():
        raise Busy(key)
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:  # expired meanwhile: someone else may hold it now
            log.warning("event=lock_expired key=%s", key)


def _take_lease(key: str, token: str, ttl_s: float) -> bool:
    now = utcnow()
    if session.get(DispatchLock, key) is None:
        session.add(DispatchLock(key=key, holder=None, until=None))
        try:
            session.commit()
        except IntegrityError:  # created by a rival at the same moment: fine, it exists
            session.rollback()
    taken = session.execute(
        update(DispatchLock).where(DispatchLock.key == key,
                                   or_(DispatchLock.holder.is_(None), DispatchLock.until < now))
        .values(holder=token, until=now + timedelta(seconds=ttl_s)).execution_options(synchronize_session=False))
    session.commit()
    return bool(taken.rowcount)


def _release_lease(key: str, token: str) -> None:
    session.rollback()  # whatever the block left half-done is not ours to commit
    session.execute(update(DispatchLock).where(DispatchLock.key == key, DispatchLock.holder == token)
                    .values(holder=None, until=None).execution_options(synchronize_session=False))
    session.commit()


# --- row locks, in the one order ---------------------------------------------------------------

def lock_orders(order_ids: Collection[int]) -> dict[int, Order]:
    """Lock (``FOR UPDATE``) and re-read these orders, by id ascending: the first step of the order."""
    if not order_ids:
        return {}
    return {o.id: o for o in session.scalars(
        select(Order).where(Order.id.in_(sorted(order_ids))).order_by(Order.id).with_for_update()
        .execution_options(populate_existing=True))}


def lock_route_stops(route_ids: Collection[int]) -> list[Stop]:
    """Lock (``FOR UPDATE``) and re-read every stop of these routes, by id ascending: the second step.

    The routes' ``stops`` collections are expired, so they are loaded again as the
    database has them now (a stop another transaction added or deleted included).
    """
    if not route_ids:
        return []
    stops = list(session.scalars(
        select(Stop).where(Stop.route_id.in_(sorted(route_ids))).order_by(Stop.id).with_for_update()
        .execution_options(populate_existing=True)))
    for route_id in route_ids:
        route = session.identity_map.get(session.identity_key(Route, route_id))  # type: ignore[arg-type]
        if route is not None:
            session.expire(route, ["stops"])
    return stops
