"""Phones may report positions in GCJ-02 or BD-09 (``crs``); they are stored in WGS-84."""
from __future__ import annotations

import pytest

from dispatch.models import Alarm, StopEvent
from routing.crs import wgs84_to_bd09, wgs84_to_gcj02
from routing.geo import geodesic_m
from tests.mobile_api.helpers import count, fresh

TIANANMEN_WGS84 = (39.9087, 116.3975)
TIANANMEN_GCJ02 = (39.9101, 116.4037)  # as AMap shows it, to 4 decimals (±6 m)
BINJIANG_DAO = (39.1250, 117.2000)


def test_a_stop_event_at_a_published_gcj02_point_is_stored_at_its_wgs84_twin(day, report) -> None:  # type: ignore[no-untyped-def]
    response = report("nurse_li", day.stops["li_wound"], "depart", lat=TIANANMEN_GCJ02[0],
                      lon=TIANANMEN_GCJ02[1], crs="gcj02")

    assert response.status_code == 201, response.get_json()
    event = fresh(StopEvent, response.get_json()["event"]["id"])
    assert geodesic_m(event.lat, event.lon, *TIANANMEN_WGS84) < 8


@pytest.mark.parametrize(("crs", "convert"), [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_a_stop_event_in_a_chinese_map_crs_is_stored_within_a_metre(day, report, crs, convert) -> None:  # type: ignore[no-untyped-def]
    lat, lon = convert(*BINJIANG_DAO)
    response = report("nurse_li", day.stops["li_wound"], "arrive", lat=lat, lon=lon, crs=crs)

    event = fresh(StopEvent, response.get_json()["event"]["id"])
    assert geodesic_m(event.lat, event.lon, *BINJIANG_DAO) < 1


def test_a_stop_event_without_crs_is_taken_as_wgs84(day, report) -> None:  # type: ignore[no-untyped-def]
    response = report("nurse_li", day.stops["li_wound"], "depart")

    event = fresh(StopEvent, response.get_json()["event"]["id"])
    assert (event.lat, event.lon) == BINJIANG_DAO


def test_an_unknown_crs_on_a_stop_event_is_a_422_and_nothing_is_stored(day, report) -> None:  # type: ignore[no-untyped-def]
    response = report("nurse_li", day.stops["li_wound"], "depart", crs="mercator")

    assert response.status_code == 422 and "crs" in response.get_json()["errors"]
    assert count(StopEvent) == 0


def test_an_sos_in_bd09_is_stored_in_wgs84(client, personas) -> None:  # type: ignore[no-untyped-def]
    lat, lon = wgs84_to_bd09(*BINJIANG_DAO)

    response = client.post("/api/v1/mobile/sos", json={"lat": lat, "lon": lon, "crs": "bd09"},
                           headers=personas.headers("courier_zhao"))

    assert response.status_code == 201
    alarm = fresh(Alarm, response.get_json()["id"])
    assert geodesic_m(alarm.lat, alarm.lon, *BINJIANG_DAO) < 1
