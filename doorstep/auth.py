"""Who is calling: argon2 password hashes, JWT access and refresh tokens, the actor.

Every request under ``/api/v1`` is authenticated before any view runs, except
the few public paths the API contract names; views then ask for roles with
``require_role``. Ownership is checked by each package's ``access_*`` helpers.
"""
from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app, g, request

from doorstep.errors import Forbidden, Unauthorized

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("doorstep-timing-equaliser")

PUBLIC_PREFIXES = ("/api/v1/auth/", "/api/v1/track/", "/api/v1/docs")
# The live feed authenticates itself: a browser's EventSource sends no header, so the view
# also accepts ?token= (dispatch/live.py); a bearer header is still checked here when sent.
PUBLIC_PATHS = {"/api/v1/openapi.json", "/healthz", "/api/v1/dispatch/events"}
# Position pings (2,000/s) trust the token's claims here and check the account's active flag
# from a short per-process cache instead (mobile_api/positions.py, shift_cache_s).
CLAIMS_ONLY_PATHS = {"/api/v1/mobile/location"}

F = TypeVar("F", bound=Callable[..., Any])


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the account exists, so timing reveals nothing."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, as the services see it."""

    user_id: int
    role: str
    worker_id: int | None = None
    pharmacy_id: int | None = None
    patient_id: int | None = None

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def issue_tokens(user: Any) -> dict[str, Any]:
    settings = current_app.config["SETTINGS"]
    access_s = settings.access_token_minutes * 60
    return {
        "access_token": _encode(user, "access", timedelta(seconds=access_s)),
        "token_type": "Bearer",
        "expires_in": access_s,
        "refresh_token": _encode(user, "refresh", timedelta(days=settings.refresh_token_days)),
    }


def _encode(user: Any, token_type: str, lifetime: timedelta) -> str:
    now = datetime.now(timezone.utc)
    claims = {
        "sub": str(user.id), "role": user.role, "typ": token_type, "jti": uuid.uuid4().hex,
        "iat": now, "exp": now + lifetime,
        "wid": user.worker_id, "pid": user.pharmacy_id, "pat": user.patient_id,
    }
    return jwt.encode(claims, current_app.config["SETTINGS"].secret_key, algorithm="HS256")


def decode_token(token: str, expected_type: str) -> dict[str, Any]:
    verified = _verified_access_tokens() if expected_type == "access" else None
    if verified is not None:
        claims = verified.get(token)
        if claims is not None and time.time() < claims["exp"]:
            return claims
    try:
        claims = jwt.decode(token, current_app.config["SETTINGS"].secret_key, algorithms=["HS256"],
                            options={"require": ["exp", "sub", "typ"]})
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired; sign in again or refresh it.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid.") from exc
    if claims.get("typ") != expected_type:
        raise Unauthorized(f"A {expected_type} token is needed here.")
    if verified is not None and isinstance(claims["exp"], (int, float)):
        if len(verified) >= VERIFIED_TOKENS_MAX:
            verified.clear()
        verified[token] = claims
    return claims


# Access tokens whose signature this app verified, with their claims. Checking an HS256 signature
# and its claims with PyJWT costs about 40 µs a request (a fifth of a position ping's CPU); the
# answer for the same token string and the same secret cannot change, so it is kept, per app and
# secret, and ``exp`` is still checked on every request: an expired token goes through PyJWT
# again and gets its 401. Bounded: emptied when full.
VERIFIED_TOKENS_MAX = 10_000


def _verified_access_tokens() -> dict[str, dict[str, Any]]:
    secret = current_app.config["SETTINGS"].secret_key
    kept = current_app.extensions.get("doorstep.verified_access_tokens")
    if kept is None or kept[0] != secret:  # settings swapped for another secret: start again
        kept = current_app.extensions["doorstep.verified_access_tokens"] = (secret, {})
    return kept[1]


def actor_from_claims(claims: dict[str, Any]) -> Actor:
    return Actor(user_id=int(claims["sub"]), role=claims["role"], worker_id=claims.get("wid"),
                 pharmacy_id=claims.get("pid"), patient_id=claims.get("pat"))


def current_actor() -> Actor:
    actor = g.get("actor")
    if actor is None:
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.")
    return actor


def require_role(*roles: str) -> Callable[[F], F]:
    """Refuse callers outside ``roles`` with 403 before the view body runs."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_actor().has_role(*roles):
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or not path.startswith("/api/")


def _authenticate_request() -> None:
    g.actor = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        claims = decode_token(header[len("Bearer "):].strip(), "access")
        g.actor = actor_from_claims(claims)
        if request.path not in CLAIMS_ONLY_PATHS:
            _reject_inactive(g.actor)
    elif not is_public(request.path):
        raise Unauthorized("Sign in first: send Authorization: Bearer <token>.")


# Accounts this process saw active, until when (``time.monotonic``). Checking ``active`` is a query on
# every request; trusting a recent answer for ``Settings.active_user_cache_s`` (default 5 s) saves it.
# A deactivation written through this process (any ORM write of the user) counts at once; one
# written elsewhere (another worker, the CLI) within those seconds. Inactive or unknown accounts are
# never remembered, so reactivation counts at once too.
_active_until: dict[int, float] = {}
_clock = time.monotonic  # tests move it


def _reject_inactive(actor: Actor) -> None:
    from doorstep.db import session

    ttl = current_app.config["SETTINGS"].active_user_cache_s
    now = _clock()
    until = _active_until.get(actor.user_id)
    if until is not None and now < until <= now + ttl:
        return
    if not session.execute(_active_flag(), {"user_id": actor.user_id}).scalar_one_or_none():  # None: no account
        _active_until.pop(actor.user_id, None)
        raise Unauthorized("This account is not active.")
    if ttl > 0:
        _active_until[actor.user_id] = now + ttl


@functools.cache
def _active_flag() -> Any:
    """The account's ``active`` column alone, in a statement built once: most bookings come from a
    patient this process has not seen for the cache's seconds, and loading the whole User (identity
    map, every column) took 1.20 M instructions a check against 0.82 M for the flag (callgrind, PostgreSQL)."""
    from sqlalchemy import bindparam, select

    from doorstep.models import User

    return select(User.active).where(User.id == bindparam("user_id"))


def _user_written(_mapper: Any, _connection: Any, target: Any) -> None:
    from sqlalchemy.orm import object_session

    from doorstep.db import enqueue_after_commit

    _active_until.pop(target.id, None)
    written_in = object_session(target)
    if written_in is not None:  # again once committed, in case a request read the old row in between
        enqueue_after_commit(written_in, lambda: _active_until.pop(target.id, None))


def init_app(app: Flask) -> None:
    from sqlalchemy import event

    from doorstep.models import User

    for name in ("after_update", "after_delete"):
        if not event.contains(User, name, _user_written):
            event.listen(User, name, _user_written)
    app.before_request(_authenticate_request)
