"""Only nurses and couriers use the mobile API; everyone else is refused before anything happens."""
from __future__ import annotations

import pytest

from dispatch.models import Alarm, StopEvent
from mobile_api.positions import store
from tests.factories import SERVICE_DATE, iso
from tests.mobile_api.helpers import count

OUTSIDERS = ("patient_wang", "pharmacist_chen", "dispatcher_sun", "admin_root")


@pytest.mark.parametrize("who", OUTSIDERS)
def test_people_who_are_not_in_the_field_get_403_everywhere(client, personas, day, who) -> None:
    headers = personas.headers(who)
    where = {"at": iso("10:00"), "lat": 39.125, "lon": 117.2}
    answers = [
        client.get(f"/api/v1/mobile/route?date={SERVICE_DATE}", headers=headers),
        client.post(f"/api/v1/mobile/stops/{day.stops['li_wound']}/events", json={"type": "depart", **where},
                    headers=headers),
        client.post("/api/v1/mobile/location", json=where, headers=headers),
        client.post("/api/v1/mobile/sos", json={"lat": 39.125, "lon": 117.2}, headers=headers),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert all(a.mimetype == "application/problem+json" for a in answers)
    assert count(StopEvent) == count(Alarm) == 0
    assert store().last(personas["nurse_li"]["worker_id"]) is None


def test_without_a_token_the_mobile_api_answers_401(client) -> None:
    assert client.get(f"/api/v1/mobile/route?date={SERVICE_DATE}").status_code == 401
    assert client.post("/api/v1/mobile/sos", json={"lat": 1, "lon": 1}).status_code == 401
