"""Assertions shared by the orders tests."""
from __future__ import annotations

from typing import Any


def assert_problem(response: Any, status: int, *fields: str) -> dict[str, Any]:
    """``response`` is problem+json with ``status``, naming each of ``fields`` in ``errors``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    for field in fields:
        assert field in body.get("errors", {}), (field, body)
    return body
