"""Every endpoint that creates something honours ``Idempotency-Key``, walked from the OpenAPI document.

A create is a POST whose documented success is 201 or 202. For each one the walk
sends a valid request twice under one key (the second answer is the first,
replayed, and nothing new is created), then another body under the same key (422
naming ``Idempotency-Key``). A new creating endpoint fails this test until it has
a recipe below: that is the point.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from doorstep.db import Base, session
from tests.factories import BINJIANG_DAO, iso
from tests.orders.helpers import assert_problem

# POSTs with 201/202 that act on something existing and create nothing a retry could duplicate.
NOT_CREATES = {
    ("POST", "/api/v1/webhooks/dead-letters/{delivery_id}/replay"),  # re-queues an existing delivery
}
# Multipart uploads: a client's retry sends a new multipart boundary, so the bytes (and the body's
# hash) differ; a retried upload stores a second file that no delivery names, which is harmless.
NOT_CREATES |= {("POST", "/api/v1/mobile/stops/{stop_id}/proof")}
# POSTs that write nothing at all, so have no transaction to keep an answer in.
WRITE_NOTHING = {
    "/api/v1/dispatch/solve",  # the optimiser on the caller's own problem
    "/api/v1/dispatch/events/token",  # a 60-second token for the live feed, stored nowhere
}
NOT_CREATES |= {("POST", path) for path in WRITE_NOTHING}
# A position ping is kept in Redis under (worker, at) without a database transaction: sent twice,
# it is stored once, so it needs no Idempotency-Key (and the key's record would cost a transaction).
NATURALLY_IDEMPOTENT = {"/api/v1/mobile/location"}


def _stop_url(orders: Any) -> str:
    visit = orders.care_id("patient_liu")
    orders.move(visit, "accepted", "scheduled")
    return f"/api/v1/mobile/stops/{orders.plan_stop(visit, 'nurse_li').id}/events"


def _corrections_url(orders: Any) -> str:
    """A visit of nurse_li's already checked in (a correction needs the report it corrects)."""
    url = _stop_url(orders)
    checked_in = orders.client.post(url, json={"type": "arrive", "at": iso("07:00", "2026-11-20"),
                                               "lat": BINJIANG_DAO[0], "lon": BINJIANG_DAO[1]},
                                     headers=orders.personas.headers("nurse_li"))
    assert checked_in.status_code == 201, checked_in.get_json()
    return url.replace("/events", "/corrections")


def _completed_visit_rating_url(orders: Any) -> str:
    visit = orders.care_id("patient_liu")
    orders.move(visit, "accepted", "scheduled", "en_route", "in_progress", "completed")
    return f"/api/v1/orders/{visit}/rating"


def _planned_day_replans_url(orders: Any) -> str:
    """A finished plan of the day covering Heping: what a re-plan starts from."""
    visit = orders.care_id("patient_liu")
    orders.move(visit, "accepted", "scheduled")
    orders.plan_stop(visit, "nurse_li")
    return "/api/v1/dispatch/replans"


def _requested_visit_url(orders: Any) -> str:
    return f"/api/v1/care-orders/{orders.care_id('patient_liu')}/questions"


# path -> (persona, url from the orders helper, body, another body)
Recipe = tuple[str, Callable[[Any], str], dict[str, Any], dict[str, Any]]


