"""A new visit-verification exception reaches the dispatchers' live feed once committed (ids and
codes only), whichever code opened it, so the board's queue grows as it happens."""
from __future__ import annotations

from doorstep.feed import feed

THREE_HUNDRED_M_AWAY = {"lat": 39.1277, "lon": 117.2000}


def test_a_far_check_in_is_announced_on_the_feed_with_ids_only(client, personas, day, report) -> None:
    before = feed().cursor(None)
    away = report("nurse_li", day.stops["li_wound"], "arrive", **THREE_HUNDRED_M_AWAY)
    assert away.status_code == 201

    events, _ = feed().read(before, 0.01)
    announced = [e for e in events if e.kind == "evv_exception"]
    assert len(announced) == 1
    queue = client.get("/api/v1/evv/exceptions?status=open", headers=personas.headers("dispatcher_sun")).get_json()
    assert announced[0].data == {"exception_id": queue[0]["id"], "kind": "far_from_door",
                                 "worker_id": personas["nurse_li"]["worker_id"], "order_id": day.wound_care_id,
                                 "stop_id": day.stops["li_wound"]}
    # A resend of the same report opens nothing and announces nothing.
    report("nurse_li", day.stops["li_wound"], "arrive", **THREE_HUNDRED_M_AWAY)
    assert [e for e in feed().read(before, 0.01)[0] if e.kind == "evv_exception"] == announced
