"""The live feed's authentication: short-lived feed tokens for ``GET /dispatch/events?token=``.

NOTE (re-planning engineer, 16:26): the original of this file, by the live-feed
engineer, was overwritten by mistake by a file-creation of the re-planning
work (now in ``dispatch/replan.py``). This is a reconstruction of the two
functions ``dispatch/live_api.py`` imports, from how that module and
``doorstep/auth.py`` use them; its author should put their own version back.

A browser's EventSource sends no Authorization header, so a dispatcher first
asks ``POST /dispatch/events/token`` for a token valid for a minute and passes
it as ``?token=``; a bearer header, when sent, is checked as usual.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from flask import current_app, g

from doorstep.auth import Actor, actor_from_claims, decode_token
from doorstep.errors import Forbidden, Unauthorized

FEED_TOKEN_S = 60
READERS = ("dispatcher", "admin")


def issue_feed_token(actor: Actor) -> dict[str, Any]:
    """A token of type ``feed`` for ``actor`` (a dispatcher or admin), valid for ``FEED_TOKEN_S``."""
    if not actor.has_role(*READERS):
        raise Forbidden("Only dispatchers read the live feed.")
    now = datetime.now(UTC)
    claims = {"sub": str(actor.user_id), "role": actor.role, "typ": "feed", "jti": uuid.uuid4().hex,
              "iat": now, "exp": now + timedelta(seconds=FEED_TOKEN_S), "wid": actor.worker_id,
              "pid": actor.pharmacy_id, "pat": actor.patient_id}
    token = jwt.encode(claims, current_app.config["SETTINGS"].secret_key, algorithm="HS256")
    return {"token": token, "expires_in": FEED_TOKEN_S}


def feed_actor(actor: Actor | None, token: str | None) -> Actor:
    """Who reads the feed: the bearer's actor, else the feed token's; 401 without either, 403 for other roles."""
    if actor is None:
        if not token:
            raise Unauthorized("Sign in first: send Authorization: Bearer <token>, or ?token= from "
                               "POST /api/v1/dispatch/events/token.")
        actor = actor_from_claims(decode_token(token, "feed"))
        g.actor = actor
    if not actor.has_role(*READERS):
        raise Forbidden("Your role may not do this.")
    return actor
