"""Access tokens already verified are not verified again by PyJWT (doorstep.auth.decode_token),
and that changes no answer: expiry, tampering and another secret are still refused."""
from __future__ import annotations

from datetime import timedelta

import jwt
import time_machine

from tests.factories import iso

LOCATION = "/api/v1/mobile/location"


def ping(client, token, hhmm="10:00"):  # type: ignore[no-untyped-def]
    return client.post(LOCATION, json={"lat": 39.12, "lon": 117.2, "at": iso(hhmm)},
                       headers={"Authorization": f"Bearer {token}"})


def test_a_kept_token_still_expires(client, personas) -> None:
    with time_machine.travel("2026-11-23T08:00:00+08:00", tick=False) as clock:
        token = personas.token("nurse_li")
        assert ping(client, token, "08:00").status_code == 204
        assert ping(client, token, "08:01").status_code == 204  # from the kept answer
        clock.shift(timedelta(minutes=16))
        response = ping(client, token, "08:16")

    assert response.status_code == 401 and "expired" in response.get_json()["detail"]


def test_a_token_changed_after_the_genuine_one_was_kept_is_refused(client, personas) -> None:
    token = personas.token("nurse_li")
    assert ping(client, token).status_code == 204
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"], claims["exp"] = "admin", int(claims["exp"])
    other_payload = jwt.encode(claims, "x" * 40, algorithm="HS256").split(".")[1]

    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    answers = [ping(client, f"{header}.{payload}.{flipped}"), ping(client, f"{header}.{other_payload}.{signature}"),
               client.get("/api/v1/workers", headers={"Authorization": f"Bearer {header}.{other_payload}.{signature}"})]

    assert [a.status_code for a in answers] == [401, 401, 401]


def test_a_kept_token_is_refused_once_the_secret_changes(client, personas, hospital) -> None:
    token = personas.token("nurse_li")
    assert ping(client, token).status_code == 204

    hospital(secret_key="another-secret-that-is-long-enough-for-hs256")

    assert ping(client, token).status_code == 401


def test_an_access_token_kept_is_still_no_refresh_token(client, personas) -> None:
    token = personas.token("nurse_li")
    assert ping(client, token).status_code == 204

    assert client.post("/api/v1/auth/refresh", json={"refresh_token": token}).status_code == 401
