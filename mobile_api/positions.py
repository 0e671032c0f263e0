"""Where workers are: position pings, the last position and the day's trail, kept in Redis.

A nurse's trail is sensitive personal information, so:

- only pings taken **on shift** are kept (a ping outside every shift of the worker is
  answered 204 like any other and thrown away, so a phone left on after work stores nothing);
- a trail is **deleted** ``trail_retention_days`` after its (local) day: a Redis TTL, or a
  purge of the in-process store;
- every **read** of a trail is audited (``doorstep.audit``), and only dispatchers and
  admins may read one.

The store is the one source of truth for positions: patients' tracking and the late-worker
check read the last position from here (the database keeps no position).

The ping path is built to be cheap (the target is 2,000 pings/s on two cores): the caller
comes from the token's claims, the worker's shifts and active flag are cached in the
process for ``shift_cache_s``, and a ping is one Redis round trip (a Lua script: keep the
ping in the day's trail unless one with the same ``at`` is there, and move the last
position only forward). No SQL transaction, no Idempotency-Key: a ping is idempotent by
(worker, ``at``).

Without ``REDIS_URL`` an in-process store with the same interface takes Redis's place: it
works for one process (``doorstep serve``, the tests), not across gunicorn workers.
"""
from __future__ import annotations

import json
import logging
import math
import threading
import time
from bisect import insort
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import select

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import ValidationFailed

log = logging.getLogger("doorstep.positions")

TRAIL_MAX_POINTS = 20_000  # per worker and day: a ping every 3 s for 16 hours
FLAG_FAR = "far_from_service_area"
FLAG_EVENT_EVERY_S = 600  # one live-feed event per worker per 10 minutes while far away
EXTENSION, SHIFTS_EXTENSION = "doorstep.positions", "doorstep.shift_cache"


