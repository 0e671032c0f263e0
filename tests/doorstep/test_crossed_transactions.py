"""Two transactions that cross (a PostgreSQL deadlock) answer 409, not 500: nothing was saved, send it again.

Found by bench.day: a stop report and a re-plan locked a stop and its order in opposite orders.
"""
from __future__ import annotations

from sqlalchemy.exc import OperationalError


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__("deadlock detected")
        self.sqlstate = sqlstate


def _answer(app, sqlstate: str):  # type: ignore[no-untyped-def]
    with app.test_request_context("/api/v1/mobile/stops/1/events", method="POST"):
        return app.handle_user_exception(OperationalError("UPDATE orders ...", {}, _PgError(sqlstate)))


def test_a_deadlock_is_a_409_problem_asking_to_send_again(app) -> None:  # type: ignore[no-untyped-def]
    response = _answer(app, "40P01")
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "Send it again" in response.get_json()["detail"]


def test_a_serialisation_failure_is_a_409_too(app) -> None:  # type: ignore[no-untyped-def]
    assert _answer(app, "40001").status_code == 409


def test_a_database_that_is_down_is_still_a_500(app) -> None:  # type: ignore[no-untyped-def]
    assert _answer(app, "08006").status_code == 500
