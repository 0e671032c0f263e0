"""POST /api/v1/mobile/stops/{id}/events: field reports move the stop and its order, one step at a time."""
from __future__ import annotations

from sqlalchemy import select

from dispatch.models import Stop, StopEvent
from doorstep.db import session
from orders.service import cancel_order
from tests.factories import iso
from tests.mobile_api.conftest import actor_of
from tests.mobile_api.helpers import count, fresh, history, order_status


def test_a_visit_goes_depart_arrive_start_complete_and_the_order_is_completed(personas, day, report) -> None:
    stop_id, nurse = day.stops["li_wound"], personas["nurse_li"]["user_id"]
    answers = [report("nurse_li", stop_id, kind, at=hhmm)
               for kind, hhmm in (("depart", "08:40"), ("arrive", "08:58"), ("start", "09:00"), ("complete", "09:45"))]

    assert [a.status_code for a in answers] == [201, 201, 201, 201]
    assert [(a.get_json()["stop"]["status"], a.get_json()["order"]["status"]) for a in answers] == [
        ("departed", "en_route"), ("arrived", "en_route"), ("started", "in_progress"), ("done", "completed")]
    last = answers[-1].get_json()
    assert last["stop"]["id"] == stop_id and last["order"]["id"] == day.wound_care_id
    assert last["event"]["type"] == "complete" and last["event"]["id"] > 0
    assert history(day.wound_care_id)[-3:] == [("scheduled", "en_route", nurse, None),
                                               ("en_route", "in_progress", nurse, None),
                                               ("in_progress", "completed", nurse, None)]
    assert count(StopEvent, StopEvent.stop_id == stop_id) == 4


def test_arriving_without_a_depart_report_still_puts_the_order_on_the_way(personas, day, report) -> None:
    arrived = report("nurse_li", day.stops["li_wound"], "arrive")
    started = report("nurse_li", day.stops["li_wound"], "start")

    assert arrived.status_code == 201 and arrived.get_json()["order"]["status"] == "en_route"
    assert started.status_code == 201 and order_status(day.wound_care_id) == "in_progress"


def test_a_parcel_goes_pickup_depart_arrive_deliver_and_is_delivered(client, personas, day, report) -> None:
    courier = personas["courier_zhao"]["user_id"]
    picked = report("courier_zhao", day.stops["zhao_pickup"], "pickup", at="12:52", seal_code="SEAL-0001")
    steps = [report("courier_zhao", day.stops["zhao_dropoff"], kind, at=hhmm)
             for kind, hhmm in (("depart", "12:55"), ("arrive", "13:10"))]
    code = client.get(f"/api/v1/orders/{day.parcel_id}", headers=personas.headers("patient_wang")
                      ).get_json()["delivery_code"]
    delivered = report("courier_zhao", day.stops["zhao_dropoff"], "deliver", at="13:12",
                       proof={"recipient_name": "Wang Fang", "code": code, "seal_code": "SEAL-0001",
                              "temperature_log": [{"at": iso("12:52"), "celsius": 4.5}]})

    assert picked.status_code == 201
    assert picked.get_json()["stop"]["status"] == "done" and picked.get_json()["order"]["status"] == "picked_up"
    assert [s.get_json()["order"]["status"] for s in steps] == ["out_for_delivery", "out_for_delivery"]
    assert delivered.status_code == 201 and delivered.get_json()["order"]["status"] == "delivered"
    assert [h[1:3] for h in history(day.parcel_id)[-3:]] == [("picked_up", courier), ("out_for_delivery", courier),
                                                             ("delivered", courier)]
    stored = fresh(StopEvent, delivered.get_json()["event"]["id"])
    assert stored.proof["recipient_name"] == "Wang Fang" and stored.proof["method"] == "code"
    assert stored.recorded_by == courier