@dataclass(frozen=True)
class Ping:
    """One reported position, in WGS-84, as stored."""

    worker_id: int
    lat: float
    lon: float
    at: datetime
    accuracy_m: float | None = None
    flag: str | None = None

    def to_json(self) -> str:
        return json.dumps({"w": self.worker_id, "lat": self.lat, "lon": self.lon, "at": self.at.timestamp(),
                           "acc": self.accuracy_m, "flag": self.flag}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Ping:
        d = json.loads(raw)
        return cls(d["w"], d["lat"], d["lon"], datetime.fromtimestamp(d["at"], tz=UTC), d.get("acc"), d.get("flag"))


class PositionStore(Protocol):
    def record(self, ping: Ping, day: str, expire_at: int) -> bool:
        """Keep ``ping`` in ``day``'s trail and as the last position if newer; False if (worker, at) is kept."""

    def last(self, worker_id: int) -> Ping | None: ...

    def trail(self, worker_id: int, day: str) -> list[Ping]: ...

    def claim(self, key: str, ttl_s: int) -> bool:
        """True the first time ``key`` is claimed within ``ttl_s`` (throttles feed events)."""

    def close(self) -> None: ...


# --- Redis ------------------------------------------------------------------------------------------

RECORD_LUA = """
-- KEYS[1] last position (hash), KEYS[2] the day's trail (sorted set by at in ms)
-- ARGV: at_ms, ping json, expire_at (epoch s), cap
if redis.call('ZCOUNT', KEYS[2], ARGV[1], ARGV[1]) > 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local n = redis.call('ZCARD', KEYS[2])
local cap = tonumber(ARGV[4])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - cap - 1) end
redis.call('EXPIREAT', KEYS[2], ARGV[3])
local last = redis.call('HGET', KEYS[1], 'at_ms')
if (not last) or tonumber(last) <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'at_ms', ARGV[1], 'ping', ARGV[2])
  redis.call('EXPIREAT', KEYS[1], ARGV[3])
end
return 1
"""


class RedisPositionStore:
    """Last position ``<prefix>pos:<worker>`` (hash) and trail ``<prefix>trail:<worker>:<day>`` (sorted set)."""

    def __init__(self, client: Any, prefix: str = "doorstep:") -> None:
        self.client, self.prefix = client, prefix
        self._record = client.register_script(RECORD_LUA)

    def record(self, ping: Ping, day: str, expire_at: int) -> bool:
        keys = [f"{self.prefix}pos:{ping.worker_id}", f"{self.prefix}trail:{ping.worker_id}:{day}"]
        return bool(self._record(keys=keys, args=[_ms(ping.at), ping.to_json(), expire_at, TRAIL_MAX_POINTS]))

    def last(self, worker_id: int) -> Ping | None:
        raw = self.client.hget(f"{self.prefix}pos:{worker_id}", "ping")
        return Ping.from_json(raw) if raw else None

    def trail(self, worker_id: int, day: str) -> list[Ping]:
        return [Ping.from_json(raw) for raw in self.client.zrange(f"{self.prefix}trail:{worker_id}:{day}", 0, -1)]

    def claim(self, key: str, ttl_s: int) -> bool:
        return bool(self.client.set(f"{self.prefix}claim:{key}", b"1", nx=True, ex=ttl_s))

    def close(self) -> None:
        for key in self.client.scan_iter(f"{self.prefix}*", count=500):
            self.client.delete(key)


# --- in process -------------------------------------------------------------------------------------

class MemoryPositionStore:
    """The same, in this process's memory; expired trails are purged as pings arrive and on reads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[int, tuple[Ping, int]] = {}
        self._trails: dict[tuple[int, str], tuple[list[tuple[int, str]], int]] = {}
        self._claims: dict[str, float] = {}
        self._next_purge = 0.0

    def record(self, ping: Ping, day: str, expire_at: int) -> bool:
        with self._lock:
            self._purge_if_due()
            points, _ = self._trails.get((ping.worker_id, day), ([], 0))
            at_ms = _ms(ping.at)
            if any(ms == at_ms for ms, _ in points):
                return False
            insort(points, (at_ms, ping.to_json()))
            del points[:-TRAIL_MAX_POINTS]
            self._trails[(ping.worker_id, day)] = (points, expire_at)
            last = self._last.get(ping.worker_id)
            if last is None or last[0].at <= ping.at:
                self._last[ping.worker_id] = (ping, expire_at)
            return True

    def last(self, worker_id: int) -> Ping | None:
        with self._lock:
            self.purge(time.time())
            entry = self._last.get(worker_id)
            return entry[0] if entry else None

    def trail(self, worker_id: int, day: str) -> list[Ping]:
        with self._lock:
            self.purge(time.time())
            points, _ = self._trails.get((worker_id, day), ([], 0))
            return [Ping.from_json(raw) for _, raw in points]

    def claim(self, key: str, ttl_s: int) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._claims.get(key, 0) > now:
                return False
            self._claims[key] = now + ttl_s
            return True

    def purge(self, now_epoch_s: float) -> None:
        """Drop trails and last positions whose retention has run out (call with the lock held)."""
        self._trails = {k: v for k, v in self._trails.items() if v[1] > now_epoch_s}
        self._last = {k: v for k, v in self._last.items() if v[1] > now_epoch_s}

    def _purge_if_due(self) -> None:
        if time.monotonic() >= self._next_purge:
            self.purge(time.time())
            self._next_purge = time.monotonic() + 60

    def close(self) -> None:
        with self._lock:
            self._last.clear()
            self._trails.clear()
            self._claims.clear()


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


# --- the worker's shifts, cached --------------------------------------------------------------------

@dataclass(frozen=True)
class Duty:
    active: bool
    shifts: tuple[tuple[datetime, datetime], ...]
    loaded: float

    def on_shift(self, at: datetime) -> bool:
        return self.active and any(start <= at < end for start, end in self.shifts)


class ShiftCache:
    """Whether the account and the worker are active, and the worker's shifts, read from the
    database at most every ``ttl_s`` per process (pings skip the per-request account lookup:
    ``doorstep.auth.CLAIMS_ONLY_PATHS``).

    A shift added, or an account or worker deactivated, takes up to ``ttl_s`` to apply to pings.
    """

    def __init__(self, ttl_s: int) -> None:
        self.ttl_s, self._lock = ttl_s, threading.Lock()
        self._duties: dict[tuple[int, int], Duty] = {}

    def duty(self, user_id: int, worker_id: int) -> Duty:
        now = time.monotonic()
        duty = self._duties.get((user_id, worker_id))
        if duty is None or now - duty.loaded > self.ttl_s:
            duty = _load_duty(user_id, worker_id, now)
            with self._lock:
                self._duties[(user_id, worker_id)] = duty
        return duty

    def clear(self) -> None:
        with self._lock:
            self._duties.clear()


def _load_duty(user_id: int, worker_id: int, now: float) -> Duty:
    from dispatch.models import Shift, Worker
    from doorstep.models import User

    active = session.scalar(select(Worker.active).where(Worker.id == worker_id)) and session.scalar(
        select(User.active).where(User.id == user_id, User.worker_id == worker_id))
    shifts = session.execute(select(Shift.start, Shift.end).where(Shift.worker_id == worker_id)).all()
    session.rollback()  # end the read-only transaction at once: the ping path holds none
    return Duty(bool(active), tuple((s, e) for s, e in shifts), now)


# --- use cases --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PingResult:
    stored: bool
    flag: str | None


def report_position(actor: Actor, *, lat: float, lon: float, at: datetime, crs: str | None = None,
                    accuracy_m: float | None = None) -> PingResult:
    """Keep a ping of mine if I am on shift at ``at``: last position (only forward) and the day's trail.

    A ping far from every served district is kept with a flag and announced on the live
    feed (at most every ten minutes per worker). Raises ``ValidationFailed`` for an unknown ``crs``.
    """
    from mobile_api.access import my_worker_id

    worker_id = my_worker_id(actor)
    lat, lon = _wgs84(lat, lon, crs or "wgs84")
    at = at.astimezone(UTC)
    if not shift_cache().duty(actor.user_id, worker_id).on_shift(at):
        log.info("event=position_off_shift worker_id=%s", worker_id)  # dropped: trails only on shift
        return PingResult(False, None)
    settings = current_app.config["SETTINGS"]
    distance_km = km_from_service_area(lat, lon)
    flag = FLAG_FAR if distance_km > settings.position_flag_km else None
    stored = keep_ping(Ping(worker_id, lat, lon, at, accuracy_m, flag))
    if flag and stored and store().claim(f"flag:{worker_id}", FLAG_EVENT_EVERY_S):
        from doorstep.feed import publish_event

        publish_event("position_flagged", {"worker_id": worker_id, "at": at.isoformat(), "flag": flag,
                                           "distance_km": round(distance_km)}, on_commit=False)
        log.warning("event=position_flagged worker_id=%s flag=%s", worker_id, flag)
    return PingResult(stored, flag)


def keep_ping(ping: Ping) -> bool:
    """Store a ping in its local day's trail (deleted after the retention period) and as the
    last position if it is the newest; False if one with the same (worker, at) is kept already."""
    day, expire_at = _day_and_expiry(ping.at, current_app.config["SETTINGS"])
    return store().record(ping, day, expire_at)


def last_position(worker_id: int) -> Ping | None:
    """The worker's last kept position, or None (none on shift within the retention period)."""
    return store().last(worker_id)


def worker_trail(actor: Actor, worker_id: int, day: date) -> list[Ping]:
    """A worker's kept pings of ``day`` (local), oldest first, for dispatchers and admins; audited."""
    from dispatch.workers import access_worker

    access_worker(actor, worker_id)  # NotFound for an unknown id
    pings = store().trail(worker_id, day.isoformat())
    record_access(actor, "read", "worker_trail", worker_id, date=day.isoformat(), points=len(pings))
    return pings


def km_from_service_area(lat: float, lon: float) -> float:
    """Kilometres to the nearest served district's centroid (0 inside a district's reach)."""
    centroids = current_app.extensions.get("doorstep.district_centroids")
    if centroids is None:
        from doorstep.geography import districts

        index = districts()
        centroids = [index.centroid(code) for code in index.codes]
        current_app.extensions["doorstep.district_centroids"] = centroids
    return min(_haversine_km(lat, lon, c_lat, c_lon) for c_lat, c_lon in centroids)


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(min(1.0, a)))


