"""Who may book a catalogue item: one eligibility rule per item, judged against the patient's facts.

Pure: no Flask, no database. ``check(rule, facts, today)`` answers with a
``Verdict``. A rule whose facts are missing (no discharge date on record, no
diagnosis listed) is not a refusal: a triage nurse looks at the order instead.

Rules, as stored on ``CatalogueItem.eligibility`` and sent over HTTP:

- ``{"rule": "none"}``: anyone may book it;
- ``{"rule": "discharged_within_days", "days": N}``: discharged from hospital at
  most N days before the booking date;
- ``{"rule": "diagnosis_in", "codes": ["I50", "E11.9"]}``: one of the patient's
  listed diagnoses (ICD-10) falls under one of the codes (``E11`` covers ``E11.9``);
- ``{"rule": "triage_always"}``: never accepted without a nurse's look.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

RULES = ("none", "discharged_within_days", "diagnosis_in", "triage_always")
MAX_DAYS = 3650
MAX_CODES = 50
# ICD-10 (WHO and China's national clinical edition): a letter, two digits, and an optional
# extension after a dot such as ".9", ".x00" or ".900x001".
ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,8})?$")


@dataclass(frozen=True)
class PatientFacts:
    """What the hospital knows of a patient that a rule may ask about."""

    discharge_date: date | None = None
    diagnoses: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    needs_triage: bool
    reason: str


def normalise_icd10(code: str) -> str:
    """``" e11.9 "`` → ``"E11.9"``; a lower-case ``x`` in Chinese extensions becomes upper case too."""
    return code.strip().upper()


def is_icd10(code: str) -> bool:
    return bool(ICD10.match(normalise_icd10(code)))


def rule_errors(rule: Any) -> dict[str, list[str]]:
    """Faults of a rule keyed by field path under ``eligibility`` (empty when valid)."""
    if not isinstance(rule, Mapping) or rule.get("rule") not in RULES:
        return {"eligibility.rule": [f"One of: {', '.join(RULES)}."]}
    kind = rule["rule"]
    expected = {"none": {"rule"}, "triage_always": {"rule"}, "discharged_within_days": {"rule", "days"},
                "diagnosis_in": {"rule", "codes"}}[kind]
    errors = {f"eligibility.{key}": [f"Not used by the rule {kind!r}."] for key in set(rule) - expected}
    if kind == "discharged_within_days":
        days = rule.get("days")
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            errors["eligibility.days"] = [f"A whole number of days from 0 to {MAX_DAYS}."]
    if kind == "diagnosis_in":
        codes = rule.get("codes")
        if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_CODES:
            errors["eligibility.codes"] = [f"A list of 1 to {MAX_CODES} ICD-10 codes."]
        else:
            errors.update({f"eligibility.codes.{i}": ["An ICD-10 code such as I50 or E11.9."]
                           for i, code in enumerate(codes) if not (isinstance(code, str) and is_icd10(code))})
    return errors


def normalise_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A valid rule in its stored form: codes upper-case, without duplicates, in the given order."""
    if rule["rule"] == "diagnosis_in":
        return {"rule": "diagnosis_in", "codes": list(dict.fromkeys(normalise_icd10(c) for c in rule["codes"]))}
    if rule["rule"] == "discharged_within_days":
        return {"rule": "discharged_within_days", "days": int(rule["days"])}
    return {"rule": rule["rule"]}


def falls_under(diagnosis: str, code: str) -> bool:
    """ICD-10 is hierarchical: ``E11.9`` falls under ``E11`` and under itself, not under ``E1``'s sibling."""
    d, c = normalise_icd10(diagnosis).replace(".", ""), normalise_icd10(code).replace(".", "")
    return d.startswith(c)


def check(rule: Mapping[str, Any] | None, facts: PatientFacts, today: date) -> Verdict:
    """Whether a patient with ``facts`` may book an item with ``rule`` on ``today`` (the booking date)."""
    kind = (rule or {}).get("rule", "none")
    if kind == "none":
        return Verdict(True, False, "Anyone may book this service.")
    if kind == "triage_always":
        return Verdict(True, True, "A nurse always reviews bookings of this service first.")
    if kind == "discharged_within_days":
        days = int(rule["days"])  # type: ignore[index]
        if facts.discharge_date is None:
            return Verdict(True, True, "No discharge date is on record; a nurse will check it.")
        since = (today - facts.discharge_date).days
        if since < 0:
            return Verdict(True, True, "The recorded discharge date is in the future; a nurse will check it.")
        if since > days:
            return Verdict(False, False, f"This service is for patients discharged from hospital within the last "
                                         f"{days} days; your discharge was {since} days ago.")
        return Verdict(True, False, f"Discharged {since} days ago, within {days} days.")
    if kind == "diagnosis_in":
        codes = list(rule["codes"])  # type: ignore[index]
        if not facts.diagnoses:
            return Verdict(True, True, "No diagnosis is on record; a nurse will check it.")
        if any(falls_under(d, c) for d in facts.diagnoses for c in codes):
            return Verdict(True, False, "A recorded diagnosis is one this service is for.")
        return Verdict(False, False, "This service is only for patients with one of these diagnoses "
                                     f"(ICD-10): {', '.join(codes)}; none is on your record.")
    raise ValueError(f"unknown eligibility rule {kind!r}")


def facts_of(discharge_date: date | None, diagnoses: Iterable[str] | None) -> PatientFacts:
    return PatientFacts(discharge_date, tuple(diagnoses or ()))
