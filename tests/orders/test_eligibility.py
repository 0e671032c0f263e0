"""Eligibility rules: judged at booking against the patient's clinical facts, which staff keep."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.eligibility import PatientFacts, check, falls_under, rule_errors
from orders.models import CareOrder, CatalogueItem
from tests.orders.helpers import assert_problem

# Bookings are checked against the clock: book three days before the personas' service date.
NOW = "2026-11-20T10:00:00+08:00"


@pytest.fixture(autouse=True)
def _booking_day() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


TODAY = date(2026, 11, 20)


# The rules, pure ------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, facts, expected", [
    ({"rule": "none"}, PatientFacts(), (True, False)),
    ({"rule": "triage_always"}, PatientFacts(TODAY, ("I50.9",)), (True, True)),
    ({"rule": "discharged_within_days", "days": 14}, PatientFacts(TODAY - timedelta(days=14)), (True, False)),
    ({"rule": "discharged_within_days", "days": 14}, PatientFacts(TODAY - timedelta(days=15)), (False, False)),
    ({"rule": "discharged_within_days", "days": 14}, PatientFacts(), (True, True)),
    ({"rule": "discharged_within_days", "days": 14}, PatientFacts(TODAY + timedelta(days=1)), (True, True)),
    ({"rule": "diagnosis_in", "codes": ["I50"]}, PatientFacts(None, ("E11.9", "I50.9")), (True, False)),
    ({"rule": "diagnosis_in", "codes": ["I50.1"]}, PatientFacts(None, ("I50.9",)), (False, False)),
    ({"rule": "diagnosis_in", "codes": ["I50"]}, PatientFacts(), (True, True)),
])
def test_each_rule_gives_its_verdict(rule, facts, expected) -> None:  # type: ignore[no-untyped-def]
    verdict = check(rule, facts, TODAY)
    assert (verdict.eligible, verdict.needs_triage) == expected and verdict.reason


def test_icd10_codes_cover_their_subcodes_only() -> None:
    assert falls_under("E11.9", "E11") and falls_under("e11.9", "E11.9") and not falls_under("E10.9", "E11")
    assert not falls_under("E11", "E11.9")


def test_malformed_rules_are_named_field_by_field() -> None:
    assert set(rule_errors({"rule": "diagnosis_in", "codes": ["I50", "heart"]})) == {"eligibility.codes.1"}
    assert set(rule_errors({"rule": "discharged_within_days", "days": -1})) == {"eligibility.days"}
    assert set(rule_errors({"rule": "maybe"})) == {"eligibility.rule"}
    assert rule_errors({"rule": "diagnosis_in", "codes": ["I50.9", "E11.900x001"]}) == {}


# Over HTTP --------------------------------------------------------------------------------------

def local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def set_rule(client, personas, code, rule):  # type: ignore[no-untyped-def]
    response = client.patch(f"/api/v1/catalogue/services/{code}", json={"eligibility": rule},
                            headers=personas.headers("admin_root"))
    assert response.status_code == 200, response.get_json()


def set_facts(client, personas, patient="patient_wang", who="dispatcher_sun", **facts):  # type: ignore[no-untyped-def]
    return client.patch(f"/api/v1/patients/{personas[patient]['patient_id']}/clinical", json=facts,
                        headers=personas.headers(who))


def test_a_patient_discharged_too_long_ago_is_refused_naming_service_code_and_nothing_is_written(  # type: ignore[no-untyped-def]
        client, personas, orders) -> None:
    set_rule(client, personas, "wound_dressing_change", {"rule": "discharged_within_days", "days": 30})
    set_facts(client, personas, discharge_date=(local_today() - timedelta(days=31)).isoformat())
    body = assert_problem(orders.care(service_code="wound_dressing_change"), 422, "service_code")
    assert "within the last 30 days" in body["errors"]["service_code"][0]
    assert session.scalar(select(CareOrder.id)) is None
    set_facts(client, personas, discharge_date=(local_today() - timedelta(days=30)).isoformat())
    response = orders.care(service_code="wound_dressing_change")
    assert response.status_code == 201 and response.get_json()["status"] == "requested"


def test_without_a_discharge_date_the_booking_waits_for_a_nurse(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    set_rule(client, personas, "wound_dressing_change", {"rule": "discharged_within_days", "days": 30})
    response = orders.care(service_code="wound_dressing_change")
    assert response.status_code == 201 and response.get_json()["status"] == "requested"


def test_a_diagnosis_rule_admits_a_listed_diagnosis_and_refuses_others(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    set_rule(client, personas, "diabetic_foot_care", {"rule": "diagnosis_in", "codes": ["E10", "E11"]})
    assert set_facts(client, personas, diagnoses=["e11.9", "I10"]).get_json()["diagnoses"] == ["E11.9", "I10"]
    set_facts(client, personas, "patient_liu", diagnoses=["I10"])
    assert orders.care(service_code="diabetic_foot_care").status_code == 201
    body = assert_problem(orders.care("patient_liu", service_code="diabetic_foot_care"), 422, "service_code")
    assert "E10, E11" in body["errors"]["service_code"][0] and "I10" not in body["errors"]["service_code"][0]


def test_triage_always_keeps_the_order_requested(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    set_rule(client, personas, "picc_maintenance", {"rule": "triage_always"})
    response = orders.care(service_code="picc_maintenance")
    assert response.status_code == 201 and response.get_json()["status"] == "requested"


def test_staff_read_and_set_clinical_facts_and_each_read_is_audited(client, personas) -> None:  # type: ignore[no-untyped-def]
    patient_id = personas["patient_wang"]["patient_id"]
    discharged = (local_today() - timedelta(days=3)).isoformat()
    for who in ("admin_root", "dispatcher_sun", "nurse_li"):  # nurse_li has the triage skill
        response = set_facts(client, personas, who=who, discharge_date=discharged, diagnoses=["I50.9"])
        assert response.status_code == 200, (who, response.get_json())
    response = client.get(f"/api/v1/patients/{patient_id}/clinical", headers=personas.headers("nurse_li"))
    assert response.get_json() == {"patient_id": patient_id, "discharge_date": discharged, "diagnoses": ["I50.9"],
                                   "initial_assessment": None}
    reads = session.scalars(select(AuditEntry).where(AuditEntry.entity == "patient_clinical",
                                                     AuditEntry.action == "read")).all()
    assert [(r.actor_user_id, r.entity_id) for r in reads] == [(personas["nurse_li"]["user_id"], str(patient_id))]
    changes = session.scalars(select(AuditEntry).where(AuditEntry.entity == "patient_clinical",
                                                       AuditEntry.action == "update")).all()
    assert len(changes) == 3 and "I50" not in str([c.detail for c in changes])


def test_clinical_facts_are_refused_to_other_roles_and_unknown_patients_are_404(client, personas) -> None:  # type: ignore[no-untyped-def]
    url = f"/api/v1/patients/{personas['patient_wang']['patient_id']}/clinical"
    for who in ("patient_wang", "patient_liu", "courier_zhao", "pharmacist_chen", "nurse_zhou"):  # zhou: no triage
        assert_problem(client.get(url, headers=personas.headers(who)), 403)
        assert_problem(client.patch(url, json={"diagnoses": ["I10"]}, headers=personas.headers(who)), 403)
    assert_problem(client.get("/api/v1/patients/999999/clinical", headers=personas.headers("dispatcher_sun")), 404)
    assert_problem(set_facts(client, personas, "patient_wang", diagnoses=["heart failure"]), 422, "diagnoses.0")
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    assert_problem(set_facts(client, personas, "patient_wang", discharge_date=tomorrow), 422, "discharge_date")
    assert client.get(url, headers=personas.headers("admin_root")).get_json()["diagnoses"] == []


def test_the_shipped_items_need_no_facts(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    rules = {item.code: item.eligibility for item in session.scalars(select(CatalogueItem))}
    assert rules and all(rule == {"rule": "none"} for rule in rules.values())
