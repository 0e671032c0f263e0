"""Who may cancel which order, and until when: one table. Pure: no database, no Flask.

``CANCELLABLE[(role, kind)]`` is the set of statuses from which that role may
cancel an order of that kind (visibility — own order, own pharmacy — is
``orders.access``'s business, checked before this):

- a patient, their own order until the worker is on the way: a visit before
  ``en_route``, a parcel before ``picked_up``;
- a pharmacist, their pharmacy's parcels until they leave the pharmacy;
- a dispatcher, any order until the work is done.

Each window is clipped by the state machines (``orders.states``): once a nurse
is at the door (``in_progress``) or a parcel is in the courier's bag
(``picked_up``, ``out_for_delivery``) nobody cancels it; it ends ``completed``
/``delivered``, or ``failed`` and (a parcel) ``returned`` to the pharmacy, with
who, when and why. So a pharmacist's "before out for delivery" and a
dispatcher's "before delivery" both stop at ``scheduled`` for parcels. Staff
must give a reason; a patient may cancel without one.
"""
from __future__ import annotations

from doorstep.errors import Conflict, Forbidden, ValidationFailed

CANCELLABLE: dict[tuple[str, str], frozenset[str]] = {
    ("patient", "care"): frozenset({"requested", "awaiting_patient", "accepted", "scheduled"}),
    ("patient", "delivery"): frozenset({"awaiting_review", "ready", "scheduled"}),
    ("pharmacist", "delivery"): frozenset({"awaiting_review", "ready", "scheduled"}),
    ("dispatcher", "care"): frozenset({"requested", "awaiting_patient", "accepted", "scheduled", "en_route"}),
    ("dispatcher", "delivery"): frozenset({"awaiting_review", "ready", "scheduled"}),
}

REASON_REQUIRED = frozenset({"pharmacist", "dispatcher"})


def check_cancel(role: str, kind: str, status: str, reason: str | None) -> None:
    """Raise unless ``role`` may cancel a ``kind`` order that is ``status`` now.

    Raises
    ------
    Forbidden
        The role never cancels this kind of order (403).
    Conflict
        Too late (or already final) for this role: 409, naming the status.
    ValidationFailed
        Staff without a reason: 422 naming ``reason``.
    """
    allowed = CANCELLABLE.get((role, kind))
    if allowed is None:
        raise Forbidden(f"A {role} may not cancel a {kind} order.")
    if status not in allowed:
        who = "you" if role == "patient" else f"a {role}"
        hint = " Call the hospital." if role == "patient" else ""
        raise Conflict(f"A {kind} order that is '{status}' can no longer be cancelled by {who}.{hint}")
    if role in REASON_REQUIRED and not (reason and reason.strip()):
        raise ValidationFailed("Staff cancel with a reason.", {"reason": ["Required for staff."]})
