"""Live ETAs on my route: each stop ahead re-estimated from my last position on shift, as the
patients' tracking does; none without a recent position; the route's version (ETag) unmoved by pings."""
from __future__ import annotations

from datetime import timedelta

import time_machine

from tests.factories import SERVICE_DATE, at, iso
from tests.mobile_api.helpers import instant

ROUTE = f"/api/v1/mobile/route?date={SERVICE_DATE}"
NEAR_HOME = (39.1300, 117.1950)  # where nurse_li's day starts
DONGLI = (39.0800, 117.3000)  # far out east


def ping(client, personas, hhmm, point, who="nurse_li"):  # type: ignore[no-untyped-def]
    lat, lon = point
    response = client.post("/api/v1/mobile/location", json={"lat": lat, "lon": lon, "at": iso(hhmm)},
                           headers=personas.headers(who))
    assert response.status_code == 204
    return response


def stops_of(response):  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_json()
    return {(s["type"], s["sequence"]): s for s in response.get_json()["stops"]}


def live(stop):  # type: ignore[no-untyped-def]
    return instant(stop["live_eta"]) if stop["live_eta"] else None


def test_without_a_position_every_live_eta_is_null_and_the_planned_eta_stands(client, personas, day) -> None:
    stops = stops_of(client.get(ROUTE, headers=personas.headers("nurse_li")))

    assert all(s["live_eta"] is None for s in stops.values())
    assert instant(stops[("visit", 1)]["eta"]) == at("09:00")


def test_from_my_last_position_each_stop_ahead_gets_a_live_eta_in_order(client, personas, day) -> None:
    with time_machine.travel(at("08:40"), tick=False):
        personas.sign_in_again()
        ping(client, personas, "08:40", NEAR_HOME)
        stops = stops_of(client.get(ROUTE, headers=personas.headers("nurse_li")))

    wound, vitals, end = live(stops[("visit", 1)]), live(stops[("visit", 2)]), live(stops[("end", 3)])
    assert stops[("start", 0)]["live_eta"] is None
    assert at("08:40") < wound < at("09:00")  # early: a short drive from home
    # The wound visit starts when its window opens (09:00) and lasts 45 minutes; then the drive to Liu.
    assert at("09:45") < vitals < at("10:30")
    assert at("13:30") < end < at("14:00")  # Liu's window opens at 13:00, 30 minutes there, then home


def test_a_worker_far_away_gets_a_later_live_eta_than_planned(client, personas, day) -> None:
    with time_machine.travel(at("08:55"), tick=False):
        personas.sign_in_again()
        ping(client, personas, "08:55", DONGLI)
        stops = stops_of(client.get(ROUTE, headers=personas.headers("nurse_li")))

    assert live(stops[("visit", 1)]) > at("09:05")
    assert instant(stops[("visit", 1)]["eta"]) == at("09:00")  # the plan's, unchanged


def test_at_a_visit_the_next_stop_waits_for_the_service_to_end(client, personas, day, report) -> None:
    with time_machine.travel(at("09:10"), tick=False):
        personas.sign_in_again()
        assert report("nurse_li", day.stops["li_wound"], "arrive", at="09:00").status_code == 201
        assert report("nurse_li", day.stops["li_wound"], "start", at="09:05").status_code == 201
        ping(client, personas, "09:10", (39.1250, 117.2000))
        stops = stops_of(client.get(ROUTE, headers=personas.headers("nurse_li")))

    assert stops[("visit", 1)]["live_eta"] is None and stops[("visit", 1)]["eta"] is None  # reached
    assert live(stops[("visit", 2)]) > at("09:50")  # started 09:05, 45 minutes, then the drive


def test_an_old_position_gives_no_live_eta(client, personas, day) -> None:
    with time_machine.travel(at("08:05"), tick=False):
        personas.sign_in_again()
        ping(client, personas, "08:05", NEAR_HOME)
    with time_machine.travel(at("08:05") + timedelta(minutes=16), tick=False):
        personas.sign_in_again()
        stops = stops_of(client.get(ROUTE, headers=personas.headers("nurse_li")))

    assert all(s["live_eta"] is None for s in stops.values())


def test_pings_do_not_change_the_etag_and_each_full_answer_has_fresh_live_etas(client, personas, day) -> None:
    with time_machine.travel(at("08:40"), tick=False):
        personas.sign_in_again()
        ping(client, personas, "08:40", NEAR_HOME)
        first = client.get(ROUTE, headers=personas.headers("nurse_li"))
    with time_machine.travel(at("08:50"), tick=False):
        personas.sign_in_again()
        ping(client, personas, "08:50", DONGLI)
        polled = client.get(ROUTE, headers=personas.headers("nurse_li", **{"If-None-Match": first.headers["ETag"]}))
        fresh = client.get(ROUTE, headers=personas.headers("nurse_li"))

    assert first.headers["ETag"] == f'W/"{first.get_json()["version"]}"'
    assert polled.status_code == 304 and fresh.headers["ETag"] == first.headers["ETag"]
    assert live(stops_of(fresh)[("visit", 1)]) > live(stops_of(first)[("visit", 1)])
