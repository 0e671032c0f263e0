"""Passwords, tokens and the authentication gate in front of every API path."""
from datetime import timedelta

import jwt
import time_machine

from doorstep.auth import hash_password, verify_password
from tests.factories import PASSWORD


def test_a_password_hash_is_argon2_and_verifies_only_the_right_password() -> None:
    stored = hash_password("open sesame")
    assert stored.startswith("$argon2")
    assert verify_password(stored, "open sesame")
    assert not verify_password(stored, "open sesame!")
    assert not verify_password(None, "open sesame")
    assert not verify_password("not-a-hash", "open sesame")


def test_signing_in_returns_a_fifteen_minute_bearer_token_and_a_refresh_token(client, personas) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "nurse_li", "password": PASSWORD})
    body = response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["role"] == "nurse" and claims["wid"] == personas["nurse_li"]["worker_id"]


def test_a_wrong_password_is_a_401_problem_that_does_not_say_which_part_was_wrong(client, personas) -> None:
    wrong = client.post("/api/v1/auth/token", json={"username": "nurse_li", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.content_type == "application/problem+json"
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]


def test_an_access_token_expires_after_fifteen_minutes(client, personas) -> None:
    with time_machine.travel("2026-11-23T08:00:00+08:00", tick=False) as clock:
        headers = personas.headers("patient_wang")
        assert client.get("/api/v1/catalogue/services", headers=headers).status_code == 200
        clock.shift(timedelta(minutes=16))
        response = client.get("/api/v1/catalogue/services", headers=headers)
    assert response.status_code == 401
    assert "expired" in response.get_json()["detail"]


def test_a_refresh_token_buys_a_new_access_token_but_is_not_one_itself(client, personas) -> None:
    tokens = client.post("/api/v1/auth/token", json={"username": "patient_wang", "password": PASSWORD}).get_json()
    as_access = client.get("/api/v1/patients/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert as_access.status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200
    new_access = refreshed.get_json()["access_token"]
    me = client.get("/api/v1/patients/me", headers={"Authorization": f"Bearer {new_access}"})
    assert me.status_code == 200


def test_an_access_token_cannot_be_used_to_refresh(client, personas) -> None:
    access = personas.token("patient_wang")
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": access}).status_code == 401


def test_a_forged_token_is_refused(client, personas) -> None:
    claims = jwt.decode(personas.token("patient_wang"), options={"verify_signature": False})
    claims["role"] = "admin"
    forged = jwt.encode(claims, "not-the-secret-but-just-as-long-as-one-xx", algorithm="HS256")
    response = client.get("/api/v1/workers", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_every_api_path_needs_a_token_except_the_public_ones(client, personas) -> None:
    assert client.get("/api/v1/orders").status_code == 401
    assert client.get("/api/v1/catalogue/services").status_code == 401
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_only_an_admin_creates_accounts(client, personas) -> None:
    body = {"username": "nurse_new", "password": "long-enough-pw", "role": "dispatcher"}
    assert client.post("/api/v1/users", json=body, headers=personas.headers("dispatcher_sun")).status_code == 403
    created = client.post("/api/v1/users", json=body, headers=personas.headers("admin_root"))
    assert created.status_code == 201
    assert created.get_json()["role"] == "dispatcher" and "password" not in created.get_json()
    signed_in = client.post("/api/v1/auth/token", json={"username": "nurse_new", "password": "long-enough-pw"})
    assert signed_in.status_code == 200


def test_a_nurse_account_must_point_at_a_nurse_worker(client, personas) -> None:
    body = {"username": "nurse_bad", "password": "long-enough-pw", "role": "nurse",
            "worker_id": personas["courier_zhao"]["worker_id"]}
    response = client.post("/api/v1/users", json=body, headers=personas.headers("admin_root"))
    assert response.status_code == 422
    assert "worker_id" in response.get_json()["errors"]
