"""The fixed vocabularies of the desk pages in words: order statuses, stop types, reason codes...

The database, the API and the optimiser speak in codes (``awaiting_review``, ``capacity``);
the pages show words. Each group is one table of lazy ``pgettext`` calls, so ``pybabel extract``
finds every word, and the group's name is the message context: "Failed" as an order status and as a
plan status, or "Nurse" as a kind of worker and as a professional title, are separate entries for
the translator even when English spells them alike. ``label(group, code)`` is the one way to read
them; an unknown code shows as itself (new codes appear before their words do).
"""
from __future__ import annotations

from flask_babel import lazy_pgettext

VOCABULARY = {
    "kind": {
        "care": lazy_pgettext("order kind", "Care"),
        "delivery": lazy_pgettext("order kind", "Delivery"),
    },
    "worker": {
        "nurse": lazy_pgettext("worker kind", "Nurse"),
        "courier": lazy_pgettext("worker kind", "Courier"),
    },
    "status": {
        "requested": lazy_pgettext("order status", "Requested"),
        "awaiting_review": lazy_pgettext("order status", "Awaiting review"),
        "accepted": lazy_pgettext("order status", "Accepted"),
        "ready": lazy_pgettext("order status", "Ready"),
        "scheduled": lazy_pgettext("order status", "Scheduled"),
        "en_route": lazy_pgettext("order status", "En route"),
        "picked_up": lazy_pgettext("order status", "Picked up"),
        "out_for_delivery": lazy_pgettext("order status", "Out for delivery"),
        "in_progress": lazy_pgettext("order status", "In progress"),
        "completed": lazy_pgettext("order status", "Completed"),
        "delivered": lazy_pgettext("order status", "Delivered"),
        "rejected": lazy_pgettext("order status", "Rejected"),
        "cancelled": lazy_pgettext("order status", "Cancelled"),
        "failed": lazy_pgettext("order status", "Failed"),
        "returned": lazy_pgettext("order status", "Returned"),
    },
    "plan_status": {
        "queued": lazy_pgettext("plan status", "Queued"),
        "solving": lazy_pgettext("plan status", "Solving"),
        "done": lazy_pgettext("plan status", "Done"),
        "failed": lazy_pgettext("plan status", "Failed"),
    },
    "stop_type": {
        "start": lazy_pgettext("stop type", "Start"),
        "visit": lazy_pgettext("stop type", "Visit"),
        "pickup": lazy_pgettext("stop type", "Pickup"),
        "dropoff": lazy_pgettext("stop type", "Drop-off"),
        "break": lazy_pgettext("stop type", "Break"),
        "end": lazy_pgettext("stop type", "End"),
    },
    "reason": {
        "no_worker_with_skills": lazy_pgettext("unassigned reason", "No worker has the skills"),
        "no_worker_in_district": lazy_pgettext("unassigned reason", "No worker covers the district"),
        "no_worker_of_kind": lazy_pgettext("unassigned reason", "No worker of this kind"),
        "time_window_unreachable": lazy_pgettext("unassigned reason", "Time window unreachable"),
        "capacity": lazy_pgettext("unassigned reason", "Not enough capacity"),
        "shift_too_short": lazy_pgettext("unassigned reason", "Shift too short"),
        "not_worth_serving": lazy_pgettext("unassigned reason", "Dropped in favour of other tasks"),
        "unassigned_by_dispatcher": lazy_pgettext("unassigned reason", "Unassigned by a dispatcher"),
    },
    "district": {
        "heping": lazy_pgettext("district", "Heping"),
        "hexi": lazy_pgettext("district", "Hexi"),
        "nankai": lazy_pgettext("district", "Nankai"),
        "hedong": lazy_pgettext("district", "Hedong"),
        "hebei": lazy_pgettext("district", "Hebei"),
        "hongqiao": lazy_pgettext("district", "Hongqiao"),
    },
    "absence": {
        "sick": lazy_pgettext("absence reason", "Sick"),
        "family": lazy_pgettext("absence reason", "Family"),
        "training": lazy_pgettext("absence reason", "Training"),
        "other": lazy_pgettext("absence reason", "Other"),
    },
    "evv": {
        "far_from_door": lazy_pgettext("verification exception", "Far from the door"),
        "missed_check_in": lazy_pgettext("verification exception", "Missed check-in"),
        "missed_check_out": lazy_pgettext("verification exception", "Missed check-out"),
        "time_correction": lazy_pgettext("verification exception", "Time correction"),
        "temperature_excursion": lazy_pgettext("verification exception", "Temperature excursion"),
    },
    "evv_status": {
        "approved": lazy_pgettext("decision", "approved"),
        "rejected": lazy_pgettext("decision", "rejected"),
    },
    "title": {
        "nurse": lazy_pgettext("nurse title", "Nurse"),
        "senior_nurse": lazy_pgettext("nurse title", "Senior nurse"),
        "supervising_nurse": lazy_pgettext("nurse title", "Supervising nurse"),
        "associate_chief_nurse": lazy_pgettext("nurse title", "Associate chief nurse"),
        "chief_nurse": lazy_pgettext("nurse title", "Chief nurse"),
    },
    "category": {
        "basic": lazy_pgettext("catalogue category", "Basic"),
        "specialty": lazy_pgettext("catalogue category", "Specialty"),
    },
    "rule": {
        "none": lazy_pgettext("booking rule", "Anyone"),
        "discharged_within_days": lazy_pgettext("booking rule", "Discharged within days"),
        "diagnosis_in": lazy_pgettext("booking rule", "Diagnosis in"),
        "triage_always": lazy_pgettext("booking rule", "Always triaged"),
    },
    "role": {
        "admin": lazy_pgettext("role", "Administrator"),
        "dispatcher": lazy_pgettext("role", "Dispatcher"),
        "pharmacist": lazy_pgettext("role", "Pharmacist"),
        "nurse": lazy_pgettext("role", "Nurse"),
        "courier": lazy_pgettext("role", "Courier"),
        "patient": lazy_pgettext("role", "Patient"),
    },
    "action": {
        "read": lazy_pgettext("audit action", "Read"),
        "create": lazy_pgettext("audit action", "Create"),
        "update": lazy_pgettext("audit action", "Update"),
        "replan": lazy_pgettext("audit action", "Re-plan"),
    },
    "entity": {
        "audit_log": lazy_pgettext("audit entity", "Audit log"),
        "user": lazy_pgettext("audit entity", "User"),
        "worker": lazy_pgettext("audit entity", "Worker"),
        "worker_absence": lazy_pgettext("audit entity", "Day off"),
        "catalogue_item": lazy_pgettext("audit entity", "Catalogue item"),
        "delivery_order": lazy_pgettext("audit entity", "Delivery order"),
        "care_order": lazy_pgettext("audit entity", "Care order"),
        "plan": lazy_pgettext("audit entity", "Plan"),
    },
}


def label(group: str, code: str | None) -> str:
    """``code`` of the vocabulary ``group`` in the current language; the code itself if unknown."""
    if code is None:
        return ""
    words = VOCABULARY.get(group, {}).get(code)
    return code if words is None else str(words)
