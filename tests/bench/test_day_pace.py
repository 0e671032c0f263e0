"""The simulated day's player keeps the plan's pace: each leg takes the travel time the plan gave it
(``bench.day_play.Legs``), not a fixed ride, so couriers on short e-bike legs do not fall hours behind."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bench.day_play import Ledger, Legs, WorkerAgent
from routing.matrix import geodesic_table
from routing.travel import Travel

TZ = ZoneInfo("Asia/Shanghai")
HOME, DOOR, PHARMACY = (31.20, 121.40), (31.23, 121.43), (31.25, 121.40)
NINE = datetime(2030, 5, 6, 9, 0, tzinfo=TZ)


def _agent(kind: str) -> tuple[WorkerAgent, list[tuple[str, datetime]]]:
    day = SimpleNamespace(clock=SimpleNamespace(tz=TZ), http=None, ledger=Ledger(), legs=Legs(Travel()),
                          seal=lambda order_id: f"SEAL-{order_id}")
    agent = WorkerAgent.__new__(WorkerAgent)
    agent.day, agent.id, agent.kind, agent.position = day, 1, kind, HOME
    agent.late_by, agent.fail_next_dropoff = timedelta(0), False
    agent.departed_at, agent.ride, agent.started_at, agent.last_ping = {}, {}, {}, None
    agent.free_at = datetime.min.replace(tzinfo=TZ)
    reports: list[tuple[str, datetime]] = []

    def report(stop: dict[str, Any], type_: str, now: datetime, where: tuple[float, float], **_: Any) -> bool:
        reports.append((type_, now))
        stop["status"] = {"depart": "departed", "arrive": "arrived"}.get(type_, "done")
        agent.position = where if type_ != "depart" else agent.position
        if type_ in ("pickup", "complete", "deliver", "fail"):
            agent.free_at = now
        return True

    agent.report = report  # type: ignore[method-assign]
    agent.ping = lambda *a: None  # type: ignore[method-assign]
    agent.deliver = lambda stop, now, where: report(stop, "deliver", now, where)  # type: ignore[method-assign]
    return agent, reports


def _stop(type_: str, where: tuple[float, float], eta: datetime) -> dict[str, Any]:
    return {"id": 7, "type": type_, "status": "planned", "order_id": 90, "eta": eta.isoformat(),
            "location": {"lat": where[0], "lon": where[1]}, "task": {}}


def _play(agent: WorkerAgent, stop: dict[str, Any], start: datetime, until: datetime) -> None:
    now = start
    while now <= until and stop["status"] != "done":
        agent.act(stop, now)
        now += timedelta(seconds=30)


def test_a_courier_sets_off_one_e_bike_leg_before_the_planned_arrival_and_arrives_on_time() -> None:
    agent, reports = _agent("courier")
    leg = timedelta(seconds=geodesic_table([HOME, DOOR], "ebike")[0][0][1])
    assert timedelta(minutes=5) < leg < timedelta(minutes=30)  # not the old fixed 15 minutes
    _play(agent, _stop("dropoff", DOOR, NINE), NINE - timedelta(hours=1), NINE + timedelta(hours=1))
    (depart, left), (arrive, came), (deliver, _) = reports
    assert (depart, arrive, deliver) == ("depart", "arrive", "deliver")
    assert NINE - leg <= left < NINE - leg + timedelta(seconds=30)
    assert came - left - leg < timedelta(seconds=30)


def test_a_nurse_drives_the_same_leg_faster_than_a_courier_rides_it() -> None:
    legs = Legs(Travel())
    assert legs("nurse", HOME, DOOR) < legs("courier", HOME, DOOR)


def test_a_pickup_waits_for_the_ride_to_the_pharmacy_after_the_last_stop() -> None:
    agent, reports = _agent("courier")
    agent.free_at = NINE  # just delivered at home's door, and the pickup was due at 09:00
    leg = Legs(Travel())("courier", HOME, PHARMACY)
    _play(agent, _stop("pickup", PHARMACY, NINE), NINE, NINE + timedelta(hours=1))
    [(pickup, at)] = reports
    assert pickup == "pickup" and NINE + leg <= at < NINE + leg + timedelta(seconds=30)
