"""``/api/v1/workers`` and ``/api/v1/dispatch/*``: each view parses, calls one service, serialises."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView

from dispatch import replan_schemas as rs
from dispatch import schemas as s
from dispatch import steering, steering_schemas
from dispatch.access import list_plans, plan_versions, plan_view
from dispatch.replan import request_replan, worker_off
from dispatch.service import request_plan, solve_problem
from dispatch.slots import offered_slots
from dispatch.workers import access_worker, create_worker, list_workers, update_worker
from doorstep.api import PAGINATION, Blueprint, ListPage, unit_of_work
from doorstep.auth import current_actor, require_role

blp = Blueprint("dispatch", __name__, url_prefix="/api/v1",
                description="Workers, day plans and the optimiser (admins and dispatchers)")

MANAGERS = ("admin", "dispatcher")


@blp.route("/workers")
class Workers(MethodView):
    @require_role(*MANAGERS)
    @blp.arguments(s.WorkerQueryArgs, location="query")
    @blp.response(200, s.WorkerSchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict) -> Any:
        """Nurses and couriers, newest first"""
        return list_workers(current_actor(), **args)

    @unit_of_work
    @require_role(*MANAGERS)
    @blp.arguments(s.WorkerCreateArgs)
    @blp.response(201, s.WorkerSchema)
    def post(self, args: dict) -> Any:
        """Add a nurse or a courier with skills, districts, home and shifts"""
        worker = create_worker(current_actor(), **args)
        return worker, s.etag(worker)


@blp.route("/workers/<int:worker_id>")
class WorkerById(MethodView):
    @require_role(*MANAGERS)
    @blp.response(200, s.WorkerSchema)
    def get(self, worker_id: int) -> Any:
        """One worker; the ETag header carries its version"""
        worker = access_worker(current_actor(), worker_id)
        return worker, s.etag(worker)

    @unit_of_work
    @require_role(*MANAGERS)
    @blp.arguments(s.WorkerUpdateArgs)
    @blp.response(200, s.WorkerSchema)
    @blp.alt_response(412, description="If-Match names an older version")
    def patch(self, args: dict, worker_id: int) -> Any:
        """Replace the given fields of a worker (send If-Match to guard against lost updates)"""
        worker = update_worker(current_actor(), worker_id, expected_version=s.if_match_version(), **args)
        return worker, s.etag(worker)


@blp.route("/dispatch/plans")
class Plans(MethodView):
    @require_role("dispatcher")
    @blp.arguments(s.PlanQueryArgs, location="query")
    @blp.response(200, s.PlanSummarySchema(many=True))
    @blp.paginate(ListPage, **PAGINATION)
    def get(self, args: dict) -> Any:
        """Plans, newest first, optionally of one date"""
        return list_plans(current_actor(), **args)

    @unit_of_work
    @require_role("dispatcher")
    @blp.arguments(s.PlanCreateArgs)
    @blp.response(202, s.PlanRefSchema)
    def post(self, args: dict) -> Any:
        """Plan a day; a worker process builds and solves it (asked again while queued: the same plan)"""
        plan = request_plan(current_actor(), **args)
        return plan, {"Location": f"/api/v1/dispatch/plans/{plan.id}"}


@blp.route("/dispatch/plans/<int:plan_id>")
class PlanById(MethodView):
    @require_role("dispatcher")
    @blp.response(200, s.PlanSchema)
    def get(self, plan_id: int) -> Any:
        """A plan: status and progress, then summary, routes with stops, unassigned with reasons"""
        return plan_view(current_actor(), plan_id)


@blp.route("/dispatch/solve")
class Solve(MethodView):
    @require_role("dispatcher")
    @blp.doc(requestBody=s.PROBLEM_BODY,
             responses={"200": {"description": "The plan document (dispatch-problem.md)",
                                "content": {"application/json": {"schema": s.PLAN_DOCUMENT}}}})
    @blp.response(200)
    @blp.alt_response(422, description="Not a valid problem: errors keyed by JSON path, e.g. $.tasks[0].windows")
    def post(self) -> Any:
        """Run the optimiser on a problem document now (at most 20 s) and return the plan"""
        return solve_problem(s.read_problem_body())


# --- live operations: absences, re-plans, versions, booking slots (dispatch/replan.py, slots.py) ---

@blp.route("/workers/<int:worker_id>/off")
class WorkerOff(MethodView):
    @unit_of_work
    @require_role(*MANAGERS)
    @blp.arguments(rs.WorkerOffArgs)
    @blp.response(201, rs.WorkerAbsenceSchema)
    @blp.alt_response(404, description="No such worker")
    def post(self, args: dict, worker_id: int) -> Any:
        """A worker is off on a date (sick, ...): left out of that day's plans; their districts are re-planned"""
        return worker_off(current_actor(), worker_id, day=args["date"], reason=args["reason"])


