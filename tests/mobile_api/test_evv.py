"""Visit verification: where reports were made, the office's exception queue, time corrections,
missed check-ins and check-outs. Reports are always accepted; doubtful ones are queued."""
from __future__ import annotations

import pytest
import time_machine

from dispatch.models import StopEvent
from mobile_api.models import EvvException
from mobile_api.tasks import flag_missed_visits
from tests.factories import at, iso
from tests.mobile_api.helpers import count, fresh, instant

QUEUE = "/api/v1/evv/exceptions"
WANG_DOOR = {"lat": 39.1250, "lon": 117.2000}
THREE_HUNDRED_M_AWAY = {"lat": 39.1277, "lon": 117.2000}
SHANGHAI = {"lat": 31.2304, "lon": 121.4737}  # ~960 km from Tianjin


@pytest.fixture
def evening(day):  # type: ignore[no-untyped-def]
    """The service day at 18:00 (ticking): the day's reports lie in the past, so corrections may name them."""
    with time_machine.travel(at("18:00"), tick=True):
        yield day


def correction(client, personas, who, stop_id, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/mobile/stops/{stop_id}/corrections", json=body, headers=personas.headers(who))


def decide(client, personas, who, exception_id, **body):  # type: ignore[no-untyped-def]
    return client.post(f"{QUEUE}/{exception_id}/decision", json=body, headers=personas.headers(who))


def test_a_check_in_at_the_door_is_clean_and_one_300_m_away_is_accepted_and_queued(
        client, personas, day, report) -> None:
    at_door = report("nurse_li", day.stops["li_wound"], "arrive", **WANG_DOOR)
    assert at_door.status_code == 201
    assert at_door.get_json()["event"]["flags"] == [] and at_door.get_json()["event"]["distance_m"] == 0

    away = report("nurse_li", day.stops["li_wound"], "start", **THREE_HUNDRED_M_AWAY)

    assert away.status_code == 201 and away.get_json()["stop"]["status"] == "started"
    event = away.get_json()["event"]
    assert event["flags"] == ["far_from_door"] and 290 <= event["distance_m"] <= 310
    queue = client.get(f"{QUEUE}?status=open", headers=personas.headers("dispatcher_sun")).get_json()
    assert [(e["kind"], e["stop_id"], e["event_type"], e["status"]) for e in queue] == [
        ("far_from_door", day.stops["li_wound"], "start", "open")]
    assert queue[0]["distance_m"] == event["distance_m"] and queue[0]["order_id"] == day.wound_care_id


def test_the_radius_is_a_setting(client, personas, day, report, hospital) -> None:
    hospital(evv_radius_m=500)

    away = report("nurse_li", day.stops["li_wound"], "arrive", **THREE_HUNDRED_M_AWAY)

    assert away.get_json()["event"]["flags"] == [] and count(EvvException) == 0


def test_a_report_500_km_away_is_accepted_and_flagged_even_when_leaving(personas, day, report) -> None:
    response = report("nurse_li", day.stops["li_wound"], "depart", **SHANGHAI)

    assert response.status_code == 201 and response.get_json()["order"]["status"] == "en_route"
    assert response.get_json()["event"]["flags"] == ["far_from_door"]
    assert response.get_json()["event"]["distance_m"] > 500_000
    assert count(EvvException, EvvException.kind == "far_from_door") == 1


def test_a_resend_with_the_same_event_id_or_idempotency_key_is_the_same_answer(client, personas, day,
                                                                                report) -> None:
    stop_id = day.stops["li_wound"]
    first = report("nurse_li", stop_id, "arrive", event_id="phone-1", **THREE_HUNDRED_M_AWAY)
    again = report("nurse_li", stop_id, "arrive", event_id="phone-1", at="09:03", **THREE_HUNDRED_M_AWAY)
    reused = report("nurse_li", stop_id, "start", event_id="phone-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert reused.status_code == 422 and list(reused.get_json()["errors"]) == ["event_id"]
    assert count(StopEvent, StopEvent.stop_id == stop_id) == 1 and count(EvvException) == 1

    body = {"type": "start", "at": iso("09:05"), **WANG_DOOR}
    url, headers = f"/api/v1/mobile/stops/{stop_id}/events", personas.headers("nurse_li", **{"Idempotency-Key": "k-9"})
    keyed = [client.post(url, json=body, headers=headers) for _ in range(2)]
    assert [k.status_code for k in keyed] == [201, 201] and keyed[1].headers.get("Idempotent-Replayed") == "true"
    assert keyed[0].get_json() == keyed[1].get_json()
    assert count(StopEvent, StopEvent.stop_id == stop_id) == 2


def test_the_queue_and_decisions_are_for_the_office_only(client, personas, day, report) -> None:
    report("nurse_li", day.stops["li_wound"], "arrive", **SHANGHAI)
    exception_id = client.get(QUEUE, headers=personas.headers("dispatcher_sun")).get_json()[0]["id"]

    for who in ("nurse_li", "courier_zhao", "patient_wang", "pharmacist_chen"):
        assert client.get(QUEUE, headers=personas.headers(who)).status_code == 403
        assert decide(client, personas, who, exception_id, approved=True, reason="ok").status_code == 403
    assert client.get(QUEUE, headers=personas.headers("admin_root")).status_code == 200
    assert fresh(EvvException, exception_id).status == "open"


def test_a_decision_records_who_when_why_once(client, personas, day, report) -> None:
    report("nurse_li", day.stops["li_wound"], "arrive", **SHANGHAI)
    exception_id = client.get(QUEUE, headers=personas.headers("dispatcher_sun")).get_json()[0]["id"]

    no_reason = decide(client, personas, "dispatcher_sun", exception_id, approved=False)
    rejected = decide(client, personas, "dispatcher_sun", exception_id, approved=False, reason="phone clock wrong")
    twice = decide(client, personas, "admin_root", exception_id, approved=True, reason="second look")
    missing = decide(client, personas, "dispatcher_sun", 999_999, approved=True, reason="x")

    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    assert rejected.status_code == 200
    body = rejected.get_json()
    assert (body["status"], body["decided_by"], body["decision_reason"]) == (
        "rejected", personas["dispatcher_sun"]["user_id"], "phone clock wrong")
    assert instant(body["decided_at"])
    assert twice.status_code == 409 and missing.status_code == 404
    assert client.get(f"{QUEUE}?status=open", headers=personas.headers("dispatcher_sun")).get_json() == []
    assert len(client.get(f"{QUEUE}?status=rejected", headers=personas.headers("dispatcher_sun")).get_json()) == 1


def test_a_time_correction_changes_the_recorded_time_only_once_approved(client, personas, day, evening, report) -> None:
    stop_id = day.stops["li_wound"]
    for kind, hhmm in (("arrive", "09:20"), ("start", "09:21"), ("complete", "10:00")):
        assert report("nurse_li", stop_id, kind, at=hhmm).status_code == 201

    asked = correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("09:02"),
                       reason="Phone was off at the door")

    assert asked.status_code == 201
    exception = asked.get_json()
    assert (exception["kind"], exception["status"], exception["event_type"]) == ("time_correction", "open", "arrive")
    assert instant(exception["requested_at"]) == at("09:02")
    arrive = next(e for e in _events(stop_id) if e.type == "arrive")
    assert arrive.corrected_at is None  # not before the office says so

    approved = decide(client, personas, "dispatcher_sun", exception["id"], approved=True, reason="GPS trail agrees")

    assert approved.status_code == 200
    arrive = next(e for e in _events(stop_id) if e.type == "arrive")
    assert arrive.corrected_at == at("09:02") and arrive.at == at("09:20")  # the original is kept
    assert arrive.corrected_by == personas["dispatcher_sun"]["user_id"]


def test_a_rejected_correction_changes_nothing(client, personas, day, evening, report) -> None:
    stop_id = day.stops["li_wound"]
    report("nurse_li", stop_id, "arrive", at="09:20")
    asked = correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("09:02"), reason="late fix")

    decide(client, personas, "dispatcher_sun", asked.get_json()["id"], approved=False, reason="no evidence")

    assert next(e for e in _events(stop_id) if e.type == "arrive").corrected_at is None


