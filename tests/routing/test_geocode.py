"""routing.geocode against fake Nominatim and Baidu services over real HTTP."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from routing.crs import wgs84_to_bd09
from routing.geo import geodesic_m
from routing.geocode import (
    AddressNotFound,
    GeocoderConfigError,
    GeocoderOutage,
    make_geocoder,
    make_service,
    normalise_line,
)
from tests.routing.fake_geocoders import FakeGeocoder, serve

BINJIANG_DAO = (39.1250, 117.2000)
NANKAI_UNIVERSITY = (39.1030, 117.1700)


@pytest.fixture
def fake() -> Iterator[FakeGeocoder]:
    """A geocoding web service on 127.0.0.1 that knows two Tianjin addresses (in WGS-84)."""
    service = FakeGeocoder(places={"滨江道1号": BINJIANG_DAO, "卫津路94号": NANKAI_UNIVERSITY})
    server, thread = serve(service)
    yield service
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def nominatim(fake: FakeGeocoder, **options):  # type: ignore[no-untyped-def]
    return make_geocoder("nominatim", url=fake.url, **{"min_delay_s": 0.0, **options})


def test_nominatim_answers_a_line_with_its_point(fake) -> None:  # type: ignore[no-untyped-def]
    lat, lon = nominatim(fake).geocode("滨江道1号")

    assert geodesic_m(lat, lon, *BINJIANG_DAO) < 0.1
    [request] = fake.requests
    assert request.path == "/search" and request.query["q"] == "滨江道1号" and request.query["format"] == "json"


def test_the_same_line_again_is_answered_from_the_cache_without_a_request(fake) -> None:  # type: ignore[no-untyped-def]
    geocoder = nominatim(fake)
    first = geocoder.geocode("滨江道1号")

    again = geocoder.geocode("  滨江道１号 ")  # spaces and a full-width digit: the same line

    assert again == first and len(fake.requests) == 1 and geocoder.requests == 1


def test_the_cache_is_bounded_and_forgets_the_least_recently_used_line(fake) -> None:  # type: ignore[no-untyped-def]
    geocoder = nominatim(fake, cache_size=1)
    geocoder.geocode("滨江道1号")
    geocoder.geocode("卫津路94号")
    geocoder.geocode("滨江道1号")

    assert len(fake.requests) == 3


def test_two_lookups_are_at_least_the_minimum_delay_apart(fake) -> None:  # type: ignore[no-untyped-def]
    geocoder = nominatim(fake, min_delay_s=0.2)

    geocoder.geocode("滨江道1号")
    geocoder.geocode("卫津路94号")

    first, second = fake.requests
    assert second.at - first.at >= 0.19  # the clocks of client and server threads are the same monotonic one


def test_an_unknown_line_is_not_found_and_remembered(fake) -> None:  # type: ignore[no-untyped-def]
    geocoder = nominatim(fake)
    for _ in range(2):
        with pytest.raises(AddressNotFound):
            geocoder.geocode("火星路1号")

    assert len(fake.requests) == 1


@pytest.mark.parametrize("status", [500, 503, 429, 403])
def test_an_outage_is_a_geocoder_outage_and_is_not_cached(fake, status) -> None:  # type: ignore[no-untyped-def]
    geocoder = nominatim(fake)
    fake.fail_with = status
    with pytest.raises(GeocoderOutage):
        geocoder.geocode("滨江道1号")

    fake.fail_with = None
    assert geodesic_m(*geocoder.geocode("滨江道1号"), *BINJIANG_DAO) < 0.1
    assert len(fake.requests) == 2


def test_a_stalled_service_times_out_as_an_outage(fake) -> None:  # type: ignore[no-untyped-def]
    fake.stall_s = 1.0
    with pytest.raises(GeocoderOutage):
        nominatim(fake, timeout_s=0.2).geocode("滨江道1号")


def test_a_service_nobody_answers_is_an_outage() -> None:
    geocoder = make_geocoder("nominatim", url="http://127.0.0.1:9", min_delay_s=0.0, timeout_s=1.0)
    with pytest.raises(GeocoderOutage):
        geocoder.geocode("滨江道1号")


def test_baidu_answers_in_bd09_and_the_point_comes_back_in_wgs84(fake) -> None:  # type: ignore[no-untyped-def]
    fake.places["滨江道1号"] = wgs84_to_bd09(*BINJIANG_DAO)
    geocoder = make_geocoder("baidu", url=fake.url, api_key="test-ak", min_delay_s=0.0)

    lat, lon = geocoder.geocode("滨江道1号")

    assert geocoder.crs == "bd09"
    assert geodesic_m(lat, lon, *BINJIANG_DAO) < 1
    assert geodesic_m(*fake.places["滨江道1号"], *BINJIANG_DAO) > 300  # unconverted, it would be far off
    [request] = fake.requests
    assert request.path == "/geocoder/v2/" and request.query["address"] == "滨江道1号"


def test_baidu_refusing_our_key_is_an_outage_not_a_bad_line(fake) -> None:  # type: ignore[no-untyped-def]
    geocoder = make_geocoder("baidu", url=fake.url, api_key="wrong-ak", min_delay_s=0.0)
    with pytest.raises(GeocoderOutage):
        geocoder.geocode("滨江道1号")


def test_lines_are_never_logged(fake, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="doorstep")
    geocoder = nominatim(fake)
    geocoder.geocode("滨江道1号")
    geocoder.geocode("滨江道1号")
    with pytest.raises(AddressNotFound):
        geocoder.geocode("火星路1号")

    doorstep_logs = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("doorstep"))
    assert "event=geocode" in doorstep_logs and "滨江道" not in doorstep_logs and "火星路" not in doorstep_logs


@pytest.mark.parametrize(("provider", "options", "fault"), [
    ("mapquest-classic", {}, "unsupported geocoder"),
    ("baidu", {}, "cannot set up the baidu geocoder"),  # Baidu needs an API key
    ("nominatim", {"url": "ftp://example.org"}, "not an http"),
])
def test_settings_that_cannot_work_are_refused_when_building(provider, options, fault) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GeocoderConfigError, match=fault):
        make_service(provider, **options)


def test_a_line_is_normalised_for_the_cache() -> None:
    assert normalise_line("  Weijin  ROAD\t94 ") == "weijin road 94"
    assert normalise_line("卫津路９４号") == "卫津路94号"