def test_the_same_report_again_returns_the_stored_event_and_changes_nothing(personas, day, report) -> None:
    first = report("nurse_li", day.stops["li_wound"], "depart", at="08:40")
    steps = len(history(day.wound_care_id))

    again = report("nurse_li", day.stops["li_wound"], "depart", at="08:41")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count(StopEvent, StopEvent.stop_id == day.stops["li_wound"]) == 1
    assert len(history(day.wound_care_id)) == steps


def test_complete_before_arrive_is_a_conflict_and_changes_nothing(personas, day, report) -> None:
    stop_version = fresh(Stop, day.stops["li_wound"]).version
    steps = len(history(day.wound_care_id))

    response = report("nurse_li", day.stops["li_wound"], "complete")

    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    stop = fresh(Stop, day.stops["li_wound"])
    assert (stop.status, stop.version) == ("planned", stop_version)
    assert order_status(day.wound_care_id) == "scheduled" and len(history(day.wound_care_id)) == steps
    assert count(StopEvent) == 0


def test_complete_before_start_is_a_conflict_and_changes_nothing(personas, day, report) -> None:
    report("nurse_li", day.stops["li_wound"], "arrive")

    response = report("nurse_li", day.stops["li_wound"], "complete")

    assert response.status_code == 409
    assert fresh(Stop, day.stops["li_wound"]).status == "arrived"
    assert order_status(day.wound_care_id) == "en_route"


def test_a_parcel_cannot_leave_for_the_patient_before_it_is_picked_up(personas, day, report) -> None:
    response = report("courier_zhao", day.stops["zhao_dropoff"], "depart")

    assert response.status_code == 409
    assert fresh(Stop, day.stops["zhao_dropoff"]).status == "planned"
    assert order_status(day.parcel_id) == "scheduled"


def test_another_workers_stop_is_not_found_and_untouched(client, personas, day, report) -> None:
    attempts = [report("nurse_zhou", day.stops["li_wound"], "depart"),
                report("courier_zhao", day.stops["li_wound"], "depart"),
                report("nurse_li", day.stops["zhao_pickup"], "pickup"),
                report("nurse_li", 999_999, "depart")]

    assert [a.status_code for a in attempts] == [404, 404, 404, 404]
    assert attempts[0].get_json()["detail"] == attempts[3].get_json()["detail"]  # not-yours looks like missing
    assert fresh(Stop, day.stops["li_wound"]).status == "planned" and count(StopEvent) == 0
    assert order_status(day.wound_care_id) == "scheduled"


def test_a_report_that_does_not_fit_the_stop_is_422_naming_type(personas, day, report) -> None:
    on_visit = report("nurse_li", day.stops["li_wound"], "deliver")
    on_pickup = report("courier_zhao", day.stops["zhao_pickup"], "complete")
    on_start = report("nurse_li", day.stops["li_start"], "depart")
    unknown = report("nurse_li", day.stops["li_wound"], "teleport")

    for response in (on_visit, on_pickup, on_start, unknown):
        assert response.status_code == 422
        assert list(response.get_json()["errors"]) == ["type"], response.get_json()
    assert "depart, arrive, start, complete, fail" in on_visit.get_json()["errors"]["type"][0]


def test_fail_needs_a_reason_which_the_order_history_keeps(personas, day, report) -> None:
    without = report("nurse_li", day.stops["li_wound"], "fail")
    blank = report("nurse_li", day.stops["li_wound"], "fail", reason="  ")
    failed = report("nurse_li", day.stops["li_wound"], "fail", reason="nobody home")

    assert (without.status_code, blank.status_code) == (422, 422)
    assert "reason" in without.get_json()["errors"]
    assert failed.status_code == 201
    assert (failed.get_json()["stop"]["status"], failed.get_json()["order"]["status"]) == ("failed", "failed")
    assert history(day.wound_care_id)[-1] == ("scheduled", "failed", personas["nurse_li"]["user_id"], "nobody home")


def test_a_courier_can_fail_a_dropoff_after_pickup(personas, day, report) -> None:
    assert report("courier_zhao", day.stops["zhao_pickup"], "pickup", seal_code="S1").status_code == 201

    failed = report("courier_zhao", day.stops["zhao_dropoff"], "fail", reason="address not found")

    assert failed.status_code == 201 and order_status(day.parcel_id) == "failed"


