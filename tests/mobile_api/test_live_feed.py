"""GET /dispatch/events: the dispatchers' live feed as server-sent events."""
from __future__ import annotations

import pytest

from doorstep.feed import feed, publish_event
from tests.live.sse import FEED, read_feed


def test_a_board_subscribed_receives_what_is_published_then(client, personas) -> None:
    events = read_feed(client, headers=personas.headers("dispatcher_sun"),
                       then=lambda: publish_event("plan_version", {"plan_id": 7, "version": 2}, on_commit=False))

    assert [(e["kind"], e["data"]) for e in events] == [("plan_version", {"plan_id": 7, "version": 2})]
    assert events[0]["at"]


def test_a_board_that_reconnects_with_last_event_id_misses_nothing(client, personas) -> None:
    ids = [feed().publish("stop_failed", {"stop_id": n}) for n in (1, 2, 3)]

    events = read_feed(client, headers=personas.headers("dispatcher_sun", **{"Last-Event-ID": ids[0]}))

    assert [(e["id"], e["data"]["stop_id"]) for e in events] == [(ids[1], 2), (ids[2], 3)]


def test_without_last_event_id_a_board_gets_only_new_events(client, personas) -> None:
    feed().publish("stop_failed", {"stop_id": 1})

    assert read_feed(client, headers=personas.headers("admin_root")) == []


def test_an_sos_reaches_the_board_at_once_without_the_position_or_note(client, personas) -> None:
    answers = []
    events = read_feed(client, headers=personas.headers("dispatcher_sun"), then=lambda: answers.append(
        client.post("/api/v1/mobile/sos", json={"lat": 39.1031, "lon": 117.1702, "note": "dog bite"},
                    headers=personas.headers("nurse_zhou"))))

    alarm = answers[0].get_json()
    assert [(e["kind"], e["data"]["alarm_id"], e["data"]["worker_id"]) for e in events] == [
        ("sos", alarm["id"], personas["nurse_zhou"]["worker_id"])]
    assert "39.103" not in str(events) and "dog bite" not in str(events)


def test_a_failed_stop_is_announced_once_committed(client, personas, day, report) -> None:
    events = read_feed(client, headers=personas.headers("dispatcher_sun"), then=lambda: report(
        "nurse_li", day.stops["li_wound"], "fail", reason="Nobody home"))

    assert [(e["kind"], e["data"]) for e in events] == [("stop_failed", {
        "stop_id": day.stops["li_wound"], "order_id": day.wound_care_id,
        "worker_id": personas["nurse_li"]["worker_id"], "route_id": day.li_route_id})]


def test_a_feed_token_opens_the_stream_for_an_eventsource(client, personas) -> None:
    issued = client.post("/api/v1/dispatch/events/token", headers=personas.headers("dispatcher_sun"))
    assert issued.status_code == 201 and issued.get_json()["expires_in"] == 60

    events = read_feed(client, query=f"?token={issued.get_json()['token']}",
                       then=lambda: feed().publish("sos", {"alarm_id": 1}))

    assert [e["kind"] for e in events] == ["sos"]


@pytest.mark.parametrize("who", ["nurse_li", "courier_zhao", "patient_wang", "pharmacist_chen"])
def test_field_staff_patients_and_pharmacists_get_403(client, personas, who) -> None:
    stream = client.get(FEED, headers=personas.headers(who))
    token = client.post("/api/v1/dispatch/events/token", headers=personas.headers(who))

    assert (stream.status_code, token.status_code) == (403, 403)
    assert stream.mimetype == token.mimetype == "application/problem+json"


def test_without_credentials_or_with_the_wrong_token_the_feed_is_401(client, personas) -> None:
    access_token = personas.token("dispatcher_sun")  # an access token is not a feed token

    answers = [client.get(FEED), client.get(f"{FEED}?token=nonsense"), client.get(f"{FEED}?token={access_token}")]

    assert [a.status_code for a in answers] == [401, 401, 401]


def test_feed_events_refuse_personal_data(app) -> None:
    with app.app_context(), pytest.raises(ValueError, match="address"):
        publish_event("evv_exception", {"stop_id": 1, "address": "1 Test Road"}, on_commit=False)
    with app.app_context(), pytest.raises(ValueError, match="kind"):
        publish_event("gossip", {"stop_id": 1}, on_commit=False)
