"""A lock per district and day, so two re-plans (or a re-plan and an urgent insertion) never race.

With ``REDIS_URL`` set it is a Redis lock (``SET NX PX`` with a token, released
only by its holder); without, a lease row in ``dispatch_locks`` taken by one
conditional UPDATE, which works alike on PostgreSQL and SQLite and holds no
transaction open while the optimiser runs. Either way the lock expires on its
own after ``ttl_s``, so a worker that dies never blocks the district for good.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from dispatch.models import DispatchLock
from doorstep.db import session, utcnow

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
