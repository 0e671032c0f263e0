"""Dispatch use cases: plan a day, run the optimiser on it, solve a client's problem document.

The only place that translates database rows into a problem document
(``dispatch-problem.md``) and a plan document back into rows. The optimiser
itself (``dispatch.search``) stays pure.

A plan's life: ``request_plan`` (a dispatcher, in the web transaction) adds a
``queued`` row and sends ``dispatch.tasks.solve_plan`` after commit;
``run_plan`` (a Celery worker) claims it (``solving``, committed so the
progress shows), builds and solves the problem, then writes routes and stops
and moves the orders to ``scheduled`` in one transaction (``done``), or
records why it could not (``failed``). Every step is safe to repeat.
Reading plans is ``dispatch.access``; workers are ``dispatch.workers``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from dispatch.models import Plan, Route, Shift, Stop, Worker, WorkerAbsence
from dispatch.qualification import HOME_CARE_QUALIFIED
from dispatch.workers import check_districts, home_care_qualified
from doorstep.auth import Actor
from doorstep.db import enqueue_after_commit, session, utcnow
from doorstep.errors import ValidationFailed
from orders.lifecycle import change_status
from orders.catalogue import required_qualifications
from orders.models import CareOrder, DeliveryOrder, Order
from orders.states import PLANNABLE

log = logging.getLogger("doorstep.dispatch.service")

Progress = Callable[[float, str], None]

# Errors worth another attempt: the database went away or was busy, or an order changed
# under us while saving. Anything else (a bug, bad data, the soft time limit) would fail
# the same way again.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, PoolTimeoutError, StaleDataError)

TRAVEL_MODE = {"nurse": "car", "courier": "ebike"}
COURIER_CAPACITY = {"parcels": 30}
VISIT_PRIORITY, DELIVERY_PRIORITY = 50, 60
PICKUP_S, DROPOFF_S = 120, 180
# POST /dispatch/solve runs inside a web request: stay under gunicorn's 30 s worker timeout.
MAX_SYNC_SOLVE_S = 20
# A queued plan whose message may have been lost is sent again when it is requested again.
RESEND_QUEUED_AFTER = timedelta(seconds=60)


class PlanFailed(Exception):
    """The optimiser returned no plan (e.g. the built problem was refused)."""


@dataclass
class ProblemIndex:
    """How the problem's string ids map back to rows."""

    orders: dict[str, int] = field(default_factory=dict)  # task id -> order id
    workers: dict[str, int] = field(default_factory=dict)  # problem worker id -> worker id
    points: dict[str, tuple[float, float]] = field(default_factory=dict)  # location id -> (lat, lon)


# --- building the day's problem ------------------------------------------------------------

