"""Triage: the queue of care orders waiting for a nurse's decision, and questions to the patient."""
from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from orders.models import Patient
from tests.orders.helpers import assert_problem

QUEUE = "/api/v1/care-orders/triage-queue"
QUESTION = "Is the PICC line dressing dry and intact? Any fever since discharge?"
ANSWER = "Dry and intact, no fever. 敷料干燥，无发热。"


def queue(client, personas, who="nurse_li", query=""):  # type: ignore[no-untyped-def]
    return client.get(QUEUE + query, headers=personas.headers(who))


def ask(client, personas, order_id, who="nurse_li", text=QUESTION):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/care-orders/{order_id}/questions", json={"text": text},
                       headers=personas.headers(who))


def answer(client, personas, order_id, question_id, who="patient_wang", text=ANSWER):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/care-orders/{order_id}/questions/{question_id}/answer", json={"text": text},
                       headers=personas.headers(who))


def triage(client, personas, order_id, who="nurse_li", **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/care-orders/{order_id}/triage", json=body, headers=personas.headers(who))


def test_the_queue_holds_waiting_visits_oldest_first_with_what_a_triage_nurse_needs(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    session.get(Patient, personas["patient_wang"]["patient_id"]).birth_date = __import__("datetime").date(1948, 3, 2)
    session.commit()
    first = orders.care_id(service_code="picc_maintenance", notes="Line in left arm")
    second = orders.care_id("patient_liu")
    decided = orders.care_id("patient_liu", service_code="oral_care")
    triage(client, personas, decided, accepted=True)
    response = queue(client, personas)
    assert response.status_code == 200, response.get_json()
    items = response.get_json()
    assert [i["id"] for i in items] == [first, second]
    top = items[0]
    assert top["service_code"] == "picc_maintenance" and top["duration_minutes"] == 45
    assert top["window"] == {"start": "2026-11-23T09:00:00+08:00", "end": "2026-11-23T11:00:00+08:00"}
    assert top["notes"] == "Line in left arm" and top["questions"] == [] and top["series"] is None
    assert top["patient"] == {"first_name": "Wang", "age": 78, "first_visit": True}
    assert items[1]["patient"]["age"] is None  # no birth date known
    assert '"total": 2' in response.headers["X-Pagination"]
    page = queue(client, personas, query="?page=2&page_size=1").get_json()
    assert [i["id"] for i in page] == [second]


def test_dispatchers_see_the_queue_and_other_roles_do_not(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    orders.care_id()
    assert len(queue(client, personas, "dispatcher_sun").get_json()) == 1
    for who in ("nurse_zhou", "patient_wang", "courier_zhao", "pharmacist_chen"):  # nurse_zhou: no triage skill
        assert_problem(queue(client, personas, who), 403)


def test_reading_the_queue_is_audited(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    orders.care_id()
    queue(client, personas)
    row = session.scalar(select(AuditEntry).where(AuditEntry.entity_id == "triage_queue"))
    assert row is not None and row.action == "read" and row.actor_user_id == personas["nurse_li"]["user_id"]


def test_accepting_a_first_visit_records_the_initial_assessment_once(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    first, later = orders.care_id(), orders.care_id()
    assert triage(client, personas, first, accepted=True).status_code == 200
    patient = personas["patient_wang"]["patient_id"]
    facts = client.get(f"/api/v1/patients/{patient}/clinical", headers=personas.headers("dispatcher_sun")).get_json()
    assert facts["initial_assessment"]["by"] == personas["nurse_li"]["user_id"]
    assert queue(client, personas).get_json()[0]["patient"]["first_visit"] is False
    triage(client, personas, later, "dispatcher_sun", accepted=True)
    session.expire_all()
    assert session.get(Patient, patient).initial_assessment_by == personas["nurse_li"]["user_id"]


def test_a_rejection_records_no_assessment(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    triage(client, personas, order_id, accepted=False, reason="Needs a clinic visit")
    assert session.get(Patient, personas["patient_wang"]["patient_id"]).initial_assessment_at is None


# Questions ---------------------------------------------------------------------------------

def test_a_question_holds_the_order_until_the_patient_answers(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    later = orders.care_id()
    response = ask(client, personas, order_id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "awaiting_patient"
    question = body["questions"][0]
    assert (question["text"], question["asked_by"], question["answer"]) == (
        QUESTION, personas["nurse_li"]["user_id"], None)
    assert [i["id"] for i in queue(client, personas).get_json()] == [later]  # out of the queue while waiting

    seen = orders.get(order_id, "patient_wang").get_json()  # the patient sees the question on the order
    assert seen["status"] == "awaiting_patient" and seen["questions"][0]["text"] == QUESTION

    response = answer(client, personas, order_id, question["id"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "requested"
    items = queue(client, personas).get_json()
    assert [i["id"] for i in items] == [order_id, later]  # back in its old place
    assert items[0]["questions"][0]["answer"] == ANSWER  # emoji-free CJK text kept intact
    history = [(h["from"], h["to"]) for h in orders.get(order_id, "nurse_li").get_json()["history"]]
    assert history == [(None, "requested"), ("requested", "awaiting_patient"), ("awaiting_patient", "requested")]
    assert triage(client, personas, order_id, accepted=True).get_json()["status"] == "accepted"


def test_only_the_orders_patient_answers(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    question_id = ask(client, personas, order_id).get_json()["questions"][0]["id"]
    assert_problem(answer(client, personas, order_id, question_id, "patient_liu"), 404)
    assert_problem(answer(client, personas, order_id, question_id, "nurse_li"), 403)
    assert_problem(answer(client, personas, order_id, question_id + 999), 404)
    liu_order = orders.care_id("patient_liu")
    assert_problem(answer(client, personas, liu_order, question_id), 404)  # a question of another order
    assert orders.status(order_id) == "awaiting_patient"


def test_asking_needs_the_triage_role_and_a_waiting_order(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    assert_problem(ask(client, personas, order_id, "nurse_zhou"), 403)
    assert_problem(ask(client, personas, order_id, "patient_wang"), 403)
    assert_problem(ask(client, personas, 999_999), 404)
    assert ask(client, personas, order_id).status_code == 201
    assert_problem(ask(client, personas, order_id, "dispatcher_sun"), 409)  # already waiting for an answer
    accepted = orders.care_id()
    triage(client, personas, accepted, "dispatcher_sun", accepted=True)
    assert_problem(ask(client, personas, accepted, "dispatcher_sun"), 409)


def test_answering_twice_or_after_a_cancellation_is_a_409(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    question_id = ask(client, personas, order_id).get_json()["questions"][0]["id"]
    assert answer(client, personas, order_id, question_id).status_code == 200
    assert_problem(answer(client, personas, order_id, question_id, text="again"), 409)

    cancelled = orders.care_id()
    question_id = ask(client, personas, cancelled).get_json()["questions"][0]["id"]
    response = client.post(f"/api/v1/orders/{cancelled}/cancel", json={}, headers=personas.headers("patient_wang"))
    assert response.status_code == 200, response.get_json()
    assert_problem(answer(client, personas, cancelled, question_id), 409)
    assert orders.status(cancelled) == "cancelled"


def test_a_patient_who_never_answers_may_be_rejected(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    ask(client, personas, order_id)
    response = triage(client, personas, order_id, accepted=False, reason="No answer within three days")
    assert response.status_code == 200 and response.get_json()["status"] == "rejected"


@pytest.mark.parametrize("text", ["", "x" * 2001, "ring \x07 the bell"], ids=["empty", "too-long", "control"])
def test_a_bad_question_or_answer_text_is_a_422_naming_text(client, orders, personas, text) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    assert_problem(ask(client, personas, order_id, text=text), 422, "text")
    question_id = ask(client, personas, order_id).get_json()["questions"][0]["id"]
    assert_problem(answer(client, personas, order_id, question_id, text=text), 422, "text")
    assert orders.status(order_id) == "awaiting_patient"


def test_question_texts_are_audited_by_id_and_never_logged(client, orders, personas, caplog) -> None:  # type: ignore[no-untyped-def]
    order_id = orders.care_id()
    with caplog.at_level(logging.DEBUG):
        question_id = ask(client, personas, order_id).get_json()["questions"][0]["id"]
        answer(client, personas, order_id, question_id)
        orders.get(order_id, "patient_wang")
    assert "PICC" not in caplog.text and "fever" not in caplog.text and "敷料" not in caplog.text
    rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "care_question").order_by(AuditEntry.id))
    assert [(r.action, r.entity_id, r.actor_user_id) for r in rows] == [
        ("create", str(question_id), personas["nurse_li"]["user_id"]),
        ("update", str(question_id), personas["patient_wang"]["user_id"])]
    assert "fever" not in json.dumps([r.detail for r in session.scalars(select(AuditEntry))])