def _day_and_expiry(at: datetime, settings: Any) -> tuple[str, int]:
    """The local day of ``at``, and when that day's trail is deleted: its end plus the retention."""
    local = at.astimezone(_zone(settings.timezone))
    day_end = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=local.tzinfo)
    return local.date().isoformat(), int((day_end + timedelta(days=settings.trail_retention_days)).timestamp())


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    if name not in _ZONES:
        _ZONES[name] = ZoneInfo(name)
    return _ZONES[name]


def _wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    if crs == "wgs84":
        return lat, lon
    from routing.crs import to_wgs84

    try:
        return to_wgs84(lat, lon, crs)
    except ValueError as exc:
        raise ValidationFailed(str(exc), {"crs": [str(exc)]}) from exc


# --- wiring -----------------------------------------------------------------------------------------

def store(app: Flask | None = None) -> PositionStore:
    return (app or current_app).extensions[EXTENSION]


def shift_cache(app: Flask | None = None) -> ShiftCache:
    return (app or current_app).extensions[SHIFTS_EXTENSION]


def build_store(redis_url: str | None, prefix: str = "doorstep:") -> PositionStore:
    if not redis_url:
        return MemoryPositionStore()
    import redis

    return RedisPositionStore(redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=5), prefix)


def init_app(app: Flask, prefix: str = "doorstep:") -> None:
    settings = app.config["SETTINGS"]
    app.extensions[EXTENSION] = build_store(settings.redis_url, prefix)
    app.extensions[SHIFTS_EXTENSION] = ShiftCache(settings.shift_cache_s)

    # pings open no cookie session; imported here because ping_body imports the API's edge
    from mobile_api import ping_body

    ping_body.init_app(app)
