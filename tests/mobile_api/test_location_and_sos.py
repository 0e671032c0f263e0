"""POST /mobile/location: where a worker is, kept only on shift, flagged far away; POST /mobile/sos."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine

from dispatch.models import Alarm
from doorstep.feed import feed
from mobile_api.positions import last_position, store
from routing.crs import wgs84_to_gcj02
from tests.factories import at, iso
from tests.mobile_api.helpers import count, fresh, instant

LOCATION, SOS = "/api/v1/mobile/location", "/api/v1/mobile/sos"


def ping(client, personas, who, hhmm, lat=39.1111, lon=117.2222, **extra):  # type: ignore[no-untyped-def]
    return client.post(LOCATION, json={"lat": lat, "lon": lon, "at": iso(hhmm), **extra},
                       headers=personas.headers(who))


def test_on_shift_the_last_position_moves_forward_only_and_every_ping_joins_the_trail(client, personas, caplog) -> None:
    worker_id = personas["courier_zhao"]["worker_id"]
    caplog.set_level(logging.INFO)

    answers = [ping(client, personas, "courier_zhao", "10:00", 39.1111, 117.2222),
               ping(client, personas, "courier_zhao", "10:05", 39.1333, 117.2444, accuracy_m=12.5),
               ping(client, personas, "courier_zhao", "10:01", 39.0999, 117.1999)]

    assert [r.status_code for r in answers] == [204, 204, 204]
    last = last_position(worker_id)
    assert (last.lat, last.lon, last.at, last.accuracy_m) == (39.1333, 117.2444, at("10:05"), 12.5)
    trail = store().trail(worker_id, "2026-11-23")
    assert [p.at for p in trail] == [at("10:00"), at("10:01"), at("10:05")]
    assert "39.1" not in caplog.text and "117.2" not in caplog.text  # never coordinates in the log


def test_a_ping_sent_twice_is_kept_once(client, personas) -> None:
    for _ in range(3):
        assert ping(client, personas, "nurse_li", "09:30").status_code == 204
    assert len(store().trail(personas["nurse_li"]["worker_id"], "2026-11-23")) == 1


@pytest.mark.parametrize("hhmm, day", [("07:59", "2026-11-23"), ("17:00", "2026-11-23"), ("10:00", "2026-11-24")])
def test_off_shift_a_ping_is_accepted_and_not_kept(client, personas, hhmm, day) -> None:
    worker_id = personas["nurse_li"]["worker_id"]  # on shift 08:00-17:00 on 2026-11-23 only

    response = client.post(LOCATION, json={"lat": 39.1, "lon": 117.2, "at": iso(hhmm, day)},
                           headers=personas.headers("nurse_li"))

    assert response.status_code == 204
    assert last_position(worker_id) is None and store().trail(worker_id, day) == []


def test_an_inactive_worker_keeps_no_trail(client, personas) -> None:
    from dispatch.models import Worker
    from doorstep.db import session

    worker = session.get(Worker, personas["nurse_zhou"]["worker_id"])
    worker.active = False
    session.commit()

    assert ping(client, personas, "nurse_zhou", "10:00").status_code == 204
    assert last_position(worker.id) is None


def test_a_position_in_gcj02_is_stored_in_wgs84(client, personas) -> None:
    lat, lon = wgs84_to_gcj02(39.1250, 117.2000)

    assert ping(client, personas, "nurse_li", "10:00", lat, lon, crs="gcj02").status_code == 204

    position = last_position(personas["nurse_li"]["worker_id"])
    assert position.lat == pytest.approx(39.1250, abs=1e-6) and position.lon == pytest.approx(117.2000, abs=1e-6)


def test_a_position_500_km_away_is_kept_flagged_and_announced_once(client, personas) -> None:
    worker_id = personas["courier_zhao"]["worker_id"]
    shanghai = (31.2304, 121.4737)  # about 960 km from Tianjin

    first = ping(client, personas, "courier_zhao", "11:00", *shanghai)
    second = ping(client, personas, "courier_zhao", "11:01", *shanghai)
    near = ping(client, personas, "courier_zhao", "11:02")

    assert [r.status_code for r in (first, second, near)] == [204, 204, 204]
    flags = [p.flag for p in store().trail(worker_id, "2026-11-23")]
    assert flags == ["far_from_service_area", "far_from_service_area", None]
    events, _ = feed().read("0", 0.01)
    assert [(e.kind, e.data["worker_id"], e.data["flag"]) for e in events] == [
        ("position_flagged", worker_id, "far_from_service_area")]
    assert "lat" not in events[0].data and events[0].data["distance_km"] > 500


@pytest.mark.parametrize("field, body", [
    ("crs", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00", "crs": "mercator"}),
    ("at", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00"}),
    ("lat", {"lat": -91, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00"}),
    ("lon", {"lat": 39.1, "lon": 180.5, "at": "2026-11-23T10:00:00+08:00"}),
    ("accuracy_m", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00", "accuracy_m": -1}),
    ("speed", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00", "speed": 3}),
])
def test_a_bad_position_is_422_naming_the_field(client, personas, field, body) -> None:
    response = client.post(LOCATION, json=body, headers=personas.headers("nurse_li"))

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert last_position(personas["nurse_li"]["worker_id"]) is None


def test_a_trail_is_deleted_after_the_retention_period(client, personas, hospital) -> None:
    worker_id, day_end = personas["nurse_li"]["worker_id"], at("00:00", "2026-11-24")
    redis_client = getattr(store(), "client", None)
    if redis_client is not None:  # Redis: keys expire at the day's end plus the retention, on Redis's clock
        real_now = redis_client.time()[0]
        days = int((real_now - day_end.timestamp()) // 86_400) + 30  # so the expiry is still ahead
        hospital(trail_retention_days=days)
        assert ping(client, personas, "nurse_li", "10:00").status_code == 204
        expected = int((day_end + timedelta(days=days)).timestamp())
        prefix = store().prefix
        assert redis_client.expiretime(f"{prefix}trail:{worker_id}:2026-11-23") == expected
        assert redis_client.expiretime(f"{prefix}pos:{worker_id}") == expected
    else:  # in process: purged once that moment has passed
        hospital(trail_retention_days=2)
        assert ping(client, personas, "nurse_li", "10:00").status_code == 204
        with time_machine.travel(day_end + timedelta(days=2, seconds=-5)):
            assert len(store().trail(worker_id, "2026-11-23")) == 1
        with time_machine.travel(day_end + timedelta(days=2, seconds=5)):
            assert store().trail(worker_id, "2026-11-23") == [] and last_position(worker_id) is None


# --- SOS -------------------------------------------------------------------------------------------

def test_sos_creates_an_alarm_announces_it_and_warns_without_coordinates(client, personas, caplog) -> None:
    caplog.set_level(logging.INFO)
    worker_id = personas["nurse_zhou"]["worker_id"]

    response = client.post(SOS, json={"lat": 39.1031, "lon": 117.1702, "note": "dog bite"},
                           headers=personas.headers("nurse_zhou"))

    assert response.status_code == 201
    body = response.get_json()
    alarm = fresh(Alarm, body["id"])
    assert (alarm.worker_id, alarm.lat, alarm.lon, alarm.note) == (worker_id, 39.1031, 117.1702, "dog bite")
    assert body["worker_id"] == worker_id and instant(body["at"]) and body["presses"] == 1
    assert body["status"] == "open"
    events, _ = feed().read("0", 0.01)
    assert [(e.kind, e.data["alarm_id"], e.data["presses"]) for e in events] == [("sos", alarm.id, 1)]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "event=sos" in r.getMessage()]
    assert warnings == [f"event=sos alarm_id={alarm.id} worker_id={worker_id} presses=1"]
    assert "39.103" not in caplog.text and "117.170" not in caplog.text and "dog bite" not in caplog.text


def test_presses_within_a_minute_update_the_same_alarm_and_a_later_one_is_new(client, personas) -> None:
    headers = personas.headers("courier_zhao")
    with time_machine.travel(at("10:00"), tick=False):
        personas.sign_in_again()
        headers = personas.headers("courier_zhao")
        first = client.post(SOS, json={"lat": 39.10, "lon": 117.17}, headers=headers)
    with time_machine.travel(at("10:00") + timedelta(seconds=50), tick=False):
        again = client.post(SOS, json={"lat": 39.11, "lon": 117.18, "note": "still here"}, headers=headers)
    with time_machine.travel(at("10:00") + timedelta(seconds=105), tick=False):
        third = client.post(SOS, json={"lat": 39.12, "lon": 117.19}, headers=headers)
    with time_machine.travel(at("10:00") + timedelta(seconds=170), tick=False):
        later = client.post(SOS, json={"lat": 39.12, "lon": 117.19}, headers=headers)

    assert [r.status_code for r in (first, again, third, later)] == [201, 200, 200, 201]
    alarm_id = first.get_json()["id"]
    assert again.get_json()["id"] == third.get_json()["id"] == alarm_id != later.get_json()["id"]
    alarm = fresh(Alarm, alarm_id)
    assert (alarm.presses, alarm.lat, alarm.lon, alarm.note) == (3, 39.12, 117.19, "still here")
    assert count(Alarm) == 2
    events, _ = feed().read("0", 0.01)
    assert [(e.data["alarm_id"], e.data["repeat"]) for e in events] == [
        (alarm_id, False), (alarm_id, True), (alarm_id, True), (later.get_json()["id"], False)]


def test_a_press_after_the_alarm_was_acknowledged_raises_a_new_one(client, personas) -> None:
    first = client.post(SOS, json={"lat": 39.10, "lon": 117.17}, headers=personas.headers("nurse_li")).get_json()
    ack = client.post(f"/api/v1/alarms/{first['id']}/acknowledge", headers=personas.headers("dispatcher_sun"))
    again = client.post(SOS, json={"lat": 39.10, "lon": 117.17}, headers=personas.headers("nurse_li"))

    assert ack.status_code == 200 and again.status_code == 201 and again.get_json()["id"] != first["id"]


def test_sos_needs_a_position(client, personas) -> None:
    response = client.post(SOS, json={"note": "help"}, headers=personas.headers("courier_zhao"))

    assert response.status_code == 422 and {"lat", "lon"} <= set(response.get_json()["errors"])
    assert count(Alarm) == 0


def test_a_deactivated_account_keeps_no_trail_once_the_cache_has_expired(client, personas, hospital) -> None:
    from doorstep.db import session
    from doorstep.models import User
    from mobile_api.positions import shift_cache

    headers = personas.headers("nurse_li")  # a token issued while the account was active
    session.get(User, personas["nurse_li"]["user_id"]).active = False
    session.commit()
    shift_cache().clear()  # as after shift_cache_s

    response = client.post(LOCATION, json={"lat": 39.1, "lon": 117.2, "at": iso("10:00")}, headers=headers)

    assert response.status_code == 204 and last_position(personas["nurse_li"]["worker_id"]) is None
