"""Who sees and cancels which order: theirs is 200, anyone else's is 404, the wrong role is 403."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from tests.factories import BINJIANG_DAO, iso
from tests.orders.helpers import assert_problem


def ids_of(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return {order["id"] for order in response.get_json()}


@pytest.fixture
def mix(orders):  # type: ignore[no-untyped-def]
    """wang: a visit and a heping parcel; liu: a visit and a nankai parcel."""
    return {"wang_visit": orders.care_id("patient_wang"), "liu_visit": orders.care_id("patient_liu"),
            "wang_parcel": orders.delivery_id("pharmacist_chen", "patient_wang", ref="RX-1"),
            "liu_parcel": orders.delivery_id("pharmacist_gao", "patient_liu", ref="RX-2")}


def test_the_owner_reads_an_order_with_its_history_and_the_read_is_audited(orders, mix, personas) -> None:  # type: ignore[no-untyped-def]
    response = orders.get(mix["wang_parcel"], "patient_wang")
    assert response.status_code == 200
    order = response.get_json()
    assert order["kind"] == "delivery" and order["tracking_code"] and order["items"]
    assert "service_code" not in order and len(order["history"]) == 1
    care = orders.get(mix["wang_visit"], "patient_wang").get_json()
    assert care["service_code"] and "tracking_code" not in care and "items" not in care
    reads = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "order", AuditEntry.action == "read")))
    assert {(r.entity_id, r.actor_user_id) for r in reads} == {
        (str(mix["wang_parcel"]), personas["patient_wang"]["user_id"]),
        (str(mix["wang_visit"]), personas["patient_wang"]["user_id"])}


def test_each_role_lists_only_its_own_orders(client, personas, mix) -> None:  # type: ignore[no-untyped-def]
    def listed(who: str) -> set[int]:
        return ids_of(client.get("/api/v1/orders", headers=personas.headers(who)))

    assert listed("patient_wang") == {mix["wang_visit"], mix["wang_parcel"]}
    assert listed("patient_liu") == {mix["liu_visit"], mix["liu_parcel"]}
    assert listed("pharmacist_chen") == {mix["wang_parcel"]}
    assert listed("pharmacist_gao") == {mix["liu_parcel"]}
    assert listed("courier_zhao") == set() and listed("nurse_zhou") == set()
    assert listed("dispatcher_sun") == listed("admin_root") == set(mix.values())


def test_a_worker_sees_the_orders_on_their_stops_and_no_others(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.plan_stop(mix["liu_visit"], "nurse_zhou")
    orders.plan_stop(mix["wang_parcel"], "courier_zhao", stop_type="dropoff")
    assert ids_of(client.get("/api/v1/orders", headers=personas.headers("nurse_zhou"))) == {mix["liu_visit"]}
    assert ids_of(client.get("/api/v1/orders", headers=personas.headers("courier_zhao"))) == {mix["wang_parcel"]}
    assert orders.get(mix["liu_visit"], "nurse_zhou").status_code == 200
    assert orders.get(mix["wang_parcel"], "courier_zhao").status_code == 200
    assert_problem(orders.get(mix["wang_visit"], "nurse_zhou"), 404)
    assert_problem(orders.get(mix["liu_parcel"], "courier_zhao"), 404)


def test_someone_elses_order_is_404_on_every_orders_endpoint(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    wang_visit, wang_parcel = mix["wang_visit"], mix["wang_parcel"]
    liu = personas.headers("patient_liu")
    assert_problem(orders.get(wang_visit, "patient_liu"), 404)
    assert_problem(client.post(f"/api/v1/orders/{wang_visit}/cancel", json={}, headers=liu), 404)
    assert_problem(client.get(f"/api/v1/orders/{wang_visit}/tracking", headers=liu), 404)
    assert_problem(client.get(f"/api/v1/orders/{wang_parcel}/tracking", headers=liu), 404)
    gao = personas.headers("pharmacist_gao")
    assert_problem(orders.get(wang_parcel, "pharmacist_gao"), 404)
    assert_problem(orders.get(wang_visit, "pharmacist_gao"), 404)
    assert_problem(client.post(f"/api/v1/orders/{wang_parcel}/cancel", json={}, headers=gao), 404)
    assert_problem(client.post(f"/api/v1/delivery-orders/{wang_parcel}/review", json={"approved": True},
                               headers=gao), 404)
    assert_problem(orders.get(wang_parcel, "nurse_li"), 404)
    assert_problem(client.post(f"/api/v1/care-orders/{wang_parcel}/triage", json={"accepted": True},
                               headers=personas.headers("nurse_li")), 404)
    assert_problem(orders.get(wang_visit, "courier_zhao"), 404)
    assert orders.status(wang_visit) == "requested" and orders.status(wang_parcel) == "awaiting_review"


def test_a_missing_id_looks_exactly_like_someone_elses(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    missing = orders.get(999_999, "patient_liu").get_json()
    foreign = orders.get(mix["wang_visit"], "patient_liu").get_json()
    assert {k: v for k, v in missing.items() if k != "detail"} == {k: v for k, v in foreign.items() if k != "detail"}
    assert_problem(orders.get(999_999, "dispatcher_sun"), 404)


WRONG_ROLES = [
    ("post", "/api/v1/care-orders", ("nurse_li", "pharmacist_chen", "dispatcher_sun", "admin_root", "courier_zhao")),
    ("post", "/api/v1/delivery-orders", ("patient_wang", "nurse_li", "dispatcher_sun", "admin_root")),
    ("post", "/api/v1/care-orders/{visit}/triage", ("patient_wang", "pharmacist_chen", "courier_zhao", "admin_root")),
    ("post", "/api/v1/delivery-orders/{parcel}/review", ("patient_wang", "nurse_li", "dispatcher_sun", "admin_root")),
    ("post", "/api/v1/orders/{visit}/cancel", ("nurse_li", "courier_zhao", "admin_root")),
    ("get", "/api/v1/orders/{visit}/tracking", ("nurse_li", "dispatcher_sun", "admin_root", "pharmacist_chen")),
    ("get", "/api/v1/pharmacies", ("patient_wang", "nurse_li", "courier_zhao")),
    ("post", "/api/v1/pharmacies", ("dispatcher_sun", "pharmacist_chen", "patient_wang")),
    ("patch", "/api/v1/pharmacies/{pharmacy}", ("dispatcher_sun", "pharmacist_chen", "nurse_li")),
]


@pytest.mark.parametrize(("method", "path", "who"), WRONG_ROLES, ids=[f"{m} {p}" for m, p, _ in WRONG_ROLES])
def test_the_wrong_role_is_403_and_changes_nothing(client, orders, personas, mix, method, path, who) -> None:  # type: ignore[no-untyped-def]
    url = path.format(visit=mix["wang_visit"], parcel=mix["wang_parcel"], pharmacy=personas["pharmacy"]["heping"])
    body = {"accepted": True, "approved": True} if url.endswith(("triage", "review")) else {}
    if url.endswith("/cancel"):
        body = {}
    for persona in who:
        kwargs = {"json": body} if method != "get" else {}
        response = getattr(client, method)(url, headers=personas.headers(persona), **kwargs)
        assert_problem(response, 403)
    assert orders.status(mix["wang_visit"]) == "requested" and orders.status(mix["wang_parcel"]) == "awaiting_review"


def test_the_list_filters_by_kind_status_date_and_district_newest_first(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    later = orders.care_id("patient_liu", service_code="oral_care", start="09:00", end="10:00")
    client.post(f"/api/v1/care-orders/{later}/triage", json={"accepted": True}, headers=personas.headers("nurse_li"))
    other_day = client.post("/api/v1/care-orders", headers=personas.headers("patient_wang"), json={
        "service_code": "bed_bath", "address_id": personas["patient_wang"]["address_id"],
        "window": {"start": iso("09:00", "2026-11-24"), "end": iso("12:00", "2026-11-24")}}).get_json()["id"]
    headers = personas.headers("dispatcher_sun")

    def listed(query: str) -> list[int]:
        response = client.get(f"/api/v1/orders?{query}", headers=headers)
        assert response.status_code == 200, response.get_json()
        return [order["id"] for order in response.get_json()]

    assert listed("kind=care") == [other_day, later, mix["liu_visit"], mix["wang_visit"]]
    assert listed("kind=delivery") == [mix["liu_parcel"], mix["wang_parcel"]]
    assert listed("status=accepted") == [later]
    assert listed("date=2026-11-24") == [other_day]
    assert listed("district=nankai&kind=care") == [later, mix["liu_visit"]]
    assert listed("district=hexi") == []


def test_the_list_is_paginated(client, personas, mix) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/orders?page=2&page_size=3", headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 200, response.get_json()
    assert [o["id"] for o in response.get_json()] == [mix["wang_visit"]]
    assert '"total": 4' in response.headers["X-Pagination"]
    assert_problem(client.get("/api/v1/orders?page_size=201", headers=personas.headers("dispatcher_sun")), 422,
                   "query.page_size")


# Cancelling ---------------------------------------------------------------------------------

def cancel(client, personas, order_id, who, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/orders/{order_id}/cancel", json=body, headers=personas.headers(who))


def test_a_patient_cancels_before_the_nurse_is_on_the_way_and_the_reason_is_kept(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.move(mix["wang_visit"], "accepted", "scheduled")
    response = cancel(client, personas, mix["wang_visit"], "patient_wang", reason="Feeling better")
    assert response.status_code == 200, response.get_json()
    last = response.get_json()["history"][-1]
    assert response.get_json()["status"] == "cancelled"
    assert (last["from"], last["to"], last["by"], last["reason"]) == (
        "scheduled", "cancelled", personas["patient_wang"]["user_id"], "Feeling better")


def test_a_patient_cannot_cancel_once_the_nurse_is_on_the_way(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.move(mix["wang_visit"], "accepted", "scheduled", "en_route")
    history = orders.history_count(mix["wang_visit"])
    assert_problem(cancel(client, personas, mix["wang_visit"], "patient_wang"), 409)
    assert orders.status(mix["wang_visit"]) == "en_route" and orders.history_count(mix["wang_visit"]) == history


def test_a_patient_cannot_cancel_a_parcel_that_has_left_the_pharmacy(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.move(mix["wang_parcel"], "ready", "scheduled", "picked_up")
    assert_problem(cancel(client, personas, mix["wang_parcel"], "patient_wang"), 409)
    assert orders.status(mix["wang_parcel"]) == "picked_up"


def test_a_dispatcher_cancels_a_visit_even_en_route(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.move(mix["liu_visit"], "accepted", "scheduled", "en_route")
    response = cancel(client, personas, mix["liu_visit"], "dispatcher_sun", reason="Nurse's car broke down")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert response.get_json()["history"][-1]["by"] == personas["dispatcher_sun"]["user_id"]


def test_cancelling_a_final_order_is_a_409_that_changes_nothing(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    orders.move(mix["liu_visit"], "accepted", "scheduled", "en_route", "in_progress", "completed")
    before = orders.get(mix["liu_visit"], "dispatcher_sun").get_json()
    assert_problem(cancel(client, personas, mix["liu_visit"], "dispatcher_sun"), 409)
    assert_problem(cancel(client, personas, mix["liu_visit"], "patient_liu"), 409)
    after = orders.get(mix["liu_visit"], "dispatcher_sun").get_json()
    assert after["status"] == "completed" and after["history"] == before["history"]


def test_a_pharmacist_cancels_their_pharmacys_parcel_but_sees_no_visit(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    response = cancel(client, personas, mix["wang_parcel"], "pharmacist_chen", reason="Out of stock")
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    assert_problem(cancel(client, personas, mix["wang_visit"], "pharmacist_chen"), 404)


def test_a_cancel_without_a_body_is_accepted(client, orders, personas, mix) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/orders/{mix['wang_visit']}/cancel", headers=personas.headers("patient_wang"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["history"][-1]["reason"] is None


def test_a_new_address_is_usable_for_the_next_order(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    address = client.post("/api/v1/patients/me/addresses", headers=personas.headers("patient_liu"),
                          json={"label": "son", "line": "x", "lat": BINJIANG_DAO[0], "lon": BINJIANG_DAO[1]})
    response = orders.care("patient_liu", address_id=address.get_json()["id"])
    assert response.status_code == 201 and response.get_json()["district"] == "heping"
