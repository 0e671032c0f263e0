"""HTTP endpoints of triage and recurring visits: the triage queue, questions to the patient, series.

Views parse, call one function of ``orders.triage`` or ``orders.series``, and serialise.
"""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role
from orders import series, triage
from orders.care_schemas import (
    AnswerArgs,
    CareSeriesSchema,
    QuestionArgs,
    SeriesCancelArgs,
    SeriesCancellationSchema,
    SeriesCreateArgs,
    TriageQueueArgs,
    TriageQueueItemSchema,
)
from orders.schemas import CareOrderSchema

PREFIX = "/api/v1"

triage_blp = Blueprint("triage", __name__, url_prefix=PREFIX,
                       description="Triage of care orders: the queue and questions to the patient")
series_blp = Blueprint("care_series", __name__, url_prefix=PREFIX, description="Recurring care visits")

blueprints: list[Blueprint] = [triage_blp, series_blp]


@triage_blp.route("/care-orders/triage-queue")
class TriageQueue(MethodView):
    @unit_of_work
    @require_role("nurse", "dispatcher")
    @triage_blp.arguments(TriageQueueArgs, location="query")
    @triage_blp.response(200, TriageQueueItemSchema(many=True))
    @triage_blp.paginate(ListPage, **PAGINATION)
    def get(self, _args: dict[str, Any]) -> Any:
        """Care orders waiting for triage, oldest first; a series shows its first visit only (triage nurse, dispatcher)"""
        return triage.triage_queue(current_actor())


@triage_blp.route("/care-orders/<int:order_id>/questions")
class CareOrderQuestions(MethodView):
    @unit_of_work
    @require_role("nurse", "dispatcher")
    @triage_blp.arguments(QuestionArgs)
    @triage_blp.response(201, CareOrderSchema)
    @triage_blp.alt_response(404, description="No such care order, or not visible to you")
    @triage_blp.alt_response(409, description="The order is not waiting for triage (or already waits for an answer)")
    def post(self, args: dict[str, Any], order_id: int) -> Any:
        """Ask the patient a question; the order waits for the answer (awaiting_patient) (triage nurse, dispatcher)"""
        return triage.ask_patient(current_actor(), order_id, args["text"])


@triage_blp.route("/care-orders/<int:order_id>/questions/<int:question_id>/answer")
class CareQuestionAnswer(MethodView):
    @unit_of_work
    @require_role("patient")
    @triage_blp.arguments(AnswerArgs)
    @triage_blp.response(200, CareOrderSchema)
    @triage_blp.alt_response(404, description="No such question on a care order of yours")
    @triage_blp.alt_response(409, description="Answered already, or the order no longer waits (e.g. cancelled)")
    def post(self, args: dict[str, Any], order_id: int, question_id: int) -> Any:
        """Answer a triage question; the order goes back to the triage queue (the order's patient)"""
        return triage.answer_question(current_actor(), order_id, question_id, args["text"])


@series_blp.route("/care-orders/series")
class CareSeriesCollection(MethodView):
    @unit_of_work
    @require_role("patient")
    @series_blp.arguments(SeriesCreateArgs)
    @series_blp.response(201, CareSeriesSchema)
    @series_blp.alt_response(409, description="At the open-order limit (a series counts as one)")
    @series_blp.alt_response(422, description="Unknown service_code, not your address_id, a bad first_window, "
                                              "a later visit breaking a booking rule (occurrences.N.window), "
                                              "or a series longer than a year (count)")
    def post(self, args: dict[str, Any]) -> Any:
        """Book recurring visits: one care order per visit, all or none; each waits for triage (patient)"""
        window = args["first_window"]
        return series.create_series(current_actor(), service_code=args["service_code"],
                                    address_id=args["address_id"], first_start=window["start"],
                                    first_end=window["end"], every_days=args["every_days"],
                                    count=args["count"], notes=args["notes"])


@series_blp.route("/care-orders/series/<int:series_id>")
class CareSeriesById(MethodView):
    @unit_of_work
    @series_blp.response(200, CareSeriesSchema)
    @series_blp.alt_response(404, description="No such series, or not visible to you")
    def get(self, series_id: int) -> Any:
        """A series with its visits (its patient, dispatchers, admins, triage nurses)"""
        return series.get_series(current_actor(), series_id)


@series_blp.route("/care-orders/series/<int:series_id>/cancel")
class CareSeriesCancel(MethodView):
    @unit_of_work
    @require_role("patient", "dispatcher")
    @series_blp.arguments(SeriesCancelArgs)
    @series_blp.response(200, SeriesCancellationSchema)
    @series_blp.alt_response(404, description="No such series, or not visible to you")
    @series_blp.alt_response(422, description="A dispatcher without a reason")
    def post(self, args: dict[str, Any], series_id: int) -> Any:
        """Cancel every visit not yet started; those en route or later are left and listed (patient, dispatcher)"""
        return series.cancel_series(current_actor(), series_id, args["reason"])
