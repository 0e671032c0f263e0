"""The dispatchers' live feed: a short log of operational events that boards follow as they happen.

``publish_event(kind, payload)`` is the one way in (SOS, late workers, flagged positions, EVV
exceptions, failed stops, plan versions). Events carry ids, codes and times, never names,
phones, addresses or notes: ``payload`` keys that name personal data are refused.

Transport: with ``REDIS_URL``, a Redis stream (``XADD`` capped with ``MAXLEN``): readers block
on ``XREAD`` from the last id they saw, so following live and resuming after a reconnect
(``Last-Event-ID``) are one mechanism, with no gap between "read the backlog" and "subscribe"
that pub/sub plus a stream would leave. Without Redis, an in-process ring buffer with the
same interface: it works within one process only (``doorstep serve``, the tests).
"""
from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from flask import Flask, current_app

log = logging.getLogger("doorstep.feed")

EXTENSION = "doorstep.feed"
FEED_MAX_EVENTS = 10_000  # kept for resuming: hours of a busy city's events
KINDS = ("sos", "alarm_acknowledged", "worker_late", "position_flagged", "evv_exception", "stop_failed",
         "plan_version")
PERSONAL_KEYS = frozenset({"name", "first_name", "patient_name", "phone", "address", "line", "note", "notes",
                           "comment", "recipient_name", "lat", "lon"})


@dataclass(frozen=True)
class FeedEvent:
    id: str
    kind: str
    at: str
    data: dict[str, Any]

    def as_sse(self) -> str:
        body = json.dumps({"id": self.id, "kind": self.kind, "at": self.at, "data": self.data},
                          separators=(",", ":"))
        return f"id: {self.id}\ndata: {body}\n\n"


class Feed(Protocol):
    def publish(self, kind: str, data: dict[str, Any]) -> str: ...

    def cursor(self, after: str | None) -> str:
        """Where a reader starts: ``after`` if it is an id of this feed, else the newest event now."""

    def read(self, after: str | None, block_s: float) -> tuple[list[FeedEvent], str]:
        """Events after id ``after`` (None: only new ones), waiting up to ``block_s`` for the first;
        returns them and the id to continue from."""

    def close(self) -> None: ...


class RedisFeed:
    def __init__(self, client: Any, blocking_client: Any, key: str = "doorstep:feed") -> None:
        self.client, self.blocking, self.key = client, blocking_client, key

    def publish(self, kind: str, data: dict[str, Any]) -> str:
        fields = {"kind": kind, "at": _now(), "data": json.dumps(data, separators=(",", ":"))}
        event_id = self.client.xadd(self.key, fields, maxlen=FEED_MAX_EVENTS, approximate=True)
        return event_id.decode() if isinstance(event_id, bytes) else event_id

    def cursor(self, after: str | None) -> str:
        if after is not None and _is_stream_id(after):
            return after
        newest = self.client.xrevrange(self.key, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def read(self, after: str | None, block_s: float) -> tuple[list[FeedEvent], str]:
        after = self.cursor(after)
        reply = self.blocking.xread({self.key: after}, count=500, block=max(1, int(block_s * 1000)))
        events = []
        for _key, entries in reply or []:
            for entry_id, fields in entries:
                f = {_text(k): _text(v) for k, v in fields.items()}
                events.append(FeedEvent(_text(entry_id), f["kind"], f["at"], json.loads(f["data"])))
        return events, events[-1].id if events else after

    def close(self) -> None:
        self.client.delete(self.key)


class MemoryFeed:
    """The last ``FEED_MAX_EVENTS`` events in this process; ids are increasing integers."""

    def __init__(self) -> None:
        self._events: deque[FeedEvent] = deque(maxlen=FEED_MAX_EVENTS)
        self._next = 1
        self._changed = threading.Condition()

    def publish(self, kind: str, data: dict[str, Any]) -> str:
        with self._changed:
            event = FeedEvent(str(self._next), kind, _now(), data)
            self._next += 1
            self._events.append(event)
            self._changed.notify_all()
        return event.id

    def cursor(self, after: str | None) -> str:
        with self._changed:
            return after if after is not None and after.isdigit() else str(self._next - 1)

    def read(self, after: str | None, block_s: float) -> tuple[list[FeedEvent], str]:
        after = self.cursor(after)
        with self._changed:
            last = int(after)
            if self._next - 1 <= last:
                self._changed.wait(timeout=block_s)
            events = [e for e in self._events if int(e.id) > last]
        return events, events[-1].id if events else str(last)

    def close(self) -> None:
        with self._changed:
            self._events.clear()


def publish_event(kind: str, payload: dict[str, Any], *, on_commit: bool = True) -> None:
    """Put an event on the dispatchers' live feed.

    ``kind`` is one of ``KINDS``; ``payload`` holds ids, codes and times only (a key such as
    ``name``, ``address`` or ``note`` raises ``ValueError``). With ``on_commit`` (the default)
    and a database transaction open, the event leaves once that transaction commits (and never
    if it rolls back), so the board never shows what did not happen. A feed that is down is
    logged, not raised: the rows are committed and the board's lists still show them.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown feed event kind {kind!r}; one of {', '.join(KINDS)}")
    personal = PERSONAL_KEYS & set(payload)
    if personal:
        raise ValueError(f"feed events carry no personal data: {', '.join(sorted(personal))}")
    feed_ = feed()

    def send() -> None:
        try:
            feed_.publish(kind, payload)
        except Exception as exc:  # noqa: BLE001 - Redis away must not undo committed work
            log.error("event=feed_publish_failed kind=%s error=%s", kind, type(exc).__name__)

    from doorstep.db import enqueue_after_commit, session

    if on_commit and session().in_transaction():
        enqueue_after_commit(session(), send)
    else:
        send()


def stream(feed_: Feed, after: str | None, *, seconds: float, heartbeat_s: float = 15.0) -> Iterator[str]:
    """Server-sent events for ``seconds``: the events after ``after``, then new ones as they come,
    a comment line as a heartbeat when nothing happens. The board reconnects with
    ``Last-Event-ID`` when the stream ends (``retry`` tells it how soon). ``feed_`` is passed in:
    the generator runs after the request's app context is gone."""
    import time

    deadline = time.monotonic() + seconds
    after = feed_.cursor(after)  # pinned now: what is published from here on is not missed
    yield "retry: 2000\n\n"
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        events, after = feed_.read(after, min(heartbeat_s, left))
        if not events:
            yield ": keep-alive\n\n"
        for event in events:
            yield event.as_sse()


def feed(app: Flask | None = None) -> Feed:
    return (app or current_app).extensions[EXTENSION]


def build_feed(redis_url: str | None, key: str = "doorstep:feed") -> Feed:
    if not redis_url:
        return MemoryFeed()
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5)
    # XREAD BLOCK waits up to a heartbeat (15 s): its socket must wait longer than that.
    blocking = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=30)
    return RedisFeed(client, blocking, key)


def init_app(app: Flask, key: str = "doorstep:feed") -> None:
    app.extensions[EXTENSION] = build_feed(app.config["SETTINGS"].redis_url, key)


def _is_stream_id(value: str) -> bool:
    head, _, tail = value.partition("-")
    return head.isdigit() and (tail == "" or tail.isdigit())


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _now() -> str:
    return datetime.now(UTC).isoformat()
