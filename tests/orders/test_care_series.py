"""Recurring visits: a series of care orders booked at once, triaged once, cancelled as a whole."""
from __future__ import annotations

from sqlalchemy import func, select

from doorstep.db import session
from orders.models import CareOrder, CareSeries
from tests.factories import iso
from tests.orders.helpers import assert_problem

SERIES = "/api/v1/care-orders/series"


def body(personas, patient="patient_wang", **changes):  # type: ignore[no-untyped-def]
    return {"service_code": "picc_maintenance", "address_id": personas[patient]["address_id"],
            "first_window": {"start": iso("09:00"), "end": iso("10:00")}, "every_days": 7, "count": 6,
            "notes": "PICC weekly", **changes}


def book(client, personas, patient="patient_wang", headers=None, **changes):  # type: ignore[no-untyped-def]
    return client.post(SERIES, json=body(personas, patient, **changes),
                       headers=headers or personas.headers(patient))


def counts() -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(CareSeries)),
            session.scalar(select(func.count()).select_from(CareOrder)))


def test_picc_maintenance_weekly_for_six_weeks_is_six_visits_at_the_same_time(client, personas) -> None:  # type: ignore[no-untyped-def]
    response = book(client, personas)
    assert response.status_code == 201, response.get_json()
    series = response.get_json()
    assert (series["service_code"], series["every_days"], series["count"]) == ("picc_maintenance", 7, 6)
    visits = series["orders"]
    assert [v["window"]["start"] for v in visits] == [
        f"{day}T09:00:00+08:00" for day in ("2026-11-23", "2026-11-30", "2026-12-07", "2026-12-14",
                                            "2026-12-21", "2026-12-28")]  # the last two beyond the horizon
    assert all(v["window"]["end"].endswith("T10:00:00+08:00") for v in visits)
    assert [v["series_sequence"] for v in visits] == [1, 2, 3, 4, 5, 6]
    assert {(v["status"], v["series_id"], v["notes"], v["price_fen"]) for v in visits} == {
        ("requested", series["id"], "PICC weekly", 26000)}
    assert counts() == (1, 6)
    one = client.get(f"/api/v1/orders/{visits[2]['id']}", headers=personas.headers("patient_wang")).get_json()
    assert one["series_id"] == series["id"] and [h["to"] for h in one["history"]] == ["requested"]


def test_a_repeated_request_with_the_same_key_books_once(client, personas) -> None:  # type: ignore[no-untyped-def]
    headers = personas.headers("patient_wang", **{"Idempotency-Key": "series-1"})
    first = book(client, personas, headers=headers)
    again = book(client, personas, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers.get("Idempotent-Replayed") == "true"
    assert counts() == (1, 6)
    assert_problem(book(client, personas, headers=headers, count=3), 422, "Idempotency-Key")


def test_a_bad_series_is_a_422_naming_the_field_and_writes_nothing(client, personas) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({"service_code": "home_surgery"}, "service_code"),
        ({"address_id": personas["patient_liu"]["address_id"]}, "address_id"),
        ({"first_window": {"start": iso("07:00"), "end": iso("08:00")}}, "first_window.start"),
        ({"first_window": {"start": iso("09:00"), "end": iso("09:20")}}, "first_window.end"),  # 45-minute visit
        ({"first_window": {"start": iso("09:00", "2026-11-20"), "end": iso("10:00", "2026-11-20")}},
         "first_window.start"),  # today: inside the lead time
        ({"every_days": 30, "count": 14}, "count"),  # more than a year
        ({"every_days": 0}, "every_days"),
        ({"count": 1}, "count"),
        ({"count": "six"}, "count"),
        ({"notes": "x" * 2001}, "notes"),
    ]
    for change, field in cases:
        assert_problem(book(client, personas, **change), 422, field)
    assert counts() == (0, 0)