def build_day_problem(date: str | Date, districts: Sequence[str] | None = None, *,
                      extra_orders: Sequence[Order] = (), matrices: bool = True,
                      ) -> tuple[dict[str, Any], ProblemIndex]:
    """The problem document for one local date: plannable orders and the workers on shift.

    Orders: care orders ``accepted`` and delivery orders ``ready`` whose service
    date is ``date`` (and district in ``districts``, if given), then
    ``extra_orders`` (live re-planning adds the scheduled ones). Workers: active,
    with a shift overlapping that local day, serving one of ``districts``, and
    not off that day (``WorkerAbsence``). Each shift of the day is a problem
    worker of its own (a split shift is two). Matrices are computed here, per
    worker kind, so the plan's times are exact; ``matrices=False`` leaves them to
    the caller, who adds locations first (``add_matrices``).
    """
    day = local_date(date)
    tz = _tz()
    day_start = datetime.fromisoformat(day).replace(tzinfo=tz)
    day_end = day_start + timedelta(days=1)
    wanted = set(districts) if districts else None
    index = ProblemIndex()
    locations: list[dict[str, Any]] = []

    def place(loc_id: str, lat: float, lon: float) -> str:
        if loc_id not in index.points:
            index.points[loc_id] = (lat, lon)
            locations.append({"id": loc_id, "lat": lat, "lon": lon})
        return loc_id

    workers_doc = []
    for worker in _workers_on_shift(day_start, day_end, wanted, day):
        home = place(f"home-{worker.id}", worker.home_lat, worker.home_lon)
        # Home visits only for nurses the hospital's rules allow, judged on the planned day.
        skills = [s for s in worker.skills if s != HOME_CARE_QUALIFIED]
        if home_care_qualified(worker, day_start.date()):
            skills.append(HOME_CARE_QUALIFIED)
        shifts = [s for s in worker.shifts if s.start < day_end and s.end > day_start]
        for n, shift in enumerate(shifts):
            wid = f"{worker.kind}-{worker.id}" + (f"-{n + 1}" if n else "")
            index.workers[wid] = worker.id
            entry: dict[str, Any] = {"id": wid, "kind": worker.kind, "skills": list(skills),
                                     "districts": list(worker.districts), "start": home, "end": home,
                                     "shift": [_iso(shift.start, tz), _iso(shift.end, tz)]}
            capacity = {**COURIER_CAPACITY, **(worker.capacity or {})} if worker.kind == "courier" else worker.capacity
            if capacity:
                entry["capacity"] = capacity
            workers_doc.append(entry)

    tasks = []
    orders = _plannable_orders(day, wanted)
    known = {o.id for o in orders}
    orders += [o for o in extra_orders if o.id not in known]
    qualification = required_qualifications(o.service_code for o in orders if isinstance(o, CareOrder))
    for order in orders:
        address = place(f"address-{order.address_id}", order.address.lat, order.address.lon)
        windows = ([[_iso(order.window_start, tz), _iso(order.window_end, tz)]]
                   if order.window_start and order.window_end else None)
        if isinstance(order, CareOrder):
            # Every visit needs a home-care-qualified nurse, and the item's own qualification.
            needs = [*order.skills, HOME_CARE_QUALIFIED, qualification.get(order.service_code, HOME_CARE_QUALIFIED)]
            task: dict[str, Any] = {"id": f"visit-{order.id}", "kind": "visit", "location": address,
                                    "district": order.district, "skills": list(dict.fromkeys(needs)),
                                    "duration": order.duration_minutes * 60, "priority": VISIT_PRIORITY}
            if windows:
                task["windows"] = windows
        else:
            pharmacy = order.pharmacy
            dropoff: dict[str, Any] = {"location": address, "duration": DROPOFF_S}
            if windows:
                dropoff["windows"] = windows
            task = {"id": f"delivery-{order.id}", "kind": "delivery", "district": order.district,
                    "pickup": {"location": place(f"pharmacy-{pharmacy.id}", pharmacy.lat, pharmacy.lon),
                               "duration": PICKUP_S},
                    "dropoff": dropoff, "load": {"parcels": 1}, "priority": DELIVERY_PRIORITY}
            if order.cold_chain:
                # The longest time out of the fridge: the order's own, else the hospital's setting.
                minutes = order.max_out_of_fridge_minutes or _settings().cold_chain_max_minutes
                task.update(skills=["cold_chain"], max_ride=minutes * 60)
        index.orders[task["id"]] = order.id
        tasks.append(task)

    doc: dict[str, Any] = {"version": 1, "locations": locations, "workers": workers_doc, "tasks": tasks,
                           "options": {"time_limit": _settings().solver_time_limit_s, "seed": 1}}
    if matrices:
        add_matrices(doc)
    return doc, index


def add_matrices(doc: dict[str, Any]) -> None:
    """Put each worker kind's travel matrix over the document's locations into ``doc``."""
    if doc["locations"]:
        doc["matrices"] = _matrices(doc["locations"], {w["kind"] for w in doc["workers"]})


def _workers_on_shift(day_start: datetime, day_end: datetime, wanted: set[str] | None,
                      day: str | None = None) -> list[Worker]:
    overlapping = select(Shift.worker_id).where(Shift.start < day_end, Shift.end > day_start)
    query = select(Worker).options(selectinload(Worker.shifts)).where(Worker.active.is_(True),
                                                                      Worker.id.in_(overlapping))
    if day is not None:
        query = query.where(Worker.id.not_in(select(WorkerAbsence.worker_id).where(WorkerAbsence.date == day)))
    workers = session.scalars(query.order_by(Worker.id)).all()
    return [w for w in workers if wanted is None or wanted & set(w.districts)]


