"""Append-only rows (audit, outbox, idempotency) queued with ``add_row`` and written with the transaction.

They skip the ORM's unit of work to make order intake cheaper; what must not change is that
they land exactly when the transaction commits, carry their column defaults, are visible to a
query later in the same transaction, and vanish with a rollback.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from doorstep.db import add_row, session, utcnow
from doorstep.models import AuditEntry, IdempotencyRecord


def _audit(entity_id: str, **detail: object) -> None:
    add_row(AuditEntry.__table__, actor_user_id=None, action="read", entity="test", entity_id=entity_id,
            detail=detail or None)


def _audit_ids() -> list[str]:
    return sorted(session.scalars(select(AuditEntry.entity_id).where(AuditEntry.entity == "test")))


def test_rows_land_at_commit_with_their_defaults(app) -> None:  # type: ignore[no-untyped-def]
    before = utcnow()
    _audit("1", reason="x")
    _audit("2")
    session.commit()
    session.remove()
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "test").order_by(AuditEntry.id)).all()
    assert [(r.entity_id, r.detail) for r in rows] == [("1", {"reason": "x"}), ("2", None)]
    assert all(before - timedelta(seconds=1) <= r.at <= utcnow() for r in rows)  # the Python default, filled in


def test_a_query_in_the_same_transaction_sees_them(app) -> None:  # type: ignore[no-untyped-def]
    _audit("3")
    assert _audit_ids() == ["3"]  # written before the SELECT, as autoflush would


def test_a_rollback_drops_them(app) -> None:  # type: ignore[no-untyped-def]
    _audit("4")
    session.rollback()
    session.commit()
    session.remove()
    assert _audit_ids() == []


def test_several_tables_in_one_round_trip_on_postgresql(app, personas) -> None:  # type: ignore[no-untyped-def]
    user_id = personas["patient_wang"]["user_id"]
    session.remove()
    statements: list[str] = []
    engine = app.extensions["doorstep.engine"]

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        _audit("5")
        add_row(IdempotencyRecord.__table__, user_id=user_id, key="k-1", method="POST", path="/x",
                body_sha256="0" * 64, status=201, response_body={"id": 1})
        session.commit()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    inserts = [s for s in statements if "INSERT" in s]
    assert len(inserts) == (1 if engine.dialect.name == "postgresql" else 2)
    session.remove()
    assert _audit_ids() == ["5"]
    stored = session.scalars(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-1")).one()
    assert (stored.user_id, stored.response_body, stored.created_at is not None) == (user_id, {"id": 1}, True)
