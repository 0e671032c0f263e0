"""The order lifecycles as tables of allowed transitions. Pure: no database, no Flask.

One ``StateMachine`` per kind; ``check`` is the only gate a status change
passes through (``orders.lifecycle.change_status`` applies it and writes the
history). Anything not in the table is refused, so a stale or out-of-order
request is a 409, never a silent overwrite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from doorstep.errors import InvalidTransition


@dataclass(frozen=True)
class StateMachine:
    name: str
    initial: str
    transitions: Mapping[str, frozenset[str]]

    @property
    def states(self) -> frozenset[str]:
        targets = {t for ts in self.transitions.values() for t in ts}
        return frozenset(self.transitions) | targets

    @property
    def terminal(self) -> frozenset[str]:
        return frozenset(s for s in self.states if not self.transitions.get(s))

    def allows(self, current: str, target: str) -> bool:
        return target in self.transitions.get(current, frozenset())

    def check(self, current: str, target: str) -> None:
        """Raise ``InvalidTransition`` unless ``current → target`` is in the table."""
        if not self.allows(current, target):
            allowed = ", ".join(sorted(self.transitions.get(current, ()))) or "none (final)"
            raise InvalidTransition(
                f"A {self.name} cannot go from '{current}' to '{target}'. From '{current}' it may go to: {allowed}."
            )


def _table(**edges: str) -> dict[str, frozenset[str]]:
    return {state: frozenset(targets.split()) for state, targets in edges.items()}


# A triage nurse may ask the patient a question (``awaiting_patient``); the answer returns the
# order to ``requested``. A patient who never answers may still be rejected, or cancel.
CARE_ORDER = StateMachine("care order", "requested", _table(
    requested="accepted rejected cancelled awaiting_patient",
    awaiting_patient="requested rejected cancelled",
    accepted="scheduled cancelled",
    scheduled="en_route accepted cancelled failed",
    en_route="in_progress failed cancelled",
    in_progress="completed failed",
    completed="", rejected="", cancelled="", failed="",
))

DELIVERY_ORDER = StateMachine("delivery order", "awaiting_review", _table(
    awaiting_review="ready rejected cancelled",
    ready="scheduled cancelled",
    scheduled="picked_up ready cancelled failed",
    picked_up="out_for_delivery failed returned",
    out_for_delivery="delivered failed",
    failed="ready returned",  # re-delivered on a new window, or back to the pharmacy
    delivered="", rejected="", cancelled="", returned="",
))

STOP = StateMachine("stop", "planned", _table(
    planned="departed arrived failed",
    departed="arrived failed",
    arrived="started done failed",
    started="done failed",
    done="", failed="",
))

BY_KIND = {"care": CARE_ORDER, "delivery": DELIVERY_ORDER}

# Statuses from which the optimiser may plan an order.
PLANNABLE = {"care": "accepted", "delivery": "ready"}