def _plannable_orders(day: str, wanted: set[str] | None) -> list[Order]:
    found: list[Order] = []
    for cls, kind in ((CareOrder, "care"), (DeliveryOrder, "delivery")):
        query = (select(cls).where(cls.status == PLANNABLE[kind], cls.service_date == day)
                 .options(selectinload(cls.address)).order_by(cls.id))
        if cls is DeliveryOrder:
            query = query.options(selectinload(DeliveryOrder.pharmacy))
        if wanted is not None:
            query = query.where(cls.district.in_(sorted(wanted)))
        found.extend(session.scalars(query.execution_options(populate_existing=True)))
    return found


def _matrices(locations: list[dict[str, Any]], kinds: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each worker kind's tables in its kind's travel mode, by the configured provider and cache."""
    from doorstep.travel import travel

    provider = travel()
    points = [(loc["lat"], loc["lon"]) for loc in locations]
    out = {}
    for kind in sorted(kinds):
        durations, distances = provider.tables(points, TRAVEL_MODE[kind])
        out[kind] = {"durations": durations, "distances": distances}
    return out


# --- requesting and running a plan ----------------------------------------------------------

def request_plan(actor: Actor | None, *, date: str | Date, districts: Sequence[str] | None = None) -> Plan:
    """Queue a plan for ``date`` (and ``districts``), or return the one already queued or solving.

    The Celery task is sent only after the caller's transaction commits, so a
    worker never looks for a plan row that is not there yet.
    """
    day = local_date(date)
    wanted = _districts(districts)
    now = utcnow()
    pending = session.scalars(select(Plan).where(Plan.date == day, Plan.status.in_(("queued", "solving")))
                              .order_by(Plan.id.desc())).all()
    for plan in pending:
        if (plan.districts or None) != wanted:
            continue
        if _abandoned(plan, now):
            plan.status, plan.error, plan.finished_at = "failed", "abandoned: no worker finished it", now
            continue
        if plan.status == "queued" and now - plan.created_at > RESEND_QUEUED_AFTER:
            _send(plan.id)  # the first message may be lost; the task is idempotent
        log.info("event=plan_request_joined plan_id=%s status=%s", plan.id, plan.status)
        return plan
    plan = Plan(date=day, districts=wanted, status="queued", progress=0.0,
                requested_by=actor.user_id if actor else None, created_at=now)
    session.add(plan)
    session.flush()
    _send(plan.id)
    log.info("event=plan_requested plan_id=%s date=%s districts=%s", plan.id, day, ",".join(wanted or ["all"]))
    return plan


def _send(plan_id: int) -> None:
    def send() -> None:
        from dispatch.tasks import solve_plan

        try:
            solve_plan.delay(plan_id)
        except Exception:
            log.exception("event=plan_enqueue_failed plan_id=%s", plan_id)

    enqueue_after_commit(session, send)


def run_plan(plan_id: int, on_progress: Progress | None = None, *, final_attempt: bool = True) -> Plan | None:
    """Solve a queued plan and write its routes; commits. Returns the plan (None if it is gone).

    Idempotent: a plan that is not ``queued`` is returned untouched, except one
    left ``solving`` for longer than the task's hard time limit (its worker
    died), which is solved again. Errors mark the plan ``failed`` with a
    message free of personal data; transient ones (the database) are re-raised
    for Celery to retry, and leave the plan ``queued`` unless this was the
    ``final_attempt``.
    """
    plan, claimed = _claim(plan_id)
    if plan is None or not claimed:
        return plan
    began = utcnow()
    try:
        doc, index = build_day_problem(plan.date, plan.districts)
        session.commit()  # end the read transaction: nothing is held open while solving
        report = _progress_recorder(plan_id, on_progress)
        report(0.0, f"solving {len(doc['tasks'])} tasks for {len(doc['workers'])} workers")
        result = _solve(doc, lambda f, msg: report(0.05 + 0.9 * f, msg))
        if result.get("status") != "solved":
            paths = ", ".join(e.get("path", "?") for e in result.get("errors", [])[:3])
            raise PlanFailed(f"the optimiser refused the built problem at {paths}")
        _save(plan, result, index)
        plan.status, plan.progress, plan.finished_at, plan.error = "done", 1.0, utcnow(), None
        session.commit()
    except Exception as exc:
        session.rollback()
        transient = isinstance(exc, TRANSIENT_ERRORS)
        status = "queued" if transient and not final_attempt else "failed"
        log.warning("event=plan_failed plan_id=%s error=%s transient=%s now=%s", plan_id,
                    type(exc).__name__, transient, status)
        plan = _mark(plan_id, status, _describe(exc)) or plan
        if transient:
            raise
        return plan
    if on_progress is not None:
        on_progress(1.0, "saved")
    log.info("event=plan_done plan_id=%s assigned=%s unassigned=%s seconds=%.1f", plan.id,
             plan.summary.get("assigned"), plan.summary.get("unassigned"), (utcnow() - began).total_seconds())
    return plan


def _claim(plan_id: int) -> tuple[Plan | None, bool]:
    """Move a queued (or abandoned) plan to ``solving`` and commit; the version column makes
    two workers racing for the same plan end with one winner. Returns (plan, claimed)."""
    plan = session.get(Plan, plan_id, populate_existing=True)
    if plan is None:
        log.warning("event=plan_missing plan_id=%s", plan_id)
        return None, False
    now = utcnow()
    if plan.status != "queued" and not _abandoned(plan, now):
        log.info("event=plan_skipped plan_id=%s status=%s", plan_id, plan.status)
        return plan, False
    plan.status, plan.started_at, plan.progress, plan.error = "solving", now, 0.0, None
    plan.routes.clear()
    try:
        session.commit()
    except StaleDataError:
        session.rollback()
        log.info("event=plan_claimed_elsewhere plan_id=%s", plan_id)
        return session.get(Plan, plan_id, populate_existing=True), False
    return plan, True


def _abandoned(plan: Plan, now: datetime) -> bool:
    limit = timedelta(seconds=_settings().task_time_limit_s)
    return plan.status == "solving" and plan.started_at is not None and now - plan.started_at > limit


def _solve(doc: dict[str, Any], on_progress: Progress) -> dict[str, Any]:
    if not doc["tasks"]:
        return {"version": 1, "status": "solved", "routes": [], "unassigned": [],
                "summary": {"assigned": 0, "unassigned": 0, "travel_time": 0, "distance": 0}}
    from dispatch.search import solve_document

    return solve_document(doc, time_limit_s=doc["options"]["time_limit"], seed=1, on_progress=on_progress)


def _progress_recorder(plan_id: int, on_progress: Progress | None) -> Progress:
    """Write ``progress`` through a separate short transaction, so pollers see it move while
    the plan's own transaction is not committed half-way. Not version-checked on purpose."""
    engine = session.get_bind()

    def report(fraction: float, message: str) -> None:
        try:
            with Session(engine) as progress_session, progress_session.begin():
                progress_session.execute(update(Plan.__table__).where(
                    Plan.__table__.c.id == plan_id, Plan.__table__.c.status == "solving")
                    .values(progress=round(fraction, 3)))
        except SQLAlchemyError:
            log.warning("event=plan_progress_not_saved plan_id=%s", plan_id)
        if on_progress is not None:
            on_progress(fraction, message)

    return report


