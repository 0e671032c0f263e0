"""The simulated day's check of plan snapshots: no task on two workers (``bench.day_play``)."""
from __future__ import annotations

from typing import Any

from bench.day_play import Day, Ledger


def _day() -> Day:
    day = Day.__new__(Day)  # the check alone: no servers, no clients
    day.ledger, day.plan_snapshot = Ledger(), None
    return day


def _route(worker_id: int, *stops: tuple[str, int, str]) -> dict[str, Any]:
    return {"worker_id": worker_id, "stops": [{"type": t, "order_id": o, "status": s} for t, o, s in stops]}


def test_a_parcel_delivered_again_by_another_courier_after_a_failed_attempt_is_on_one_worker() -> None:
    day = _day()
    day.take_snapshot({"revision": 3, "routes": [
        _route(1, ("pickup", 78, "done"), ("dropoff", 78, "failed")),
        _route(2, ("pickup", 78, "planned"), ("dropoff", 78, "planned"))]})
    assert day.ledger.double_assigned == []


def test_a_parcel_picked_up_by_one_courier_and_delivered_by_another_is_on_two() -> None:
    day = _day()
    day.take_snapshot({"revision": 4, "routes": [
        _route(1, ("pickup", 78, "done")), _route(2, ("dropoff", 78, "done"))]})
    assert day.ledger.double_assigned == ["order 78 on workers [1, 2] (revision 4)"]
