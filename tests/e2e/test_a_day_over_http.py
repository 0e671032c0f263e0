"""A whole day, as outside clients drive it over HTTP against ``doorstep serve``.

A patient orders a visit, a triage nurse accepts it, a pharmacist creates and
reviews a parcel, a dispatcher plans the day on the real Celery worker, the
nurse works the visit to completion and the courier delivers the parcel; the
patient sees ``completed`` and anyone with the tracking code sees ``delivered``.
"""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Asia/Shanghai")
# The day after tomorrow: a visit at 09:00 is then always past the hospital's 24-hour lead time.
DAY = (datetime.now(TZ) + timedelta(days=2)).date()
PASSWORD = "e2e-password-123"


def t(hhmm: str, day: date = DAY) -> str:
    return datetime.fromisoformat(f"{day.isoformat()}T{hhmm}:00").replace(tzinfo=TZ).isoformat()


class Client:
    """One signed-in person talking to the server."""

    def __init__(self, server, username: str) -> None:  # type: ignore[no-untyped-def]
        self.server = server
        response = requests.post(server.url("/api/v1/auth/token"), json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **kwargs):  # type: ignore[no-untyped-def]
        return requests.get(self.server.url(path), headers=self.headers, timeout=30, **kwargs)

    def post(self, path: str, body: dict, expect: int | tuple[int, ...] = (200, 201, 202)) -> dict:
        response = requests.post(self.server.url(path), json=body, headers=self.headers, timeout=30)
        expected = (expect,) if isinstance(expect, int) else expect
        assert response.status_code in expected, f"{path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


