"""A demo hospital in central Tianjin, for ``doorstep seed demo`` and ``doorstep demo``.

Everything is made through the service functions the API uses (accounts,
pharmacies, workers, addresses, orders, triage, review), so the demo data obeys
the same rules and leaves the same history and audit rows as real use. The data
is deterministic for a seed; the passwords of the demo accounts are not (they
come from ``secrets`` and are shown once). Service functions flush; the caller
commits.
"""
from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from dispatch.models import Worker
from dispatch.workers import create_worker
from doorstep.accounts import create_user
from doorstep.auth import Actor
from doorstep.db import session
from doorstep.errors import Conflict
from doorstep.geography import districts as served_districts
from doorstep.models import User
from orders.catalogue import catalogue_data, seed_catalogue
from orders.deliveries import create_delivery_order, review_prescription
from orders.service import (
    add_address,
    create_pharmacy,
    place_care_order,
    triage_care_order,
)

DEMO_ADMIN, DEMO_NURSE = "demo_admin", "demo_nurse"
NURSES, COURIERS, PATIENTS, BOOKING_PATIENTS = 12, 8, 60, 40
NURSE_TITLES = ("senior_nurse", "supervising_nurse", "senior_nurse", "associate_chief_nurse", "supervising_nurse")
CARE_ORDERS, DELIVERY_ORDERS = 60, 120
LEFT_FOR_TRIAGE, LEFT_FOR_REVIEW = 3, 4  # a few orders still wait, as on any real morning
COLD_CHAIN_SHARE, NO_WINDOW_SHARE = 0.15, 0.25
SHIFT = (time(8, 0), time(17, 0))
STAFF_ACCOUNTS = 6  # admin, dispatcher, two pharmacists, nurse, courier; demo_patient counts as a patient

SPECIALTIES = ("wound_care", "stoma_care", "picc", "catheter_care", "pressure_injury_care",
               "nasogastric_care", "tracheostomy_care")
# (name, lat, lon, districts it sends parcels to)
PHARMACIES = (("和平院区门诊药房", 39.1270, 117.2050, ("heping", "hexi", "hedong")),
              ("南开院区门诊药房", 39.1080, 117.1650, ("nankai", "hongqiao", "hebei")))
DISTRICT_WEIGHTS = {"heping": 1.0, "hexi": 1.3, "nankai": 1.3, "hedong": 1.1, "hebei": 1.0, "hongqiao": 0.8}
STREETS = {"heping": ("南京路", "滨江道", "成都道", "营口道"), "hexi": ("友谊路", "解放南路", "围堤道", "珠江道"),
           "nankai": ("鞍山西道", "卫津路", "复康路", "黄河道"), "hedong": ("十一经路", "津塘路", "大直沽中路", "六纬路"),
           "hebei": ("中山路", "金钟河大街", "狮子林大街", "王串场一号路"), "hongqiao": ("西青道", "芥园道", "丁字沽一号路", "咸阳北路")}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
NURSE_NAMES = ("婷", "静", "丽娜", "敏", "雪", "晓燕", "丹", "颖", "倩", "佳怡", "欣怡", "雨涵", "文静", "海燕", "春梅")
COURIER_NAMES = ("磊", "强", "伟", "军", "涛", "鹏", "浩", "超", "刚", "志明", "建军", "海峰")
PATIENT_NAMES = ("秀英", "桂英", "秀兰", "玉兰", "桂兰", "秀珍", "凤英", "玉珍", "淑珍", "淑兰", "建国", "建华",
                 "国华", "志强", "德明", "振华", "宝山", "文斌", "福海", "永利", "凤兰", "素芬", "长林", "金凤")
DRUGS = ("二甲双胍片 0.5g×60片", "苯磺酸氨氯地平片 5mg×28片", "阿托伐他汀钙片 20mg×14片", "硫酸氢氯吡格雷片 75mg×7片",
         "缬沙坦胶囊 80mg×28粒", "奥美拉唑肠溶胶囊 20mg×14粒", "呋塞米片 20mg×100片", "华法林钠片 2.5mg×60片",
         "左甲状腺素钠片 50μg×100片", "阿卡波糖片 50mg×30片", "单硝酸异山梨酯缓释片 40mg×24片", "复方氨基酸注射液 250ml")
