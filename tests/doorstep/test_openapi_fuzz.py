"""Schemathesis fuzzes our own OpenAPI document: no input may produce a server error.

Each operation is called as a persona whose role may use it, so generated
bodies get past the role check and reach the validation and the services.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

ROLE_FOR_PREFIX = [
    ("/api/v1/patients", "patient_wang"),
    ("/api/v1/care-orders", "patient_wang"),
    ("/api/v1/delivery-orders", "pharmacist_chen"),
    ("/api/v1/mobile", "nurse_li"),
    ("/api/v1/dispatch", "dispatcher_sun"),
    ("/api/v1/orders", "dispatcher_sun"),
]


def persona_for(path: str) -> str:
    return next((who for prefix, who in ROLE_FOR_PREFIX if path.startswith(prefix)), "admin_root")


@pytest.fixture
def api_schema(app):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_generated_request_causes_a_server_error(case, personas) -> None:  # type: ignore[no-untyped-def]
    headers = dict(case.headers or {})
    headers.setdefault("Authorization", f"Bearer {personas.token(persona_for(case.path))}")
    case.headers = headers
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:
        assert response.headers.get("Content-Type", "").startswith("application/problem+json"), response.text[:300]