def test_proof_belongs_to_deliver_only(personas, day, report) -> None:
    response = report("nurse_li", day.stops["li_wound"], "depart", proof={"code": "1234"})

    assert response.status_code == 422 and list(response.get_json()["errors"]) == ["proof"]


def test_a_stop_of_a_cancelled_order_is_gone_and_takes_no_reports(personas, day, report) -> None:
    cancel_order(actor_of(personas, "dispatcher_sun"), day.vitals_id, reason="patient in hospital")
    session.commit()

    response = report("nurse_li", day.stops["li_vitals"], "depart")

    assert response.status_code == 404  # the cancelled task left the plan (dispatch.withdraw)
    assert fresh(Stop, day.stops["li_vitals"]) is None


def test_a_started_stop_of_a_cancelled_order_stays_but_takes_no_more_reports(personas, day, report) -> None:
    assert report("nurse_li", day.stops["li_vitals"], "depart").status_code == 201
    cancel_order(actor_of(personas, "dispatcher_sun"), day.vitals_id, reason="patient in hospital")
    session.commit()

    response = report("nurse_li", day.stops["li_vitals"], "arrive")

    assert response.status_code == 409
    assert fresh(Stop, day.stops["li_vitals"]).status == "departed"


def test_a_report_body_is_validated_field_by_field(client, personas, day) -> None:
    url, headers = f"/api/v1/mobile/stops/{day.stops['li_wound']}/events", personas.headers("nurse_li")
    good = {"type": "depart", "at": "2026-11-23T08:40:00+08:00", "lat": 39.1, "lon": 117.2}
    cases = {
        "at": {**good, "at": "2026-11-23T08:40:00"},  # naive
        "lat": {**good, "lat": 91},
        "lon": {**good, "lon": -181},
        "colour": {**good, "colour": "blue"},
        "proof.signature": {**good, "type": "deliver", "proof": {"signature": "x"}},
    }
    for field, body in cases.items():
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, field
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"], response.get_json()
    missing = client.post(url, json={"type": "depart"}, headers=headers).get_json()["errors"]
    assert {"at", "lat", "lon"} <= set(missing)
    assert client.post(url, data="{not json", headers={**headers, "Content-Type": "application/json"}
                       ).status_code == 400
    assert count(StopEvent) == 0


def _sequence(route_id: int) -> list[int]:
    session.expire_all()
    return [s.id for s in sorted(session.scalars(select(Stop).where(Stop.route_id == route_id)),
                                 key=lambda s: s.sequence)]


def test_a_stop_taken_ahead_of_the_plan_moves_to_where_it_was_done(client, personas, day, report) -> None:
    s = day.stops
    before = client.get("/api/v1/mobile/route?date=2026-11-23", headers=personas.headers("nurse_li")).headers["ETag"]
    assert report("nurse_li", s["li_vitals"], "arrive", at="08:50").status_code == 201  # the patient was in early
    assert _sequence(day.li_route_id) == [s["li_start"], s["li_vitals"], s["li_wound"], s["li_end"]]
    after = client.get("/api/v1/mobile/route?date=2026-11-23", headers=personas.headers("nurse_li")).headers["ETag"]
    assert after != before  # the phone refreshes

    # Then the wound visit, now next in line: nothing moves, and a re-plan keeps this order of the day.
    assert report("nurse_li", s["li_wound"], "arrive", at="10:00").status_code == 201
    assert _sequence(day.li_route_id) == [s["li_start"], s["li_vitals"], s["li_wound"], s["li_end"]]


def test_a_stop_taken_in_plan_order_moves_nothing(personas, day, report) -> None:
    s = day.stops
    assert report("nurse_li", s["li_wound"], "arrive", at="08:58").status_code == 201
    assert _sequence(day.li_route_id) == [s["li_start"], s["li_wound"], s["li_vitals"], s["li_end"]]
