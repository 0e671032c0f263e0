"""GET /alarms and POST /alarms/{id}/acknowledge: the dispatchers' side of the one-key alarm."""
from __future__ import annotations

from dispatch.models import Alarm
from doorstep.feed import feed
from tests.mobile_api.helpers import fresh

SOS = "/api/v1/mobile/sos"


def press(client, personas, who):  # type: ignore[no-untyped-def]
    return client.post(SOS, json={"lat": 39.10, "lon": 117.17}, headers=personas.headers(who)).get_json()


def test_open_alarms_are_listed_until_acknowledged_and_the_board_hears_who_took_it(client, personas) -> None:
    li, zhao = press(client, personas, "nurse_li"), press(client, personas, "courier_zhao")
    board = personas.headers("dispatcher_sun")

    ack = client.post(f"/api/v1/alarms/{li['id']}/acknowledge", headers=board)

    assert ack.status_code == 200 and ack.get_json()["status"] == "acknowledged"
    assert ack.get_json()["acknowledged_by"] == personas["dispatcher_sun"]["user_id"]
    open_ = client.get("/api/v1/alarms?status=open", headers=board).get_json()
    assert [a["id"] for a in open_] == [zhao["id"]]
    assert open_[0]["lat"] == 39.10 and open_[0]["presses"] == 1
    all_ = client.get("/api/v1/alarms?status=all", headers=board).get_json()
    assert {a["id"] for a in all_} == {li["id"], zhao["id"]}
    events, _ = feed().read("0", 0.01)
    assert events[-1].kind == "alarm_acknowledged" and events[-1].data["alarm_id"] == li["id"]


def test_an_alarm_is_acknowledged_once_and_unknown_ids_are_404(client, personas) -> None:
    alarm = press(client, personas, "nurse_zhou")
    client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=personas.headers("dispatcher_sun"))

    again = client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=personas.headers("admin_root"))
    missing = client.post("/api/v1/alarms/999999/acknowledge", headers=personas.headers("dispatcher_sun"))

    assert again.status_code == 409 and missing.status_code == 404
    assert fresh(Alarm, alarm["id"]).acknowledged_by == personas["dispatcher_sun"]["user_id"]


def test_workers_and_patients_can_neither_list_nor_acknowledge_alarms(client, personas) -> None:
    alarm = press(client, personas, "nurse_li")
    for who in ("nurse_li", "nurse_zhou", "patient_wang", "pharmacist_chen"):
        listed = client.get("/api/v1/alarms", headers=personas.headers(who))
        acked = client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=personas.headers(who))
        assert (listed.status_code, acked.status_code) == (403, 403), who
    assert fresh(Alarm, alarm["id"]).acknowledged_by is None


def test_a_bad_status_filter_is_422_naming_it(client, personas) -> None:
    response = client.get("/api/v1/alarms?status=closed", headers=personas.headers("dispatcher_sun"))

    assert response.status_code == 422 and "query.status" in response.get_json()["errors"]
