"""Late workers on the live feed: behind the plan by the setting's minutes, or arriving after the window."""
from __future__ import annotations

from datetime import timedelta

from dispatch.live_events import detect_late_workers
from doorstep.feed import feed
from mobile_api.positions import Ping, keep_ping
from tests.factories import at


def late_events():  # type: ignore[no-untyped-def]
    events, _ = feed().read("0", 0.01)
    return [e.data for e in events if e.kind == "worker_late"]


def test_a_worker_behind_the_plan_is_announced_once_per_stop(app, personas, day, hospital) -> None:
    hospital(late_after_minutes=15)
    li = personas["nurse_li"]["worker_id"]

    on_time = detect_late_workers(at("09:10"))  # wound care planned at 09:00: 10 minutes behind
    late = detect_late_workers(at("09:20"))
    again = detect_late_workers(at("09:25"))

    assert on_time == [] or all(x.worker_id != li for x in on_time)
    assert [(x.worker_id, x.stop_id, x.minutes_behind) for x in late if x.worker_id == li] == [
        (li, day.stops["li_wound"], 20)]
    assert any(x.worker_id == li for x in again)
    announced = [e for e in late_events() if e["worker_id"] == li]
    assert len(announced) == 1 and announced[0]["stop_id"] == day.stops["li_wound"]
    assert set(announced[0]) == {"worker_id", "stop_id", "order_id", "eta", "minutes_behind", "past_window"}


def test_a_worker_whose_position_puts_the_arrival_past_the_window_is_late(app, personas, day, hospital) -> None:
    hospital(late_after_minutes=600)  # only the window counts here
    li = personas["nurse_li"]["worker_id"]
    keep_ping(Ping(li, 39.30, 117.60, at("10:50")))  # far out east at 10:50; the window closes at 11:00

    late = [x for x in detect_late_workers(at("10:50")) if x.worker_id == li]

    assert len(late) == 1 and late[0].past_window and late[0].eta > at("11:00")
    assert late[0].eta < at("10:50") + timedelta(hours=3)