def _save(plan: Plan, result: dict[str, Any], index: ProblemIndex) -> None:
    """Routes, stops, unassigned and summary; routed orders move to ``scheduled``.

    Orders are re-read (and locked, where the database can) first: one cancelled
    while the optimiser ran is left out of its route and listed as unassigned.
    """
    tz = _tz()
    routed = {index.orders[s["task"]] for r in result["routes"] for s in r["stops"] if s.get("task")}
    orders = {o.id: o for o in session.scalars(
        select(Order).where(Order.id.in_(sorted(routed))).with_for_update()
        .execution_options(populate_existing=True))}
    stale = {oid for oid, o in orders.items() if o.status != PLANNABLE[o.kind]} | (routed - set(orders))
    scheduled: list[int] = []
    for r in result["routes"]:
        stops = [s for s in r["stops"] if not s.get("task") or index.orders[s["task"]] not in stale]
        if not any(s.get("task") for s in stops):
            continue
        route = Route(worker_id=index.workers[r["worker"]], travel_time_s=r.get("travel_time", 0),
                      distance_m=r.get("distance", 0), service_time_s=r.get("service_time", 0),
                      waiting_time_s=r.get("waiting_time", 0))
        for sequence, s in enumerate(stops):
            lat, lon = index.points.get(s.get("location") or "", (None, None))
            route.stops.append(Stop(
                sequence=sequence, type=s["type"], order_id=index.orders[s["task"]] if s.get("task") else None,
                lat=lat, lon=lon, arrival=_time(s.get("arrival"), tz), start=_time(s.get("start") or s.get("departure"), tz),
                end=_time(s.get("end") or s.get("departure"), tz)))
        plan.routes.append(route)
        for s in stops:
            if s.get("task") and s["type"] in ("visit", "dropoff"):
                scheduled.append(index.orders[s["task"]])
    for order_id in scheduled:
        change_status(orders[order_id], "scheduled", actor=None, reason=f"plan {plan.id}")
    task_of = {oid: tid for tid, oid in index.orders.items()}
    unassigned = [{"order_id": index.orders.get(u["task"]), "task": u["task"], "reason": u["reason"],
                   "detail": u.get("detail", "")} for u in result["unassigned"]]
    for order_id in sorted(stale):
        status = orders[order_id].status if order_id in orders else "deleted"
        unassigned.append({"order_id": order_id, "task": task_of[order_id],
                           "reason": "cancelled" if status == "cancelled" else "status_changed",
                           "detail": f"the order became {status} while the plan was being solved"})
    plan.unassigned = unassigned
    plan.summary = {**result.get("summary", {}), "assigned": len(scheduled), "unassigned": len(unassigned),
                    "routes": len(plan.routes)}
    session.flush()