def test_a_series_counts_once_against_the_open_order_limit(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    assert book(client, personas).status_code == 201  # six visits, one place
    orders.care_id()
    orders.care_id()
    assert_problem(orders.care(), 409, "open_care_orders")
    assert_problem(book(client, personas), 409, "open_care_orders")
    assert counts() == (1, 8)


def test_triage_once_the_first_visit_stands_for_the_series(client, personas) -> None:  # type: ignore[no-untyped-def]
    series = book(client, personas).get_json()
    first, *rest = [v["id"] for v in series["orders"]]
    queue = client.get("/api/v1/care-orders/triage-queue", headers=personas.headers("nurse_li")).get_json()
    assert [i["id"] for i in queue] == [first]
    assert queue[0]["series"] == {"id": series["id"], "sequence": 1}
    response = client.post(f"/api/v1/care-orders/{first}/triage", json={"accepted": True},
                           headers=personas.headers("nurse_li"))
    assert response.status_code == 200, response.get_json()
    nurse = personas["nurse_li"]["user_id"]
    again = client.get(f"{SERIES}/{series['id']}", headers=personas.headers("patient_wang")).get_json()
    assert {(v["status"], v["triaged_by"]) for v in again["orders"]} == {("accepted", nurse)}
    history = client.get(f"/api/v1/orders/{rest[-1]}", headers=personas.headers("dispatcher_sun")).get_json()["history"]
    assert (history[-1]["from"], history[-1]["to"], history[-1]["by"]) == ("requested", "accepted", nurse)
    assert f"order {first}" in history[-1]["reason"]


def test_rejecting_the_first_visit_rejects_the_series_with_its_reason(client, personas) -> None:  # type: ignore[no-untyped-def]
    series = book(client, personas, count=3).get_json()
    first = series["orders"][0]["id"]
    client.post(f"/api/v1/care-orders/{first}/triage", json={"accepted": False, "reason": "Line removed"},
                headers=personas.headers("dispatcher_sun"))
    again = client.get(f"{SERIES}/{series['id']}", headers=personas.headers("dispatcher_sun")).get_json()
    assert [v["status"] for v in again["orders"]] == ["rejected"] * 3
    last = client.get(f"/api/v1/orders/{again['orders'][2]['id']}", headers=personas.headers("dispatcher_sun"))
    assert last.get_json()["history"][-1]["reason"].startswith("Line removed")


def test_who_may_see_a_series(client, personas) -> None:  # type: ignore[no-untyped-def]
    series_id = book(client, personas).get_json()["id"]
    for who in ("patient_wang", "dispatcher_sun", "admin_root", "nurse_li"):  # nurse_li triages
        assert client.get(f"{SERIES}/{series_id}", headers=personas.headers(who)).status_code == 200, who
    for who in ("patient_liu", "nurse_zhou", "courier_zhao", "pharmacist_chen"):
        assert_problem(client.get(f"{SERIES}/{series_id}", headers=personas.headers(who)), 404)
    assert_problem(client.get(f"{SERIES}/999999", headers=personas.headers("dispatcher_sun")), 404)


def test_cancelling_a_series_cancels_what_has_not_started_and_names_what_is_left(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    series = book(client, personas, count=4).get_json()
    ids = [v["id"] for v in series["orders"]]
    orders.move(ids[0], "accepted", "scheduled", "en_route")  # the nurse is on the way to the first
    orders.move(ids[1], "accepted", "scheduled")
    response = client.post(f"{SERIES}/{series['id']}/cancel", json={"reason": "Moving away"},
                           headers=personas.headers("patient_wang"))
    assert response.status_code == 200, response.get_json()
    result = response.get_json()
    assert result["cancelled"] == ids[1:]
    assert result["left"] == [{"id": ids[0], "status": "en_route"}]
    assert [v["status"] for v in result["series"]["orders"]] == ["en_route", "cancelled", "cancelled", "cancelled"]
    for order_id in ids[1:]:
        last = orders.get(order_id, "patient_wang").get_json()["history"][-1]
        assert (last["to"], last["by"], last["reason"]) == ("cancelled", personas["patient_wang"]["user_id"],
                                                           "Moving away")
    again = client.post(f"{SERIES}/{series['id']}/cancel", json={}, headers=personas.headers("patient_wang"))
    assert again.get_json()["cancelled"] == [] and len(again.get_json()["left"]) == 4


def test_only_its_patient_or_a_dispatcher_with_a_reason_cancels_a_series(client, orders, personas) -> None:  # type: ignore[no-untyped-def]
    series = book(client, personas, count=2).get_json()
    ids = [v["id"] for v in series["orders"]]
    url = f"{SERIES}/{series['id']}/cancel"
    assert_problem(client.post(url, json={}, headers=personas.headers("patient_liu")), 404)
    assert_problem(client.post(url, json={}, headers=personas.headers("nurse_li")), 403)
    assert_problem(client.post(url, json={}, headers=personas.headers("dispatcher_sun")), 422, "reason")
    assert [orders.status(i) for i in ids] == ["requested", "requested"]
    response = client.post(url, json={"reason": "Patient admitted to hospital"},
                           headers=personas.headers("dispatcher_sun"))
    assert response.status_code == 200 and response.get_json()["cancelled"] == ids
