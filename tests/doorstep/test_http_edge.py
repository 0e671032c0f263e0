"""Whatever a client sends, the answer is problem+json naming the field, never a 500 or HTML."""
from sqlalchemy import func, select

from doorstep.db import session
from doorstep.models import IdempotencyRecord, User


def test_unknown_body_fields_are_refused_by_name(client, personas) -> None:
    response = client.post("/api/v1/auth/token", json={"username": "a", "password": "b", "otp": "1"})
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"] == {"otp": ["Unknown field."]}


def test_unknown_query_parameters_are_refused_by_name(client, personas) -> None:
    response = client.get("/api/v1/orders?colour=red", headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 422
    assert "query.colour" in response.get_json()["errors"]


def test_malformed_json_is_a_400_problem(client, personas) -> None:
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"body": ["Not valid JSON."]}


def test_an_unknown_path_and_a_wrong_method_are_problems_too(client, personas) -> None:
    missing = client.get("/api/v1/no-such-thing", headers=personas.headers("dispatcher_sun"))
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"
    wrong_method = client.delete("/api/v1/auth/token")
    assert wrong_method.status_code == 405 and wrong_method.content_type == "application/problem+json"


def test_healthz_reports_database_and_broker(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_the_api_documents_itself_with_a_docs_page(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for path in ("/api/v1/care-orders", "/api/v1/dispatch/plans", "/api/v1/mobile/stops/{stop_id}/events"):
        assert any(p.startswith(path.split("{")[0].rstrip("/")) for p in spec["paths"]), path
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.data
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_the_same_idempotency_key_replays_the_first_answer(client, personas) -> None:
    body = {"username": "dispatcher_two", "password": "long-enough-pw", "role": "dispatcher"}
    headers = personas.headers("admin_root", **{"Idempotency-Key": "k-1"})
    first = client.post("/api/v1/users", json=body, headers=headers)
    again = client.post("/api/v1/users", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(User).where(User.username == "dispatcher_two")) == 1
    other = client.post("/api/v1/users", json={**body, "username": "dispatcher_three"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]


def test_a_failed_create_stores_no_idempotency_record_and_no_half_written_row(client, personas) -> None:
    body = {"username": "nurse_x", "password": "long-enough-pw", "role": "nurse", "worker_id": 999999}
    response = client.post("/api/v1/users", json=body, headers=personas.headers("admin_root", **{"Idempotency-Key": "k-2"}))
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    assert session.scalar(select(User).where(User.username == "nurse_x")) is None


def test_a_nul_character_anywhere_is_a_422_naming_the_field(client, personas) -> None:
    body = {"username": "bad\x00name", "password": "long-enough-pw", "role": "admin"}
    response = client.post("/api/v1/users", json=body, headers=personas.headers("admin_root"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"username": ["Must not contain NUL characters."]}
    assert client.get("/api/v1/track/DS%00X").status_code == 422
