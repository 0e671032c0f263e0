"""Schemathesis fuzzes our own OpenAPI document: no input may produce a server error.

Each operation is called as a persona whose role may use it, so generated
bodies get past the role check and reach the validation and the services.
(``schemathesis.pytest.from_fixture`` does not run under pytest 9, so the
operations are walked here with one Hypothesis run each.)
"""
from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

ROLE_FOR_PREFIX = [
    ("/api/v1/patients/{", "dispatcher_sun"),  # a patient's clinical facts
    ("/api/v1/patients", "patient_wang"),
    ("/api/v1/care-orders/triage-queue", "nurse_li"),
    ("/api/v1/care-orders/{order_id}/questions/{", "patient_wang"),  # the answer
    ("/api/v1/care-orders/{order_id}/questions", "nurse_li"),
    ("/api/v1/care-orders", "patient_wang"),
    ("/api/v1/delivery-orders", "pharmacist_chen"),
    ("/api/v1/mobile", "nurse_li"),
    ("/api/v1/dispatch", "dispatcher_sun"),
    ("/api/v1/orders", "dispatcher_sun"),
]
EXAMPLES_PER_OPERATION = 40


def persona_for(path: str) -> str:
    return next((who for prefix, who in ROLE_FOR_PREFIX if path.startswith(prefix)), "admin_root")


def test_no_generated_request_causes_a_server_error(app, personas) -> None:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "the document lists every endpoint"
    for operation in operations:
        token = personas.token(persona_for(operation.path))

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def call(case) -> None:  # type: ignore[no-untyped-def]
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} body={case.body!r:.300}: "
                                f"{response.status_code} {response.text[:300]}")
            elif response.status_code >= 400:
                headers = {k.lower(): v for k, v in response.headers.items()}
                content_type = headers.get("content-type", "")
                content_type = content_type[0] if isinstance(content_type, list) else content_type
                if not content_type.startswith("application/problem+json") and not operation.path.startswith("/admin"):
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code} not problem+json")

        call()
    assert not failures, "\n".join(failures[:20])
