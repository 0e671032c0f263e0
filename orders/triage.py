"""Triage of care orders: the queue, questions to the patient, and what an acceptance settles.

Triage is for nurses with the ``triage`` skill and for dispatchers. The queue
holds care orders waiting for triage (``requested``), oldest first; the later
occurrences of a series wait behind its first, since triage is once per series.
A triage nurse may ask the patient a question: the order waits
(``awaiting_patient``) until the patient answers, then returns to the queue in
its old place (the queue is ordered by booking time).

Accepting an order settles two more things (``after_triage``): the patient's
initial assessment, if this is their first visit, and, for the first occurrence
of a series, every occurrence still waiting, accepted (or rejected, with the
same reason) with it. Questions and answers are health data: never logged,
and written and read with audit rows (ids only).
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import aliased, selectinload

from doorstep.audit import record_access
from doorstep.auth import Actor
from doorstep.db import session, utcnow
from doorstep.errors import Conflict, Forbidden, NotFound
from orders.access import access_care_order, is_triage_nurse
from orders.clinical import record_initial_assessment
from orders.lifecycle import change_status
from orders.models import CareOrder, CareQuestion

log = logging.getLogger("doorstep.orders.triage")

WAITING_FOR_TRIAGE = ("requested", "awaiting_patient")


def may_triage(actor: Actor) -> bool:
    return actor.role == "dispatcher" or is_triage_nurse(actor)


def _require_triage(actor: Actor) -> None:
    if not may_triage(actor):
        raise Forbidden("Only a nurse with the triage skill or a dispatcher may triage.")


def triage_queue(actor: Actor) -> Select[Any]:
    """Care orders waiting for triage, oldest first, as a select for the paginator; audited once."""
    _require_triage(actor)
    first = aliased(CareOrder)
    behind_its_first = (CareOrder.series_sequence > 1) & exists().where(
        first.series_id == CareOrder.series_id, first.series_sequence == 1, first.status.in_(WAITING_FOR_TRIAGE))
    record_access(actor, "read", "care_order", "triage_queue")
    return (select(CareOrder).where(CareOrder.status == "requested", ~behind_its_first)
            .options(selectinload(CareOrder.patient), selectinload(CareOrder.questions))
            .order_by(CareOrder.created_at, CareOrder.id))


def ask_patient(actor: Actor, order_id: int, text: str) -> CareOrder:
    """A triage nurse (or dispatcher) asks the patient a question; the order waits for the answer."""
    _require_triage(actor)
    order = access_care_order(actor, order_id)
    change_status(order, "awaiting_patient", actor, "a question to the patient")
    question = CareQuestion(order=order, text=text, asked_by=actor.user_id, asked_at=utcnow())
    session.add(question)
    session.flush()
    record_access(actor, "create", "care_question", question.id, order_id=order.id)
    log.info("event=care_question_asked order_id=%s question_id=%s", order.id, question.id)
    return order


def answer_question(actor: Actor, order_id: int, question_id: int, text: str) -> CareOrder:
    """The order's patient answers; the order returns to the triage queue. Anyone else: 404."""
    order = session.get(CareOrder, order_id) if actor.role == "patient" and actor.patient_id else None
    if order is None or order.patient_id != actor.patient_id:
        raise NotFound(f"No care order {order_id}.")
    question = session.get(CareQuestion, question_id)
    if question is None or question.order_id != order.id:
        raise NotFound(f"No question {question_id} on care order {order_id}.")
    if question.answered_at is not None:
        raise Conflict("This question has been answered already.")
    change_status(order, "requested", actor, "the patient answered")
    question.answer, question.answered_by, question.answered_at = text, actor.user_id, utcnow()
    session.flush()
    record_access(actor, "update", "care_question", question.id, order_id=order.id, change="answer")
    log.info("event=care_question_answered order_id=%s question_id=%s", order.id, question.id)
    return order


def after_triage(actor: Actor, order: CareOrder, *, accepted: bool, reason: str | None) -> None:
    """What a triage decision settles beyond its own order (called by ``triage_care_order``)."""
    if accepted and order.patient.initial_assessment_at is None:
        record_initial_assessment(actor, order.patient)
    if order.series_id is None or order.series_sequence != 1:
        return
    others = session.scalars(select(CareOrder).where(
        CareOrder.series_id == order.series_id, CareOrder.id != order.id,
        # A question pending on a later visit keeps it out of a blanket acceptance.
        CareOrder.status.in_(("requested",) if accepted else WAITING_FOR_TRIAGE)).order_by(CareOrder.series_sequence))
    now = utcnow()
    for other in others:
        note = f"with the series' first visit (order {order.id})"
        change_status(other, "accepted" if accepted else "rejected", actor,
                      note if accepted else f"{reason} ({note})")
        other.triaged_by, other.triaged_at = actor.user_id, now
        record_access(actor, "update", "care_order", other.id, change="triage", accepted=accepted,
                      series_id=order.series_id)
