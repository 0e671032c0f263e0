"""A dispatcher steers the current plan over HTTP: move, pin and unassign a task.

Nurse Li serves every district, nurse Zhou only Nankai; patient Liu lives in Nankai (either
nurse), patient Wang in Heping (only Li). Each change is a new revision of the plan, through
the re-planning rules; a change no rule allows is a 422 naming ``worker_id`` and changes nothing.
"""
from __future__ import annotations

from dispatch.models import Plan, PlanVersion
from dispatch.replan import replan_district
from doorstep.db import session
from tests.dispatch.service_helpers import (
    accepted_visit,
    planned_day,
    routes_by_worker,
    status_of,
)
from tests.factories import SERVICE_DATE


def _worker_of(plan_id: int, order_id: int) -> int | None:
    return next((w for w, orders in routes_by_worker(plan_id).items() if order_id in orders), None)


def test_move_pin_and_unassign_change_the_routes_as_new_revisions(client, personas, hospital) -> None:
    hospital(max_open_care_orders=10)
    visit = accepted_visit(personas, patient="patient_liu", window=("09:00", "12:00"))
    plan_id = planned_day(personas)
    li, zhou = personas["nurse_li"]["worker_id"], personas["nurse_zhou"]["worker_id"]
    headers = personas.headers("dispatcher_sun")
    url = f"/api/v1/dispatch/plans/{plan_id}/tasks/{visit}"
    first = _worker_of(plan_id, visit)
    other = zhou if first == li else li

    moved = client.post(f"{url}/move", json={"worker_id": other}, headers=headers)
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["diff"]["moved"] == [{"order_id": visit, "from_worker_id": first,
                                                  "to_worker_id": other}]
    assert moved.get_json()["kind"] == "steering" and moved.get_json()["revision"] == 1
    assert _worker_of(plan_id, visit) == other and status_of(visit) == "scheduled"
    again = client.post(f"{url}/move", json={"worker_id": other}, headers=headers)
    assert again.status_code == 409  # on that route already

    pinned = client.post(f"{url}/pin", json={"worker_id": first}, headers=headers)
    assert pinned.status_code == 200, pinned.get_json()
    assert _worker_of(plan_id, visit) == first
    session.expire_all()
    assert session.get(Plan, plan_id).summary["pins"] == {str(visit): first}

    # A re-plan that allows reassignment keeps the pinned task with its worker.
    plan = session.get(Plan, plan_id)
    plan.allow_reassign = True
    session.commit()
    replan_district("nankai", SERVICE_DATE, "manual:test-pins")
    assert _worker_of(plan_id, visit) == first

    off = client.post(f"{url}/unassign", headers=headers)
    assert off.status_code == 200, off.get_json()
    assert off.get_json()["diff"]["dropped"][0]["reason"] == "unassigned_by_dispatcher"
    assert _worker_of(plan_id, visit) is None and status_of(visit) == "accepted"
    session.expire_all()
    plan = session.get(Plan, plan_id)
    assert [u["reason"] for u in plan.unassigned if u["order_id"] == visit] == ["unassigned_by_dispatcher"]
    assert plan.summary["pins"] == {}
    assert client.post(f"{url}/unassign", headers=headers).status_code == 409  # on no route now


def test_a_place_no_rule_allows_is_422_naming_worker_id_and_changes_nothing(client, personas) -> None:
    visit = accepted_visit(personas, patient="patient_wang")  # Heping: nurse Zhou does not serve it
    plan_id = planned_day(personas)
    zhou = personas["nurse_zhou"]["worker_id"]
    headers = personas.headers("dispatcher_sun")
    before = routes_by_worker(plan_id)

    response = client.post(f"/api/v1/dispatch/plans/{plan_id}/tasks/{visit}/pin", json={"worker_id": zhou},
                           headers=headers)
    assert response.status_code == 422
    assert "worker_id" in response.get_json()["errors"]
    missing = client.post(f"/api/v1/dispatch/plans/{plan_id}/tasks/{visit}/move",
                          json={"worker_id": 999999}, headers=headers)
    assert missing.status_code == 422 and "worker_id" in missing.get_json()["errors"]
    assert client.post(f"/api/v1/dispatch/plans/{plan_id}/tasks/{visit}/move", json={},
                       headers=headers).status_code == 422
    assert routes_by_worker(plan_id) == before and status_of(visit) == "scheduled"
    assert session.query(PlanVersion).count() == 0


def test_other_plans_orders_and_roles_get_404_or_403(client, personas) -> None:
    visit = accepted_visit(personas, patient="patient_liu")
    plan_id = planned_day(personas)
    li = personas["nurse_li"]["worker_id"]
    body = {"worker_id": li}
    headers = personas.headers("dispatcher_sun")
    assert client.post(f"/api/v1/dispatch/plans/999999/tasks/{visit}/pin", json=body,
                       headers=headers).status_code == 404
    assert client.post(f"/api/v1/dispatch/plans/{plan_id}/tasks/999999/move", json=body,
                       headers=headers).status_code == 404
    for persona in ("nurse_li", "patient_liu", "pharmacist_chen", "courier_zhao"):
        response = client.post(f"/api/v1/dispatch/plans/{plan_id}/tasks/{visit}/unassign",
                               headers=personas.headers(persona))
        assert response.status_code in (403, 404), persona
    assert status_of(visit) == "scheduled"