def test_a_patient_visit_and_a_parcel_go_from_order_to_doorstep(server) -> None:  # type: ignore[no-untyped-def]
    created = server.cli("users", "create", "--username", "e2e_admin", "--role", "admin", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    admin = Client(server, "e2e_admin")

    pharmacy = admin.post("/api/v1/pharmacies", {"name": "Heping Pharmacy", "lat": 39.1270, "lon": 117.2050})
    shift = [{"start": t("08:00"), "end": t("17:00")}]
    nurse = admin.post("/api/v1/workers", {
        "kind": "nurse", "name": "Li Na", "skills": ["basic_care", "wound_care", "rn_5y", "triage"],
        "districts": ["heping", "hexi"], "home": {"lat": 39.1300, "lon": 117.1950}, "shifts": shift,
        "title": "supervising_nurse", "registration_number": "201212000101", "practice_began": "2012-07-01"})
    courier = admin.post("/api/v1/workers", {
        "kind": "courier", "name": "Zhao Lei", "skills": ["cold_chain"], "districts": ["heping", "hexi"],
        "home": {"lat": 39.1270, "lon": 117.2050}, "shifts": shift})
    accounts = {
        "e2e_nurse": {"role": "nurse", "worker_id": nurse["id"]},
        "e2e_courier": {"role": "courier", "worker_id": courier["id"]},
        "e2e_pharmacist": {"role": "pharmacist", "pharmacy_id": pharmacy["id"]},
        "e2e_dispatcher": {"role": "dispatcher"},
        "e2e_patient": {"role": "patient", "name": "Wang Fang", "phone": "13800000009"},
    }
    for username, extra in accounts.items():
        admin.post("/api/v1/users", {"username": username, "password": PASSWORD, **extra})
    patient, nurse_app, courier_app = (Client(server, u) for u in ("e2e_patient", "e2e_nurse", "e2e_courier"))
    pharmacist, dispatcher = Client(server, "e2e_pharmacist"), Client(server, "e2e_dispatcher")

    me = patient.get("/api/v1/patients/me").json()
    address = patient.post("/api/v1/patients/me/addresses",
                           {"label": "home", "line": "Binjiang Dao 1", "lat": 39.1250, "lon": 117.2000})
    assert address["district"] == "heping"
    services = patient.get("/api/v1/catalogue/services").json()
    wound = next(s for s in services if "wound_care" in s["skills"])
    visit = patient.post("/api/v1/care-orders", {"service_code": wound["code"], "address_id": address["id"],
                                                 "window": {"start": t("09:00"), "end": t("12:00")}})
    assert visit["status"] == "requested"
    assert nurse_app.post(f"/api/v1/care-orders/{visit['id']}/triage", {"accepted": True})["status"] == "accepted"

    parcel = pharmacist.post("/api/v1/delivery-orders", {
        "prescription_ref": "RX-E2E-1", "patient_id": me["id"], "address_id": address["id"],
        "items": [{"name": "Insulin glargine", "quantity": 2}], "cold_chain": True,
        "window": {"start": t("13:00"), "end": t("16:00")}})
    assert parcel["status"] == "awaiting_review"
    assert pharmacist.post(f"/api/v1/delivery-orders/{parcel['id']}/review", {"approved": True})["status"] == "ready"

    plan = dispatcher.post("/api/v1/dispatch/plans", {"date": DAY.isoformat()})
    plan = _wait_for_plan(dispatcher, plan["id"])
    assert plan["status"] == "done", plan
    assert plan["summary"]["assigned"] == 2 and plan["unassigned"] == []
    assert patient.get(f"/api/v1/orders/{visit['id']}").json()["status"] == "scheduled"

    route = nurse_app.get(f"/api/v1/mobile/route?date={DAY.isoformat()}").json()
    stop = next(s for s in route["stops"] if s.get("order_id") == visit["id"])
    for event, at in (("depart", "09:00"), ("arrive", "09:20"), ("start", "09:21"), ("complete", "10:00")):
        nurse_app.post(f"/api/v1/mobile/stops/{stop['id']}/events",
                       {"type": event, "at": t(at), "lat": 39.1250, "lon": 117.2000})
    seen = patient.get(f"/api/v1/orders/{visit['id']}").json()
    assert seen["status"] == "completed"
    assert [h["to"] for h in seen["history"]] == ["requested", "accepted", "scheduled", "en_route",
                                                  "in_progress", "completed"]

    stops = courier_app.get(f"/api/v1/mobile/route?date={DAY.isoformat()}").json()["stops"]
    pickup = next(s for s in stops if s["type"] == "pickup" and s["order_id"] == parcel["id"])
    dropoff = next(s for s in stops if s["type"] == "dropoff" and s["order_id"] == parcel["id"])
    courier_app.post(f"/api/v1/mobile/stops/{pickup['id']}/events",
                     {"type": "pickup", "at": t("13:00"), "lat": 39.1270, "lon": 117.2050, "seal_code": "E2E-1"})
    for event, at in (("depart", "13:05"), ("arrive", "13:20")):
        courier_app.post(f"/api/v1/mobile/stops/{dropoff['id']}/events",
                         {"type": event, "at": t(at), "lat": 39.1250, "lon": 117.2000})
    code = patient.get(f"/api/v1/orders/{parcel['id']}").json()["delivery_code"]  # the patient shows it
    courier_app.post(f"/api/v1/mobile/stops/{dropoff['id']}/events", {
        "type": "deliver", "at": t("13:22"), "lat": 39.1250, "lon": 117.2000,
        "proof": {"recipient_name": "Patient", "code": code, "seal_code": "E2E-1",
                  "temperature_log": [{"at": t("13:00"), "celsius": 5.0}, {"at": t("13:20"), "celsius": 5.5}]}})
    public = requests.get(server.url(f"/api/v1/track/{parcel['tracking_code']}"), timeout=10).json()
    assert public["status"] == "delivered"
    assert patient.get(f"/api/v1/orders/{parcel['id']}").json()["status"] == "delivered"


def _wait_for_plan(dispatcher: Client, plan_id: int, timeout_s: float = 90) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        plan = dispatcher.get(f"/api/v1/dispatch/plans/{plan_id}").json()
        if plan["status"] in ("done", "failed"):
            return plan
        time.sleep(0.5)
    raise AssertionError(f"plan {plan_id} still {plan['status']} after {timeout_s} s")