COLD_DRUGS = ("门冬胰岛素注射液 3ml×5支", "甘精胰岛素注射液 3ml×1支", "重组人促红素注射液 1万IU×1支",
              "低分子肝素钠注射液 0.4ml×10支")
CARE_NOTES = ("家属陪同", "老人行动不便，请敲门后稍候", "电梯停运，请走楼梯", None, None, None)

STEPS = STAFF_ACCOUNTS + len(PHARMACIES) + NURSES + COURIERS + PATIENTS + CARE_ORDERS + DELIVERY_ORDERS

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoAccount:
    role: str
    username: str
    password: str
    who: str


@dataclass
class DemoHospital:
    """What was made: the day, the accounts to sign in with (passwords in clear, once), counts."""

    date: str
    accounts: list[DemoAccount] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def demo_date() -> str | None:
    """The day the demo data was seeded for, or None when there is no demo data."""
    if session.scalar(select(User.id).where(User.username == DEMO_ADMIN)) is None:
        return None
    nurse = session.scalar(select(User).where(User.username == DEMO_NURSE))
    worker = session.get(Worker, nurse.worker_id) if nurse and nurse.worker_id else None
    if worker is None or not worker.shifts:
        return "unknown"
    return worker.shifts[0].start.astimezone(_tz()).date().isoformat()


def seed_demo(day: Date, *, seed: int = 7, progress: Progress | None = None) -> DemoHospital:
    """Create the demo hospital and its day ``day``; ``Conflict`` if demo data exists already."""
    existing = demo_date()
    if existing is not None:
        raise Conflict(f"Demo data already exists (seeded for {existing}); start from an empty database "
                       "to seed it again.")
    served = served_districts().codes
    if set(served) != set(DISTRICT_WEIGHTS):
        # Its pharmacies, streets and patients are Tianjin's: they would land outside other districts.
        raise Conflict(f"The demo hospital is in central Tianjin and needs its six districts; this deployment "
                       f"serves {', '.join(served)} (DOORSTEP_DISTRICTS_FILE). Seed it without that setting.")
    builder = _Builder(day, random.Random(seed), progress or (lambda _stage: None))
    return builder.build()


