"""The order and stop lifecycles as pure tables: what may follow what."""
from __future__ import annotations

from collections import deque

import pytest

from doorstep.errors import InvalidTransition
from orders.states import BY_KIND, CARE_ORDER, DELIVERY_ORDER, PLANNABLE, STOP, StateMachine

MACHINES = (CARE_ORDER, DELIVERY_ORDER, STOP)
ALLOWED = [(m, current, target) for m in MACHINES for current, targets in m.transitions.items()
           for target in sorted(targets)]
ILLEGAL = [
    (CARE_ORDER, "requested", "scheduled"),  # skipping triage
    (CARE_ORDER, "requested", "completed"),
    (CARE_ORDER, "awaiting_patient", "accepted"),  # the patient answers first
    (CARE_ORDER, "accepted", "en_route"),  # not planned yet
    (CARE_ORDER, "in_progress", "cancelled"),  # the nurse is at the door
    (CARE_ORDER, "completed", "cancelled"),
    (CARE_ORDER, "rejected", "accepted"),
    (CARE_ORDER, "cancelled", "requested"),
    (DELIVERY_ORDER, "awaiting_review", "scheduled"),  # skipping review
    (DELIVERY_ORDER, "ready", "picked_up"),
    (DELIVERY_ORDER, "picked_up", "cancelled"),  # the parcel has left the pharmacy
    (DELIVERY_ORDER, "delivered", "returned"),
    (DELIVERY_ORDER, "cancelled", "ready"),
    (STOP, "planned", "done"),
    (STOP, "departed", "started"),
    (STOP, "done", "failed"),
]


def _id(value: object) -> str:
    return value.name.replace(" ", "_") if isinstance(value, StateMachine) else str(value)


@pytest.mark.parametrize(("machine", "current", "target"), ALLOWED, ids=_id)
def test_every_allowed_transition_passes_the_check(machine: StateMachine, current: str, target: str) -> None:
    machine.check(current, target)
    assert machine.allows(current, target)


@pytest.mark.parametrize(("machine", "current", "target"), ILLEGAL, ids=_id)
def test_an_illegal_transition_raises_invalid_transition(machine: StateMachine, current: str, target: str) -> None:
    assert not machine.allows(current, target)
    with pytest.raises(InvalidTransition) as raised:
        machine.check(current, target)
    assert raised.value.status == 409
    assert f"'{current}'" in raised.value.detail and f"'{target}'" in raised.value.detail


@pytest.mark.parametrize("machine", MACHINES, ids=_id)
def test_no_status_moves_to_itself(machine: StateMachine) -> None:
    assert not any(machine.allows(state, state) for state in machine.states)


@pytest.mark.parametrize("machine", MACHINES, ids=_id)
def test_every_status_is_reachable_from_the_initial_one(machine: StateMachine) -> None:
    seen, queue = {machine.initial}, deque([machine.initial])
    while queue:
        for target in machine.transitions.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert seen == machine.states


def test_the_final_statuses_are_those_of_the_api_contract() -> None:
    assert CARE_ORDER.terminal == {"completed", "rejected", "cancelled", "failed"}
    assert DELIVERY_ORDER.terminal == {"delivered", "rejected", "cancelled", "returned"}
    assert STOP.terminal == {"done", "failed"}


def test_the_contracts_statuses_all_exist() -> None:
    assert {"requested", "awaiting_patient", "accepted", "rejected", "scheduled", "en_route", "in_progress",
            "completed", "cancelled", "failed"} == CARE_ORDER.states
    assert {"awaiting_review", "ready", "scheduled", "picked_up", "out_for_delivery", "delivered",
            "cancelled", "failed", "returned", "rejected"} == DELIVERY_ORDER.states


def test_orders_start_waiting_for_triage_or_review_and_are_planned_once_released() -> None:
    assert (CARE_ORDER.initial, DELIVERY_ORDER.initial) == ("requested", "awaiting_review")
    assert PLANNABLE == {"care": "accepted", "delivery": "ready"}
    assert BY_KIND == {"care": CARE_ORDER, "delivery": DELIVERY_ORDER}


def test_a_refusal_names_the_statuses_that_may_follow() -> None:
    with pytest.raises(InvalidTransition) as raised:
        CARE_ORDER.check("accepted", "completed")
    assert "cancelled, scheduled" in raised.value.detail
    with pytest.raises(InvalidTransition) as raised:
        CARE_ORDER.check("completed", "failed")
    assert "none (final)" in raised.value.detail