def test_a_correction_needs_my_stop_a_reason_a_report_and_a_sensible_time(client, personas, day, evening, report) -> None:
    stop_id = day.stops["li_wound"]
    before_any = correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("09:00"), reason="x")
    report("nurse_li", stop_id, "arrive", at="09:20")
    report("nurse_li", stop_id, "start", at="09:21")
    report("nurse_li", stop_id, "complete", at="10:00")
    answers = {
        "not mine": correction(client, personas, "nurse_zhou", stop_id, event="arrive", at=iso("09:00"), reason="x"),
        "courier": correction(client, personas, "courier_zhao", stop_id, event="arrive", at=iso("09:00"), reason="x"),
        "missing": correction(client, personas, "nurse_li", 999_999, event="arrive", at=iso("09:00"), reason="x"),
        "no reason": correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("09:00")),
        "blank": correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("09:00"), reason="  "),
        "after out": correction(client, personas, "nurse_li", stop_id, event="arrive", at=iso("10:30"), reason="x"),
        "bad event": correction(client, personas, "nurse_li", stop_id, event="depart", at=iso("09:00"), reason="x"),
        "patient": correction(client, personas, "patient_wang", stop_id, event="arrive", at=iso("09:00"),
                              reason="x"),
    }

    assert before_any.status_code == 409
    assert {k: v.status_code for k, v in answers.items()} == {
        "not mine": 404, "courier": 404, "missing": 404, "no reason": 422, "blank": 422, "after out": 422,
        "bad event": 422, "patient": 403}
    assert "at" in answers["after out"].get_json()["errors"]
    assert "event" in answers["bad event"].get_json()["errors"]
    assert count(EvvException) == 0