class _Builder:
    def __init__(self, day: Date, rng: random.Random, progress: Progress) -> None:
        self.day, self.rng, self.tick = day, rng, progress
        self.tz = _tz()
        self.index = served_districts()
        self.result = DemoHospital(date=day.isoformat())
        self.used_names: set[str] = set()
        self.admin: Actor | None = None

    def build(self) -> DemoHospital:
        seed_catalogue()
        self.admin = self.account("admin", DEMO_ADMIN, "系统管理员 administrator")
        self.account("dispatcher", "demo_dispatcher", "调度员 dispatcher")
        pharmacists = self.pharmacies()
        nurses = [self.nurse(i) for i in range(NURSES)]
        couriers = [self.courier(i) for i in range(COURIERS)]
        triage_nurse = self.account("nurse", DEMO_NURSE, f"{nurses[0].name} (triage)", worker_id=nurses[0].id)
        self.account("courier", "demo_courier", couriers[0].name, worker_id=couriers[0].id)
        patients = [self.patient(i) for i in range(PATIENTS)]
        care = self.care_orders(patients[:BOOKING_PATIENTS], triage_nurse)
        parcels = self.delivery_orders(patients, pharmacists)
        self.result.counts = {"nurses": NURSES, "couriers": COURIERS, "patients": PATIENTS, **care, **parcels}
        return self.result

    # --- people and places ---------------------------------------------------------------

    def account(self, role: str, username: str, who: str, **ties: int | str) -> Actor:
        password = secrets.token_urlsafe(12)
        user = create_user(username, password, role, actor=self.admin, **ties)
        self.result.accounts.append(DemoAccount(role, username, password, who))
        self.tick("accounts")
        return actor_of(user)

    def pharmacies(self) -> dict[str, Actor]:
        """One pharmacist account per pharmacy, keyed by the districts that pharmacy serves."""
        assert self.admin is not None
        by_district: dict[str, Actor] = {}
        for n, (name, lat, lon, districts) in enumerate(PHARMACIES):
            pharmacy = create_pharmacy(self.admin, name=name, lat=lat, lon=lon)
            self.tick("pharmacies")
            username = "demo_pharmacist" if n == 0 else f"demo_pharmacist_{pharmacy.district}"
            pharmacist = self.account("pharmacist", username, name, pharmacy_id=pharmacy.id)
            by_district.update({code: pharmacist for code in districts})
        return by_district

    def nurse(self, i: int) -> Worker:
        """All nurses give basic care and injections; most are RN with five years and two or three
        specialties (each specialty held by several nurses); every fourth also triages."""
        rng = self.rng
        skills = ["basic_care", "injection"]
        if rng.random() < 0.8:
            skills.append("blood_sampling")
        if i % 4 == 0:
            skills.append("triage")
        if i < NURSES - 2:  # the last two joined recently: basic care only
            skills.append("rn_5y")
            skills += [SPECIALTIES[(2 * i) % len(SPECIALTIES)], SPECIALTIES[(2 * i + 1) % len(SPECIALTIES)]]
            if rng.random() < 0.4:
                skills.append(rng.choice(SPECIALTIES))
        # Titles and years that home visits allow (护师 and up, 6 to 28 years), except the two newcomers
        # (护士, two years), who stay off home visits under the default thresholds.
        senior = i < NURSES - 2
        title = NURSE_TITLES[i % len(NURSE_TITLES)] if senior else "nurse"
        began = self.day.replace(year=self.day.year - (6 + 2 * i if senior else 2), day=1)
        record = {"title": title, "practice_began": began, "registration_number": f"{began.year}12{i + 1:06d}"}
        return self.worker("nurse", i, self.name(NURSE_NAMES), skills, capacity=None, record=record)

    def courier(self, i: int) -> Worker:
        skills = ["cold_chain"] if i < 5 else []
        return self.worker("courier", i, self.name(COURIER_NAMES), skills, capacity={"parcels": 30})

    def worker(self, kind: str, i: int, name: str, skills: list[str], capacity: dict[str, int] | None,
               record: dict[str, object] | None = None) -> Worker:
        codes = self.index.codes
        home_district = codes[i % len(codes)]
        neighbours = [c for c in codes if c != home_district and self._adjacent(home_district, c)]
        districts = [home_district, *self.rng.sample(neighbours, min(len(neighbours), self.rng.choice((1, 2))))]
        lat, lon = self.index.random_point(home_district, self.rng)
        start, end = (datetime.combine(self.day, t, self.tz) for t in SHIFT)
        worker = create_worker(self.admin, kind=kind, name=name, skills=list(dict.fromkeys(skills)),
                               districts=districts, home_lat=lat, home_lon=lon, shifts=[(start, end)],
                               capacity=capacity, **(record or {}))  # type: ignore[arg-type]
        self.tick(f"{kind}s")
        return worker

    def patient(self, i: int) -> tuple[Actor, int, str]:
        """A patient account with one home address; returns (actor, address id, district)."""
        rng = self.rng
        district = rng.choices(list(DISTRICT_WEIGHTS), weights=list(DISTRICT_WEIGHTS.values()))[0]
        lat, lon = self.index.random_point(district, rng)
        name = self.name(PATIENT_NAMES)
        phone = "1" + rng.choice(("38", "39", "58", "86", "35")) + f"{rng.randrange(10**8):08d}"
        line = (f"天津市{rng.choice(STREETS[district])}{rng.randint(1, 300)}号 {rng.randint(1, 12)}号楼"
                f"{rng.randint(1, 6)}单元{rng.randint(1, 18)}0{rng.randint(1, 4)}室")
        if i == 0:
            actor = self.account("patient", "demo_patient", name, name=name, phone=phone)
        else:
            user = create_user(f"demo_patient_{i:02d}", secrets.token_urlsafe(16), "patient", name=name,
                               phone=phone, actor=self.admin)
            actor = actor_of(user)
            self.tick("patients")
        address = add_address(actor, label="家 home", line=line, lat=lat, lon=lon)
        return actor, address.id, address.district

    # --- the day's orders ----------------------------------------------------------------

    def care_orders(self, patients: Sequence[tuple[Actor, int, str]], triage_nurse: Actor) -> dict[str, int]:
        """Every booking patient books a visit, some a second; the triage nurse accepts all but a few."""
        rng = self.rng
        items = catalogue_data()
        weights = [3 if item["category"] == "basic" else 2 for item in items]
        bookings = list(patients) + rng.sample(list(patients), CARE_ORDERS - len(patients))
        accepted = 0
        for n, (actor, address_id, _district) in enumerate(bookings):
            item = rng.choices(items, weights=weights)[0]
            start = self.at(8, 30 * rng.randint(0, 12))
            end = min(start + timedelta(minutes=rng.choice((120, 120, 150, 180))), self.at(*_hm(SHIFT[1])))
            # Booked three days ahead, at 09:00, as patients do: the hospital's lead time and
            # horizon hold whatever day is seeded (past days included).
            order = place_care_order(actor, service_code=item["code"], address_id=address_id, window_start=start,
                                     window_end=end, notes=rng.choice(CARE_NOTES),
                                     now=self.at(9) - timedelta(days=3))
            if n < len(bookings) - LEFT_FOR_TRIAGE:
                triage_care_order(triage_nurse, order.id, accepted=True)
                accepted += 1
            self.tick("care orders")
        return {"care_orders": len(bookings), "care_orders_accepted": accepted}

    def delivery_orders(self, patients: Sequence[tuple[Actor, int, str]],
                        pharmacists: dict[str, Actor]) -> dict[str, int]:
        """Two parcels per patient from the pharmacy serving their district; most released for dispatch."""
        rng = self.rng
        recipients = list(patients) * (DELIVERY_ORDERS // len(patients))
        rng.shuffle(recipients)
        today = datetime.now(self.tz).date()
        ready = cold_count = 0
        for n, (patient, address_id, district) in enumerate(recipients):
            pharmacist = pharmacists[district]
            cold = rng.random() < COLD_CHAIN_SHARE
            drugs = rng.sample(DRUGS, rng.randint(0 if cold else 1, 2)) + ([rng.choice(COLD_DRUGS)] if cold else [])
            start: datetime | None
            end: datetime | None
            if rng.random() < NO_WINDOW_SHARE:
                # "Any time that day". The service dates a parcel without a window today, so on
                # any other day the whole shift stands in for "no window".
                start, end = (None, None) if self.day == today else (self.at(*_hm(SHIFT[0])), self.at(*_hm(SHIFT[1])))
            else:
                start = self.at(9, 30 * rng.randint(0, 12))
                end = min(start + timedelta(hours=rng.choice((2, 3, 4))), self.at(*_hm(SHIFT[1])))
            order = create_delivery_order(
                pharmacist, prescription_ref=f"RX-{self.day:%Y%m%d}-{n + 1:04d}", patient_id=patient.patient_id or 0,
                address_id=address_id, items=[{"name": d, "quantity": rng.randint(1, 3)} for d in drugs],
                cold_chain=cold, window_start=start, window_end=end, now=self.at(8))
            if n < len(recipients) - LEFT_FOR_REVIEW:
                review_prescription(pharmacist, order.id, approved=True)
                ready += 1
            cold_count += cold
            self.tick("delivery orders")
        return {"delivery_orders": len(recipients), "delivery_orders_ready": ready, "cold_chain": cold_count}

    # --- helpers ---------------------------------------------------------------------------

    def at(self, hour: int, minutes: int = 0) -> datetime:
        return datetime.combine(self.day, time(0, 0), self.tz) + timedelta(hours=hour, minutes=minutes)

    def name(self, given: Sequence[str]) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(given)
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def _adjacent(self, a: str, b: str) -> bool:
        shared = self.index.district(a).polygon.intersection(self.index.district(b).polygon)
        return shared.length > 0.002  # a common border of a few hundred metres, not a corner


def actor_of(user: User) -> Actor:
    return Actor(user_id=user.id, role=user.role, worker_id=user.worker_id, pharmacy_id=user.pharmacy_id,
                 patient_id=user.patient_id)


def _hm(t: time) -> tuple[int, int]:
    return t.hour, t.minute


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["SETTINGS"].timezone)
