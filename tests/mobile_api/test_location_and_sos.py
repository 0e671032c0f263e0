"""POST /mobile/location and /mobile/sos: where a worker is, and a call for help."""
from __future__ import annotations

import logging

import pytest

from dispatch.models import Alarm, WorkerPosition
from routing.crs import wgs84_to_gcj02
from tests.factories import iso
from tests.mobile_api.helpers import count, fresh, instant

LOCATION, SOS = "/api/v1/mobile/location", "/api/v1/mobile/sos"


def test_a_position_is_stored_then_replaced_by_a_newer_one_but_not_an_older_one(client, personas, caplog) -> None:
    headers, worker_id = personas.headers("courier_zhao"), personas["courier_zhao"]["worker_id"]
    caplog.set_level(logging.INFO)

    first = client.post(LOCATION, json={"lat": 39.1111, "lon": 117.2222, "at": iso("10:00")}, headers=headers)
    newer = client.post(LOCATION, json={"lat": 39.1333, "lon": 117.2444, "at": iso("10:05")}, headers=headers)
    older = client.post(LOCATION, json={"lat": 39.0999, "lon": 117.1999, "at": iso("10:01")}, headers=headers)

    assert [r.status_code for r in (first, newer, older)] == [204, 204, 204]
    position = fresh(WorkerPosition, worker_id)
    assert (position.lat, position.lon) == (39.1333, 117.2444)
    assert position.at == instant(iso("10:05"))
    assert count(WorkerPosition) == 1
    assert "39.1" not in caplog.text and "117.2" not in caplog.text  # never coordinates in the log


def test_a_position_in_gcj02_is_stored_in_wgs84(client, personas) -> None:
    lat, lon = wgs84_to_gcj02(39.1250, 117.2000)

    response = client.post(LOCATION, json={"lat": lat, "lon": lon, "at": iso("10:00"), "crs": "gcj02"},
                           headers=personas.headers("nurse_li"))

    assert response.status_code == 204
    position = fresh(WorkerPosition, personas["nurse_li"]["worker_id"])
    assert position.lat == pytest.approx(39.1250, abs=1e-6) and position.lon == pytest.approx(117.2000, abs=1e-6)


@pytest.mark.parametrize("field, body", [
    ("crs", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00", "crs": "mercator"}),
    ("at", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00"}),
    ("lat", {"lat": -91, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00"}),
    ("lon", {"lat": 39.1, "lon": 180.5, "at": "2026-11-23T10:00:00+08:00"}),
    ("speed", {"lat": 39.1, "lon": 117.2, "at": "2026-11-23T10:00:00+08:00", "speed": 3}),
])
def test_a_bad_position_is_422_naming_the_field(client, personas, field, body) -> None:
    response = client.post(LOCATION, json=body, headers=personas.headers("nurse_li"))

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert count(WorkerPosition) == 0


def test_sos_creates_an_alarm_and_warns_without_coordinates(client, personas, caplog) -> None:
    caplog.set_level(logging.INFO)
    worker_id = personas["nurse_zhou"]["worker_id"]

    response = client.post(SOS, json={"lat": 39.1031, "lon": 117.1702, "note": "dog bite"},
                           headers=personas.headers("nurse_zhou"))

    assert response.status_code == 201
    body = response.get_json()
    alarm = fresh(Alarm, body["id"])
    assert (alarm.worker_id, alarm.lat, alarm.lon, alarm.note) == (worker_id, 39.1031, 117.1702, "dog bite")
    assert body["worker_id"] == worker_id and instant(body["at"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "event=sos" in r.getMessage()]
    assert [r.getMessage() for r in warnings] == [f"event=sos alarm_id={alarm.id} worker_id={worker_id}"]
    assert "39.103" not in caplog.text and "117.170" not in caplog.text


def test_sos_needs_a_position(client, personas) -> None:
    response = client.post(SOS, json={"note": "help"}, headers=personas.headers("courier_zhao"))

    assert response.status_code == 422 and {"lat", "lon"} <= set(response.get_json()["errors"])
    assert count(Alarm) == 0
