"""POST /mobile/location reads its body without marshmallow when it is plainly valid
(mobile_api/ping_body.py); everything else gets LocationArgs's own answers, and the
OpenAPI document still describes LocationArgs and the 204."""
from __future__ import annotations

import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from mobile_api.ping_body import quick_load
from mobile_api.positions import last_position, store
from mobile_api.schemas import LocationArgs
from tests.factories import at, iso

LOCATION = "/api/v1/mobile/location"

lats = st.one_of(st.floats(min_value=-90, max_value=90), st.integers(min_value=-90, max_value=90))
lons = st.one_of(st.floats(min_value=-180, max_value=180), st.integers(min_value=-180, max_value=180))
accuracies = st.one_of(st.none(), st.floats(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=100_000))
aware_times = st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
anything = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**30, max_value=10**30),
                     st.floats(min_value=-200, max_value=200), st.integers(min_value=-200, max_value=200),
                     st.booleans(), st.none(), st.text(max_size=8),
                     st.sampled_from(["39.1", "-0", "1e400", "NaN", "wgs84", "wgs84\x00", "bd09", "mercator"]),
                     st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
                     st.sampled_from(["2026-11-23T10:00:00+08:00", "2026-11-23T10:00:00Z", "2026-11-23T10:00:00",
                                      "2026-11-23", "20261123T100000+0800", "2026-W48-1T10:00+08:00",
                                      "2026-11-23T10:00:00+08:00\x00", "2026-11-23 10:00:00.5+08:00"]))
valid = st.fixed_dictionaries({"lat": lats, "lon": lons, "at": aware_times}, optional={
    "crs": st.sampled_from([None, "wgs84", "gcj02", "bd09"]), "accuracy_m": accuracies})
# a valid body with one to three keys replaced by anything (or added: unknown ones too)
bodies = st.one_of(valid, st.builds(
    lambda body, changes: {**body, **changes}, valid,
    st.dictionaries(st.sampled_from(["lat", "lon", "at", "crs", "accuracy_m", "speed", "", "lat\x00"]), anything,
                    min_size=1, max_size=3)))


@settings(max_examples=1500, deadline=None, database=None)
@given(body=bodies)
@example(body={"lat": 0.0, "lon": 0.0, "at": "2026-11-23T10:00:00+08:00\x00"})  # fromisoformat stops at the NUL
def test_the_quick_path_takes_only_what_the_schema_takes_and_loads_it_the_same(body) -> None:
    quick = quick_load(dict(body))
    try:
        loaded = LocationArgs().load(dict(body))
    except ValidationError:
        assert quick is None, f"taken by the quick path, refused by LocationArgs: {body!r}"
        return
    if quick is not None:
        assert quick == {"crs": None, "accuracy_m": None, **loaded}
        assert all(type(quick[k]) is float for k in ("lat", "lon"))


def test_a_plain_ping_takes_the_quick_path() -> None:
    body = {"lat": 39.1, "lon": 117, "at": "2026-11-23T10:00:00.123+08:00", "crs": "gcj02", "accuracy_m": 0}
    assert quick_load(body) == {**LocationArgs().load(body), "lat": 39.1, "lon": 117.0, "accuracy_m": 0.0}


def ping(client, personas, body, **kwargs):  # type: ignore[no-untyped-def]
    return client.post(LOCATION, headers=personas.headers("nurse_li"), **({"json": body} if body is not None else {}),
                       **kwargs)


def test_what_marshmallow_accepts_beyond_the_quick_path_is_still_accepted(client, personas) -> None:
    response = ping(client, personas, {"lat": "39.125", "lon": "117.2", "at": iso("10:00"), "accuracy_m": "5",
                                       "crs": None})

    assert response.status_code == 204
    last = last_position(personas["nurse_li"]["worker_id"])
    assert (last.lat, last.lon, last.at, last.accuracy_m) == (39.125, 117.2, at("10:00"), 5.0)


@pytest.mark.parametrize("body, fields", [
    ({"lat": True, "lon": 117.2, "at": iso("10:00")}, {"lat"}),
    ({"lat": float("nan"), "lon": 117.2, "at": iso("10:00")}, {"lat"}),
    ({"lat": 39.1, "lon": 117.2, "at": iso("10:00"), "crs": "wgs84\x00"}, {"crs"}),
    ({"lat": 39.1, "lon": 117.2, "at": 1700000000}, {"at"}),
    ({"lat": 39.1, "lon": 117.2, "at": iso("10:00"), "accuracy_m": 100_001}, {"accuracy_m"}),
    ({"lat": 39.1, "lon": 117.2}, {"at"}),
    ({"lat": 39.1, "lon": 117.2, "at": iso("10:00"), "speed": 3, "heading": 90}, {"speed", "heading"}),
    ([{"lat": 39.1, "lon": 117.2, "at": iso("10:00")}], {"_schema"}),
])
def test_a_bad_body_is_the_schemas_422_naming_the_field(client, personas, body, fields) -> None:
    if isinstance(body, dict) and isinstance(body.get("lat"), float) and math.isnan(body["lat"]):
        response = ping(client, personas, None, data=f'{{"lat": NaN, "lon": 117.2, "at": "{iso("10:00")}"}}',
                        content_type="application/json")
    else:
        response = ping(client, personas, body)

    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert fields <= set(response.get_json()["errors"])
    assert last_position(personas["nurse_li"]["worker_id"]) is None


def test_a_body_that_is_not_json_is_400_and_one_sent_as_text_is_422(client, personas) -> None:
    broken = ping(client, personas, None, data=b'{"lat": 39.1,', content_type="application/json")
    as_text = ping(client, personas, None, data=b'{"lat": 39.1, "lon": 117.2}', content_type="text/plain")
    latin = ping(client, personas, None, data='{"lat": 39.1, "lon": 117.2, "at": "é"}'.encode("latin-1"),
                 content_type="application/json")

    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"
    assert as_text.status_code == 422 and {"lat", "lon", "at"} <= set(as_text.get_json()["errors"])
    assert latin.status_code == 400
    assert store().trail(personas["nurse_li"]["worker_id"], "2026-11-23") == []


def test_the_openapi_document_still_describes_the_body_and_the_204(client) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"][LOCATION]["post"]

    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LocationArgs"}
    assert set(operation["responses"]) >= {"204", "422"}
    properties = spec["components"]["schemas"]["LocationArgs"]["properties"]
    assert set(properties) == {"lat", "lon", "at", "crs", "accuracy_m"}
    assert properties["crs"]["enum"][:3] == ["wgs84", "gcj02", "bd09"]