def recipes(personas: Any) -> dict[str, Recipe]:
    wang = personas["patient_wang"]
    point = {"lat": BINJIANG_DAO[0], "lon": BINJIANG_DAO[1]}
    window = {"start": iso("09:00"), "end": iso("11:00")}
    return {
        "/api/v1/users": ("admin_root", lambda o: "/api/v1/users",
                          {"username": "dispatcher_two", "password": "long-enough-pw", "role": "dispatcher"},
                          {"username": "dispatcher_three", "password": "long-enough-pw", "role": "dispatcher"}),
        "/api/v1/catalogue/services": (
            "admin_root", lambda o: "/api/v1/catalogue/services",
            {"code": "ear_care", "name": "Ear care", "name_zh": "耳部护理", "category": "basic", "skills": [],
             "duration_minutes": 30, "price_fen": 5000},
            {"code": "eye_care", "name": "Eye care", "name_zh": "眼部护理", "category": "basic", "skills": [],
             "duration_minutes": 30, "price_fen": 5000}),
        "/api/v1/patients/me/addresses": ("patient_wang", lambda o: "/api/v1/patients/me/addresses",
                                          {"label": "office", "line": "Nanjing Road 1", **point},
                                          {"label": "gym", "line": "Nanjing Road 2", **point}),
        "/api/v1/care-orders": ("patient_wang", lambda o: "/api/v1/care-orders",
                                {"service_code": "wound_dressing_change", "address_id": wang["address_id"],
                                 "window": window},
                                {"service_code": "oral_care", "address_id": wang["address_id"], "window": window}),
        "/api/v1/care-orders/series": (
            "patient_wang", lambda o: "/api/v1/care-orders/series",
            {"service_code": "picc_maintenance", "address_id": wang["address_id"],
             "first_window": {"start": iso("09:00"), "end": iso("10:00")}, "every_days": 7, "count": 6},
            {"service_code": "picc_maintenance", "address_id": wang["address_id"],
             "first_window": {"start": iso("09:00"), "end": iso("10:00")}, "every_days": 7, "count": 4}),
        "/api/v1/care-orders/{order_id}/questions": ("nurse_li", _requested_visit_url, {"text": "Any fever?"},
                                                     {"text": "Any pain?"}),
        "/api/v1/delivery-orders": (
            "pharmacist_chen", lambda o: "/api/v1/delivery-orders",
            {"prescription_ref": "RX-IDEM", "patient_id": wang["patient_id"], "address_id": wang["address_id"],
             "items": [{"name": "Metformin 500 mg", "quantity": 2}], "cold_chain": False},
            {"prescription_ref": "RX-IDEM-2", "patient_id": wang["patient_id"], "address_id": wang["address_id"],
             "items": [{"name": "Metformin 500 mg", "quantity": 2}], "cold_chain": False}),
        "/api/v1/pharmacies": ("admin_root", lambda o: "/api/v1/pharmacies", {"name": "Hexi Pharmacy", **point},
                               {"name": "Hebei Pharmacy", **point}),
        "/api/v1/workers": ("admin_root", lambda o: "/api/v1/workers",
                            {"kind": "courier", "name": "Qian Bo", "districts": ["heping"], "home": point},
                            {"kind": "courier", "name": "Sun Yu", "districts": ["heping"], "home": point}),
        "/api/v1/dispatch/plans": ("dispatcher_sun", lambda o: "/api/v1/dispatch/plans",
                                   {"date": "2026-11-23"}, {"date": "2026-11-24"}),
        "/api/v1/mobile/stops/{stop_id}/events": (
            "nurse_li", _stop_url, {"type": "depart", "at": iso("09:30"), **point},
            {"type": "depart", "at": iso("09:31"), **point}),
        "/api/v1/mobile/stops/{stop_id}/corrections": (
            "nurse_li", _corrections_url, {"event": "arrive", "at": iso("06:55", "2026-11-20"), "reason": "GPS late"},
            {"event": "arrive", "at": iso("06:50", "2026-11-20"), "reason": "GPS late"}),
        "/api/v1/mobile/sos": ("nurse_li", lambda o: "/api/v1/mobile/sos", {**point, "note": "Dog at the door"},
                               {**point, "note": "Fell on the stairs"}),
        "/api/v1/orders/{order_id}/rating": ("patient_liu", _completed_visit_rating_url, {"stars": 5},
                                             {"stars": 4, "comment": "On time"}),
        "/api/v1/workers/{worker_id}/off": (
            "dispatcher_sun", lambda o: f"/api/v1/workers/{personas['nurse_zhou']['worker_id']}/off",
            {"date": "2026-11-23", "reason": "sick"}, {"date": "2026-11-24", "reason": "sick"}),
        "/api/v1/dispatch/replans": ("dispatcher_sun", _planned_day_replans_url,
                                     {"date": "2026-11-23", "district": "heping"},
                                     {"date": "2026-11-23", "district": "heping", "allow_reassign": True}),
        "/api/v1/webhooks": ("admin_root", lambda o: "/api/v1/webhooks",
                             {"url": "https://93.184.216.34/hooks/a", "secret": "s3cret-s3cret-s3cret",
                              "events": ["order.created"]},
                             {"url": "https://93.184.216.34/hooks/b", "secret": "s3cret-s3cret-s3cret",
                              "events": ["order.created"]}),
    }