@blp.route("/dispatch/replans")
class Replans(MethodView):
    @unit_of_work
    @require_role("dispatcher")
    @blp.arguments(rs.ReplanArgs)
    @blp.response(202, rs.ReplanRefSchema)
    @blp.alt_response(409, description="No finished plan of that day covers the district")
    def post(self, args: dict) -> Any:
        """Re-plan one district's day now (fixed stops stay, promised windows stay); optionally allow reassignment"""
        return request_replan(current_actor(), day=args["date"], district=args["district"],
                              allow_reassign=args["allow_reassign"])


@blp.route("/dispatch/plans/<int:plan_id>/versions")
class PlanVersions(MethodView):
    @require_role("dispatcher")
    @blp.response(200, rs.PlanVersionSchema(many=True))
    def get(self, plan_id: int) -> Any:
        """A plan's live revisions, newest first, each with its trigger and diff (added, moved, dropped)"""
        return plan_versions(current_actor(), plan_id)


@blp.route("/care-orders/slots")
class BookingSlots(MethodView):
    @require_role("patient")
    @blp.arguments(rs.SlotQueryArgs, location="query")
    @blp.response(200, rs.SlotSchema(many=True))
    @blp.alt_response(404, description="Not your address")
    def get(self, args: dict) -> Any:
        """The day's windows for a visit at your address, each marked available when the plan can still keep it"""
        return offered_slots(current_actor(), service_code=args["service_code"], address_id=args["address_id"],
                             date=args["date"])


# --- steering the current plan by hand (dispatch/steering.py) ---------------------------------------

@blp.route("/dispatch/plans/<int:plan_id>/tasks/<int:order_id>/pin")
class PinTask(MethodView):
    @unit_of_work
    @require_role(*MANAGERS)
    @blp.arguments(steering_schemas.SteerToWorkerArgs)
    @blp.response(200, rs.PlanVersionSchema)
    @blp.alt_response(404, description="No such plan, or the order is not in it")
    @blp.alt_response(409, description="The plan is not current, not finished, or the district is being re-planned")
    def post(self, args: dict, plan_id: int, order_id: int) -> Any:
        """Pin a task to a worker: onto their route at its cheapest feasible place, kept there through
        re-plans even when the plan allows reassignment; a place no rule allows is 422 naming worker_id"""
        return steering.pin_task(current_actor(), plan_id, order_id, worker_id=args["worker_id"])


@blp.route("/dispatch/plans/<int:plan_id>/tasks/<int:order_id>/move")
class MoveTask(MethodView):
    @unit_of_work
    @require_role(*MANAGERS)
    @blp.arguments(steering_schemas.SteerToWorkerArgs)
    @blp.response(200, rs.PlanVersionSchema)
    @blp.alt_response(404, description="No such plan, or the order is not in it")
    @blp.alt_response(409, description="The plan is not current, not finished, or the district is being re-planned")
    def post(self, args: dict, plan_id: int, order_id: int) -> Any:
        """Move a task onto another worker's route (its cheapest feasible place); a place no rule allows
        is 422 naming worker_id"""
        return steering.move_task(current_actor(), plan_id, order_id, worker_id=args["worker_id"])


@blp.route("/dispatch/plans/<int:plan_id>/tasks/<int:order_id>/unassign")
class UnassignTask(MethodView):
    @unit_of_work
    @require_role(*MANAGERS)
    @blp.response(200, rs.PlanVersionSchema)
    @blp.alt_response(404, description="No such plan, or the order is not in it")
    @blp.alt_response(409, description="The task is on no route, or the plan is not current")
    def post(self, plan_id: int, order_id: int) -> Any:
        """Take a task off its route: back to accepted (or ready), listed as unassigned_by_dispatcher"""
        return steering.unassign_task(current_actor(), plan_id, order_id)
