"""The audit trail of patient data: who read or changed what, in the caller's transaction."""
from __future__ import annotations

from typing import Any

from doorstep.auth import Actor
from doorstep.db import add_row
from doorstep.models import AuditEntry


def record_access(actor: Actor | None, action: str, entity: str, entity_id: Any, **detail: Any) -> None:
    """Add one audit row (written at commit, ``doorstep.db.add_row``). ``detail`` must hold ids and codes only, never personal data."""
    add_row(AuditEntry.__table__, actor_user_id=actor.user_id if actor else None, action=action,
            entity=entity, entity_id=str(entity_id), detail=detail or None)