def creating_operations(client: Any) -> dict[str, str]:
    """``{path: documented success status}`` of every POST that answers 201 or 202."""
    spec = client.get("/api/v1/openapi.json").get_json()
    found = {}
    for path, operations in spec["paths"].items():
        post = operations.get("post")
        created = [code for code in ("201", "202") if post and code in post["responses"]]
        if created and ("POST", path) not in NOT_CREATES:
            found[path] = created[0]
    return found


def row_counts() -> dict[str, int]:
    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables if table.name not in ("idempotency_keys", "audit_log")}


def test_every_creating_endpoint_has_a_recipe_here(client, personas) -> None:  # type: ignore[no-untyped-def]
    assert set(creating_operations(client)) - set(recipes(personas)) == set()


def test_every_post_view_is_wrapped_in_the_unit_of_work_that_honours_the_key(app, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    rules = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule): rule for rule in app.url_map.iter_rules()}
    missing = []
    for path, operations in spec["paths"].items():
        if ("post" not in operations or path.startswith("/api/v1/auth/") or path in WRITE_NOTHING
                or path in NATURALLY_IDEMPOTENT):
            continue  # signing in creates no resource and has no account to key the record to
        view = app.view_functions[rules[path].endpoint]
        if not getattr(view.view_class.post, "honours_idempotency_key", False):
            missing.append(path)
    assert missing == []


def test_each_create_replays_its_first_answer_and_refuses_another_body_under_the_same_key(
        client, personas, orders, hospital) -> None:  # type: ignore[no-untyped-def]
    hospital(max_open_care_orders=20)  # the walk books more visits than a patient may hold open
    documented = creating_operations(client)
    for path, (who, url_of, body, other) in recipes(personas).items():
        if path not in documented:
            continue  # a recipe ahead of its endpoint
        url = url_of(orders)
        headers = personas.headers(who, **{"Idempotency-Key": f"walk {path}"})
        first = client.post(url, json=body, headers=headers)
        assert str(first.status_code) == documented[path], (path, first.status_code, first.get_json())
        before = row_counts()
        again = client.post(url, json=body, headers=headers)
        assert (again.status_code, again.get_json()) == (first.status_code, first.get_json()), path
        assert again.headers.get("Idempotent-Replayed") == "true", path
        assert row_counts() == before, path
        assert_problem(client.post(url, json=other, headers=headers), 422, "Idempotency-Key")
        assert row_counts() == before, path


def test_a_read_ignores_the_key_and_answers_afresh(client, personas, orders) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("pharmacist_chen", **{"Idempotency-Key": "read-1"})
    first = client.get("/api/v1/orders", headers=headers)
    parcel = orders.delivery_id()
    again = client.get("/api/v1/orders", headers=headers)
    assert [o["id"] for o in first.get_json()] == [] and [o["id"] for o in again.get_json()] == [parcel]
    for _ in range(2):
        label = client.get(f"/api/v1/delivery-orders/{parcel}/label", headers=headers)
        assert label.mimetype == "application/pdf" and label.data.startswith(b"%PDF-")
