"""A patient's clinical facts: discharge date, diagnoses (ICD-10) and the initial assessment.

Eligibility rules of the catalogue ask about them (``orders.eligibility``). They
are health data: admins, dispatchers and triage nurses read and set them, every
read and change leaves an audit row (field names only), and values never reach
a log line.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Forbidden, NotFound, ValidationFailed
from orders.access import is_triage_nurse
from orders.eligibility import MAX_CODES, PatientFacts, facts_of, is_icd10, normalise_icd10
from orders.models import Patient

log = logging.getLogger("doorstep.orders.clinical")

UPDATABLE = frozenset({"discharge_date", "diagnoses"})
EARLIEST_DISCHARGE = date(1900, 1, 1)


def may_handle_clinical_facts(actor: Actor) -> bool:
    return actor.role in ("admin", "dispatcher") or is_triage_nurse(actor)


def access_patient_clinical(actor: Actor, patient_id: int) -> Patient:
    """The patient, for admins, dispatchers and triage nurses; 403 for other roles, 404 when missing."""
    if not may_handle_clinical_facts(actor):
        raise Forbidden("Only admins, dispatchers and triage nurses handle clinical facts.")
    patient = session.get(Patient, patient_id) if 0 < patient_id < 2**31 else None
    if patient is None:
        raise NotFound(f"No patient {patient_id}.")
    return patient


def get_clinical_facts(actor: Actor, patient_id: int) -> Patient:
    """Read a patient's clinical facts; the read is audited."""
    patient = access_patient_clinical(actor, patient_id)
    record_access(actor, "read", "patient_clinical", patient.id)
    return patient


def update_clinical_facts(actor: Actor, patient_id: int, **changes: Any) -> Patient:
    """Replace the given facts: ``discharge_date`` (a date or None), ``diagnoses`` (ICD-10 codes)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise TypeError(f"update_clinical_facts() got unknown fields: {', '.join(sorted(unknown))}")
    patient = access_patient_clinical(actor, patient_id)
    errors: dict[str, list[str]] = {}
    if "discharge_date" in changes:
        discharged = changes["discharge_date"]
        today = utcnow().astimezone(ZoneInfo(current_app.config["SETTINGS"].timezone)).date()
        if discharged is not None and not EARLIEST_DISCHARGE <= discharged <= today:
            errors["discharge_date"] = ["A date in the past (a discharge that has happened)."]
    if "diagnoses" in changes:
        errors.update(diagnosis_errors(changes["diagnoses"]))
    if errors:
        raise ValidationFailed("Some clinical facts are not valid.", errors)
    if "discharge_date" in changes:
        patient.discharge_date = changes["discharge_date"]
    if "diagnoses" in changes:
        patient.diagnoses = list(dict.fromkeys(normalise_icd10(code) for code in changes["diagnoses"]))
    session.flush()
    record_access(actor, "update", "patient_clinical", patient.id, fields=sorted(changes))
    log.info("event=clinical_facts_updated patient_id=%s fields=%s", patient.id, ",".join(sorted(changes)))
    return patient


def record_initial_assessment(actor: Actor, patient: Patient, at: datetime | None = None) -> None:
    """Note that ``actor`` assessed the patient before the first visit (called by triage)."""
    patient.initial_assessment_at, patient.initial_assessment_by = at or utcnow(), actor.user_id
    record_access(actor, "update", "patient_clinical", patient.id, fields=["initial_assessment"])


def diagnosis_errors(codes: Sequence[Any]) -> dict[str, list[str]]:
    if len(codes) > MAX_CODES:
        return {"diagnoses": [f"At most {MAX_CODES} codes."]}
    return {f"diagnoses.{i}": ["An ICD-10 code such as I50 or E11.9."]
            for i, code in enumerate(codes) if not (isinstance(code, str) and is_icd10(code))}


def patient_facts(patient: Patient) -> PatientFacts:
    return facts_of(patient.discharge_date, patient.diagnoses)
