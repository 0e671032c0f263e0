"""An address without a point is geocoded from its line; with a point it never is."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from doorstep import geography
from doorstep.app import create_app
from doorstep.db import session
from doorstep.geography import GeographyConfigError
from orders.models import Address
from routing.geo import geodesic_m
from routing.geocode import make_geocoder
from tests.factories import BINJIANG_DAO
from tests.orders.helpers import assert_problem
from tests.routing.fake_geocoders import FakeGeocoder, serve

ADDRESSES = "/api/v1/patients/me/addresses"
BEIJING = (39.9042, 116.4074)


@pytest.fixture
def nominatim(app, monkeypatch) -> Iterator[FakeGeocoder]:  # type: ignore[no-untyped-def]
    """The app geocodes through a fake Nominatim on 127.0.0.1 that knows 滨江道1号 and a Beijing street."""
    fake = FakeGeocoder(places={"滨江道1号": BINJIANG_DAO, "长安街1号": BEIJING})
    server, thread = serve(fake)
    monkeypatch.setitem(app.extensions, geography.GEOCODER,
                        make_geocoder("nominatim", url=fake.url, min_delay_s=0.0, timeout_s=1.0))
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _addresses() -> int:
    return session.scalar(select(func.count()).select_from(Address)) or 0


def _post(client, personas, **body):  # type: ignore[no-untyped-def]
    return client.post(ADDRESSES, headers=personas.headers("patient_wang"), json={"label": "home", **body})


def test_without_a_geocoder_an_address_without_a_point_is_a_422_asking_for_lat_and_lon(client, personas) -> None:  # type: ignore[no-untyped-def]
    before = _addresses()
    body = assert_problem(_post(client, personas, line="滨江道1号"), 422, "lat", "lon")
    assert "coordinates" in body["detail"]
    assert _addresses() == before


@pytest.mark.parametrize(("sent", "missing"), [({"lat": 39.125}, "lon"), ({"lon": 117.2}, "lat")])
def test_lat_without_lon_or_lon_without_lat_is_a_422_naming_the_missing_one(client, personas, sent, missing) -> None:  # type: ignore[no-untyped-def]
    assert_problem(_post(client, personas, line="滨江道1号", **sent), 422, missing)


def test_a_line_alone_is_geocoded_and_lands_in_its_district(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, personas, line="滨江道1号")

    assert response.status_code == 201, response.get_json()
    address = response.get_json()
    assert address["district"] == "heping" and address["line"] == "滨江道1号"
    assert geodesic_m(address["lat"], address["lon"], *BINJIANG_DAO) < 0.1
    assert len(nominatim.requests) == 1


def test_an_address_with_a_point_is_never_geocoded(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, personas, line="滨江道1号", lat=BINJIANG_DAO[0], lon=BINJIANG_DAO[1])

    assert response.status_code == 201
    assert nominatim.requests == []


def test_a_line_the_geocoder_does_not_know_is_a_422_naming_line_and_nothing_is_written(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    before = _addresses()
    assert_problem(_post(client, personas, line="火星路1号"), 422, "line")
    assert _addresses() == before


def test_a_line_found_outside_every_district_is_a_422_naming_line(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    assert_problem(_post(client, personas, line="长安街1号"), 422, "line")


def test_a_geocoder_outage_is_a_503_naming_line_and_nothing_is_written(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    nominatim.fail_with = 502
    before = _addresses()

    body = assert_problem(_post(client, personas, line="滨江道1号"), 503, "line")

    assert "lat and lon" in body["detail"]
    assert _addresses() == before


def test_a_geocoder_that_does_not_answer_in_time_is_a_503(client, personas, nominatim) -> None:  # type: ignore[no-untyped-def]
    nominatim.stall_s = 1.5
    assert_problem(_post(client, personas, line="滨江道1号"), 503, "line")


def test_an_unknown_geocoder_stops_the_app_at_start_up(settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GeographyConfigError, match="DOORSTEP_GEOCODER=mapquest-classic: unsupported geocoder"):
        create_app(settings.with_overrides(geocoder="mapquest-classic"))


def test_the_openapi_document_says_lat_and_lon_are_optional_and_503_may_come(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").get_json()
    post = doc["paths"][ADDRESSES]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    schema = doc["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
    assert set(schema["required"]) == {"label", "line"}
    assert {"422", "503"} <= set(post["responses"])
