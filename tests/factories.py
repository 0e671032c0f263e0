"""Named personas of a small hospital, built through the services where one exists.

Everyone works on ``SERVICE_DATE`` (Monday 23 November 2026, Tianjin time). The suite's clock
stands at ``SUITE_NOW`` (Friday 20 November, 09:00), so bookings for that Monday are past the
hospital's lead time and within its horizon (``tests/conftest.py``).
The password of every persona is ``PASSWORD``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from doorstep.accounts import create_user
from doorstep.db import session
from dispatch.models import Shift, Worker
from orders.models import Address, Pharmacy

TZ = ZoneInfo("Asia/Shanghai")
SERVICE_DATE = "2026-11-23"
SUITE_NOW = "2026-11-20T09:00:00+08:00"
PASSWORD = "correct-horse-battery"

# Points whose districts are beyond doubt.
BINJIANG_DAO = (39.1250, 117.2000)  # heping
NANKAI_UNIVERSITY = (39.1030, 117.1700)  # nankai

NURSE_SKILLS = ["basic_care", "wound_care", "stoma_care", "picc", "catheter_care", "pressure_injury_care",
                "injection", "blood_sampling", "nasogastric_care", "rn_5y", "triage"]


def at(hhmm: str, date: str = SERVICE_DATE) -> datetime:
    """An aware datetime on the service date, Tianjin time."""
    return datetime.fromisoformat(f"{date}T{hhmm}:00").replace(tzinfo=TZ)


def iso(hhmm: str, date: str = SERVICE_DATE) -> str:
    return at(hhmm, date).isoformat()


def make_worker(kind: str, name: str, skills: list[str], districts: list[str], home: tuple[float, float],
                shift: tuple[str, str] = ("08:00", "17:00"), capacity: dict | None = None,
                **record: Any) -> Worker:
    """``record``: a nurse's ``title``, ``registration_number`` and ``practice_began``."""
    worker = Worker(kind=kind, name=name, skills=skills, districts=districts, home_lat=home[0],
                    home_lon=home[1], capacity=capacity, **record)
    worker.shifts.append(Shift(start=at(shift[0]), end=at(shift[1])))
    session.add(worker)
    session.flush()
    return worker


def make_address(patient_id: int, point: tuple[float, float], label: str = "home") -> Address:
    from routing.districts import DistrictIndex

    district = DistrictIndex.default().locate(*point)
    address = Address(patient_id=patient_id, label=label, line="1 Test Road", lat=point[0], lon=point[1],
                      district=district)
    session.add(address)
    session.flush()
    return address


@dataclass
class Personas:
    client: Any
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, client: Any) -> "Personas":
        from orders.catalogue import seed_catalogue

        seed_catalogue()
        heping = Pharmacy(name="Heping Hospital Pharmacy", lat=39.1270, lon=117.2050, district="heping")
        nankai = Pharmacy(name="Nankai Hospital Pharmacy", lat=39.1080, lon=117.1650, district="nankai")
        session.add_all([heping, nankai])
        session.flush()
        all_districts = ["heping", "hexi", "nankai", "hedong", "hebei", "hongqiao"]
        # Both nurses may make home visits: 主管护师 since 2012, 护师 since 2016.
        nurse_li = make_worker("nurse", "Li Na", NURSE_SKILLS, all_districts, (39.1300, 117.1950),
                               title="supervising_nurse", registration_number="201212000101",
                               practice_began=date(2012, 7, 1))
        nurse_zhou = make_worker("nurse", "Zhou Min", ["basic_care", "injection", "rn_5y"], ["nankai"],
                                 (39.1050, 117.1600), title="senior_nurse", registration_number="201612000202",
                                 practice_began=date(2016, 8, 15))
        courier_zhao = make_worker("courier", "Zhao Lei", ["cold_chain"], all_districts, (39.1270, 117.2050),
                                   capacity={"parcels": 30})
        people = cls(client=client)
        people._user("admin_root", "admin")
        people._user("dispatcher_sun", "dispatcher")
        people._user("pharmacist_chen", "pharmacist", pharmacy_id=heping.id)
        people._user("pharmacist_gao", "pharmacist", pharmacy_id=nankai.id)
        people._user("nurse_li", "nurse", worker_id=nurse_li.id)
        people._user("nurse_zhou", "nurse", worker_id=nurse_zhou.id)
        people._user("courier_zhao", "courier", worker_id=courier_zhao.id)
        wang = people._user("patient_wang", "patient", name="Wang Fang", phone="13800000001")
        liu = people._user("patient_liu", "patient", name="Liu Yang", phone="13800000002")
        people.ids["patient_wang"]["address_id"] = make_address(wang.patient_id, BINJIANG_DAO).id
        people.ids["patient_liu"]["address_id"] = make_address(liu.patient_id, NANKAI_UNIVERSITY).id
        people.ids["pharmacy"] = {"heping": heping.id, "nankai": nankai.id}
        session.commit()
        return people

    def _user(self, username: str, role: str, **kwargs: Any) -> Any:
        user = create_user(username, PASSWORD, role, **kwargs)
        self.ids[username] = {"user_id": user.id, "worker_id": user.worker_id or 0,
                              "pharmacy_id": user.pharmacy_id or 0, "patient_id": user.patient_id or 0}
        return user

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.get_json()
            self._tokens[username] = response.get_json()["access_token"]
        return self._tokens[username]

    def sign_in_again(self) -> None:
        """Forget the tokens issued so far (after a jump in time they have expired)."""
        self._tokens.clear()

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}", **extra}

    def __getitem__(self, username: str) -> dict[str, int]:
        return self.ids[username]