def test_a_visit_without_check_in_after_its_window_and_grace_is_flagged_once(app, personas, day, report) -> None:
    with time_machine.travel(at("11:29"), tick=False):
        assert flag_missed_visits() == {"missed_check_in": 0, "missed_check_out": 0}
    with time_machine.travel(at("11:31"), tick=False):
        first = flag_missed_visits()
        second = flag_missed_visits()

    assert first["missed_check_in"] == 1 and second["missed_check_in"] == 0
    rows = _exceptions()
    assert [(e.kind, e.order_id, e.stop_id, e.raised_by) for e in rows] == [
        ("missed_check_in", day.wound_care_id, day.stops["li_wound"], None)]
    # zhou's injection (window to 12:00) is not late yet; li's vitals (to 15:00) neither.


def test_a_visit_checked_in_but_never_checked_out_is_flagged_once(app, personas, day, report) -> None:
    report("nurse_li", day.stops["li_wound"], "arrive", at="09:00")
    report("nurse_li", day.stops["li_wound"], "start", at="09:02")
    # 45 minutes of wound care and 30 of grace after the 09:00 check-in: 10:15.
    with time_machine.travel(at("10:14"), tick=False):
        assert flag_missed_visits()["missed_check_out"] == 0
    with time_machine.travel(at("10:16"), tick=False):
        assert flag_missed_visits()["missed_check_out"] == 1
        assert flag_missed_visits()["missed_check_out"] == 0

    assert [(e.kind, e.order_id) for e in _exceptions()] == [("missed_check_out", day.wound_care_id)]


def test_the_grace_is_a_setting(app, personas, day, hospital) -> None:
    hospital(evv_grace_minutes=5)
    with time_machine.travel(at("11:06"), tick=False):
        assert flag_missed_visits()["missed_check_in"] == 1


def _events(stop_id: int) -> list[StopEvent]:
    from sqlalchemy import select

    from doorstep.db import session

    session.expire_all()
    return list(session.scalars(select(StopEvent).where(StopEvent.stop_id == stop_id)))


def _exceptions() -> list[EvvException]:
    from sqlalchemy import select

    from doorstep.db import session

    session.expire_all()
    return list(session.scalars(select(EvvException).order_by(EvvException.id)))