def _mark(plan_id: int, status: str, error: str) -> Plan | None:
    try:
        plan = session.get(Plan, plan_id, populate_existing=True)
        if plan is not None:
            plan.status, plan.error = status, error
            plan.finished_at = utcnow() if status == "failed" else None
            session.commit()
        return plan
    except SQLAlchemyError:
        session.rollback()
        log.exception("event=plan_mark_failed plan_id=%s status=%s", plan_id, status)
        return None


def _describe(exc: BaseException) -> str:
    """What went wrong, for the dispatcher, without personal data: database messages can
    quote row values (names, coordinates), so those say only their class."""
    if isinstance(exc, SQLAlchemyError):
        return f"database error ({type(exc).__name__})"
    if type(exc).__name__ == "SoftTimeLimitExceeded":
        return "solving took longer than the task's time limit"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}".rstrip(": ")


# --- the optimiser over HTTP --------------------------------------------------------------

def solve_problem(doc: Any) -> dict[str, Any]:
    """Solve a client's problem document now, within ``MAX_SYNC_SOLVE_S``.

    Raises ``ValidationFailed`` (422) with ``errors`` keyed by JSON path
    (``$.tasks[0].windows[0]``) when the document is not format v1.
    """
    from dispatch.search import solve_document

    if not isinstance(doc, dict):
        raise ValidationFailed("A problem is a JSON object (dispatch-problem.md).", {"$": ["Must be an object."]})
    limit: float = _settings().solver_time_limit_s
    options = doc.get("options")
    asked = options.get("time_limit") if isinstance(options, dict) else None
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked > 0:
        limit = asked
    result = solve_document(doc, time_limit_s=min(limit, MAX_SYNC_SOLVE_S))
    if result.get("status") == "invalid_problem":
        errors: dict[str, list[str]] = {}
        for error in result.get("errors", []):
            errors.setdefault(error["path"], []).append(error["message"])
        raise ValidationFailed("The problem does not follow dispatch-problem.md, version 1.", errors)
    return result


# --- small helpers ------------------------------------------------------------------------

def _settings() -> Any:
    return current_app.config["SETTINGS"]


def _tz() -> ZoneInfo:
    return ZoneInfo(_settings().timezone)


def _iso(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat()


def _time(value: str | None, tz: ZoneInfo) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(tz) if value else None


def local_date(value: str | Date) -> str:
    """``YYYY-MM-DD`` exactly: the form ``Order.service_date`` and ``Plan.date`` store."""
    if isinstance(value, Date):
        return value.isoformat()
    try:
        if isinstance(value, str) and len(value) == 10:
            return Date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise ValidationFailed("The date is not a local date.", {"date": ["A date like 2026-11-23."]})


def _districts(districts: Sequence[str] | None) -> list[str] | None:
    if not districts:
        return None
    errors = check_districts(districts)
    if errors:
        raise ValidationFailed("Unknown districts: " + ", ".join(sorted(errors)), errors)
    return sorted(set(districts))

