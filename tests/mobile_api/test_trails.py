"""GET /workers/{id}/trail: a day's kept positions, for dispatchers, every read audited."""
from __future__ import annotations

from sqlalchemy import select

from doorstep.db import session
from doorstep.models import AuditEntry
from tests.factories import at, iso
from tests.mobile_api.helpers import instant


def test_a_dispatcher_reads_a_workers_day_oldest_first_and_the_read_is_audited(client, personas) -> None:
    worker_id = personas["nurse_li"]["worker_id"]
    for hhmm, lat in (("10:05", 39.12), ("10:00", 39.11), ("18:00", 39.13)):  # 18:00 is after her shift
        client.post("/api/v1/mobile/location", json={"lat": lat, "lon": 117.2, "at": iso(hhmm)},
                    headers=personas.headers("nurse_li"))

    response = client.get(f"/api/v1/workers/{worker_id}/trail?date=2026-11-23",
                          headers=personas.headers("dispatcher_sun"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["worker_id"] == worker_id and body["date"] == "2026-11-23"
    assert [(p["lat"], instant(p["at"])) for p in body["points"]] == [(39.11, at("10:00")), (39.12, at("10:05"))]
    session.expire_all()
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.entity == "worker_trail")))
    assert [(r.actor_user_id, r.action, r.entity_id, r.detail["date"]) for r in rows] == [
        (personas["dispatcher_sun"]["user_id"], "read", str(worker_id), "2026-11-23")]


def test_another_day_is_empty_and_an_unknown_worker_is_404(client, personas) -> None:
    headers = personas.headers("admin_root")
    other_day = client.get(f"/api/v1/workers/{personas['nurse_li']['worker_id']}/trail?date=2026-11-22",
                           headers=headers)
    unknown = client.get("/api/v1/workers/999999/trail?date=2026-11-23", headers=headers)
    no_date = client.get(f"/api/v1/workers/{personas['nurse_li']['worker_id']}/trail", headers=headers)

    assert other_day.status_code == 200 and other_day.get_json()["points"] == []
    assert unknown.status_code == 404 and no_date.status_code == 422 and "query.date" in no_date.get_json()["errors"]


def test_workers_and_patients_cannot_read_trails_not_even_their_own(client, personas) -> None:
    li = personas["nurse_li"]["worker_id"]
    client.post("/api/v1/mobile/location", json={"lat": 39.11, "lon": 117.2, "at": iso("10:00")},
                headers=personas.headers("nurse_li"))

    for who, worker_id in (("nurse_zhou", li), ("nurse_li", li), ("courier_zhao", li), ("patient_wang", li)):
        response = client.get(f"/api/v1/workers/{worker_id}/trail?date=2026-11-23", headers=personas.headers(who))
        assert response.status_code == 403, who
    session.expire_all()
    assert session.scalars(select(AuditEntry).where(AuditEntry.entity == "worker_trail")).first() is None
