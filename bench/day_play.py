"""The driver of a simulated day: everyone's phones and desks, over HTTP, on the fast clock.

``Day.play`` runs the morning (triage, review, the plan), then ticks through
the day: each worker follows their route (``WorkerAgent.step``), riding or
driving each leg in the time the plan's travel times give it (``Legs``), the
disturbances of ``Scenario`` happen at their times, a watcher reads every plan
version; at the end the dispatcher closes the day. ``Ledger`` keeps what the
checks need: the fixed stops as they were when they became fixed, every plan
snapshot, and the counts. At the close, whoever is on the way to a door or at
it finishes that stop first (a parcel on its way cannot be cancelled).
"""
from __future__ import annotations

import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests

from bench.day_servers import SimClock
from dispatch.problem import TRAVEL_MODES
from routing.travel import Travel

FINAL = {"care": {"completed", "rejected", "cancelled", "failed"},
         "delivery": {"delivered", "cancelled", "returned", "rejected"}}
TASK_STOPS = ("visit", "pickup", "dropoff")
FIXED = ("departed", "arrived", "started", "done", "failed")
PING_EVERY_MIN = 2
UNDER_WAY = ("departed", "arrived", "started")
FINISH_WITHIN = timedelta(hours=1)  # of the day's time, after the close, for stops under way


class Http:
    """Counts every answer; a 5xx is kept with its request line."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.lock = threading.Lock()
        self.requests = 0
        self.by_status: dict[int, int] = {}
        self.server_errors: list[str] = []
        self.unexpected: list[str] = []

    def count(self, method: str, path: str, response: requests.Response) -> None:
        with self.lock:
            self.requests += 1
            self.by_status[response.status_code] = self.by_status.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                self.server_errors.append(f"{method} {path} -> {response.status_code} {response.text[:300]}")


class Client:
    """One signed-in person (a token issued before the day)."""

    def __init__(self, http: Http, token: str) -> None:
        self.http = http
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200, 201, 202, 204, 304),
                **kwargs: Any) -> requests.Response:
        response = self.session.request(method, self.http.base + path, timeout=60, **kwargs)
        self.http.count(method, path, response)
        if response.status_code not in expect and response.status_code < 500:
            with self.http.lock:
                self.http.unexpected.append(f"{method} {path} -> {response.status_code} {response.text[:200]}")
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body or {}, **kwargs)


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class FixedStop:
    stop_id: int
    worker_id: int
    order_id: int | None
    first_status: str
    times: tuple[str | None, str | None, str | None]  # arrival, start, end when last seen fixed by the worker
    neighbours_before: tuple[int, ...]  # the worker's fixed stops before it, when it became fixed


@dataclass
class Ledger:
    fixed: dict[int, FixedStop] = field(default_factory=dict)
    snapshots: int = 0
    double_assigned: list[str] = field(default_factory=list)
    events_played: int = 0
    pings: int = 0
    urgent: list[dict[str, Any]] = field(default_factory=list)
    cancellations: int = 0
    late_workers: list[int] = field(default_factory=list)
    failed_deliveries: int = 0
    redeliveries: int = 0
    returned: int = 0
    sos: int = 0
    sos_acknowledged: int = 0
    off_sick: list[int] = field(default_factory=list)
    closed_unassigned: int = 0
    finished_after_close: list[str] = field(default_factory=list)  # stops under way at the close
    closed_other: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_events(self, n: int = 1) -> None:
        with self.lock:
            self.events_played += n


class Legs:
    """How long a worker takes from one place to the next: the deployment's travel times by the
    worker's kind (the plan's matrices: nurses drive, couriers ride e-bikes), so the player keeps the
    plan's pace. A fixed ride per stop put couriers hours behind their short e-bike legs."""

    def __init__(self, travel: Travel) -> None:
        self.travel = travel
        self.known: dict[tuple[str, tuple[float, float], tuple[float, float]], timedelta] = {}
        self.lock = threading.Lock()

    def __call__(self, kind: str, here: tuple[float, float], there: tuple[float, float]) -> timedelta:
        key = (TRAVEL_MODES.get(kind, "car"), here, there)
        with self.lock:
            if key not in self.known:
                durations = self.travel.arrays([here, there], key[0])[0]
                self.known[key] = timedelta(seconds=int(durations[0, 1]))
            return self.known[key]


class WorkerAgent:
    """A nurse's or courier's phone: follows the route the server gives, reports each step."""

    def __init__(self, day: Day, worker: dict[str, Any]) -> None:
        self.day = day
        self.id: int = worker["id"]
        self.kind: str = worker["kind"]
        self.client = Client(day.http, worker["token"])
        self.position = (worker["home"]["lat"], worker["home"]["lon"])
        self.route: dict[str, Any] | None = None
        self.etag: str | None = None
        self.next_refresh = datetime.min.replace(tzinfo=day.clock.tz)  # type: ignore[arg-type]
        self.late_by = timedelta(0)
        self.off = False
        self.fail_next_dropoff = False
        self.departed_at: dict[int, datetime] = {}
        self.ride: dict[int, timedelta] = {}  # the leg to each stop set off for, from where it was left
        self.free_at = datetime.min.replace(tzinfo=day.clock.tz)  # type: ignore[arg-type]  # last stop ended
        self.started_at: dict[int, datetime] = {}
        self.last_ping: datetime | None = None
        self.busy = threading.Lock()

    # --- the route -------------------------------------------------------------------------

    def refresh(self, now: datetime, force: bool = False) -> None:
        if not force and now < self.next_refresh and self.route is not None:
            return
        headers = {"If-None-Match": self.etag} if self.etag and not force else {}
        response = self.client.get(f"/api/v1/mobile/route?date={self.day.date.isoformat()}", headers=headers)
        self.next_refresh = now + timedelta(minutes=5)
        if response.status_code == 200:
            self.route, self.etag = response.json(), response.headers.get("ETag")
            self.record_fixed()

    def record_fixed(self) -> None:
        """Each stop as it was the first time the route showed it fixed; times as last seen done."""
        assert self.route is not None
        fixed_before: list[int] = []
        for stop in self.route["stops"]:
            if stop["type"] not in TASK_STOPS or stop["status"] not in FIXED:
                continue
            times = (stop.get("arrival"), stop.get("start"), stop.get("end"))
            with self.day.ledger.lock:
                known = self.day.ledger.fixed.get(stop["id"])
                if known is None:
                    self.day.ledger.fixed[stop["id"]] = FixedStop(stop["id"], self.id, stop.get("order_id"),
                                                                  stop["status"], times, tuple(fixed_before))
                elif stop["status"] in ("done", "failed"):
                    known.times = times
            fixed_before.append(stop["id"])

    def next_stop(self) -> dict[str, Any] | None:
        if self.route is None:
            return None
        for stop in self.route["stops"]:
            if stop["type"] in TASK_STOPS and stop["status"] not in ("done", "failed"):
                return stop
        return None

    # --- one tick --------------------------------------------------------------------------

    def under_way(self) -> bool:
        """On the way to a stop, or at it: what the close lets them finish."""
        stop = self.next_stop()
        return not self.off and stop is not None and stop["status"] in UNDER_WAY

    def step(self) -> None:
        if self.off or not self.busy.acquire(blocking=False):
            return
        try:
            now = self.day.clock.now()
            self.refresh(now)
            stop = self.next_stop()
            if stop is None:
                return
            self.act(stop, now)
        finally:
            self.busy.release()

    def act(self, stop: dict[str, Any], now: datetime) -> None:
        planned = parse(stop.get("eta") or stop.get("arrival") or stop.get("start")) or now
        planned += self.late_by
        status, sid = stop["status"], stop["id"]
        where = (stop["location"]["lat"], stop["location"]["lon"])
        leg = self.day.legs(self.kind, self.position, where)
        if stop["type"] == "pickup":  # at the pharmacy's counter: no depart or arrive reported
            if status in ("planned", "departed", "arrived") and now >= max(planned, self.free_at + leg):
                self.report(stop, "pickup", now, where, seal_code=self.day.seal(stop["order_id"]))
            return
        if status == "planned" and now >= planned - leg:
            if self.report(stop, "depart", now, self.position):
                self.departed_at[sid], self.ride[sid] = now, leg
        elif status == "departed":
            left = self.departed_at.setdefault(sid, now)
            ride = self.ride.setdefault(sid, leg)
            if now >= left + ride + (self.late_by if stop["type"] == "visit" else timedelta(0)):
                self.report(stop, "arrive", now, where)
            else:
                self.ping(now, left, ride, where)
        elif status == "arrived" and stop["type"] == "visit":
            if self.report(stop, "start", now, where):
                self.started_at[sid] = now
        elif status == "started":
            began = self.started_at.setdefault(sid, now)
            minutes = (stop.get("task") or {}).get("duration_minutes") or 30
            if now >= began + timedelta(minutes=minutes):
                self.report(stop, "complete", now, where, record={
                    "done": [(stop.get("task") or {}).get("service_code") or "visit"],
                    "vitals": {"systolic": 128, "diastolic": 82, "pulse": 74, "temperature_c": 36.6, "spo2": 97}})
        elif status == "arrived" and stop["type"] == "dropoff":
            if self.fail_next_dropoff:
                self.fail_next_dropoff = False
                if self.report(stop, "fail", now, where, reason="Nobody at home; phone not answered."):
                    self.day.on_failed_delivery(stop["order_id"])
                return
            self.deliver(stop, now, where)

    def deliver(self, stop: dict[str, Any], now: datetime, where: tuple[float, float]) -> None:
        order_id = stop["order_id"]
        patient = self.day.patient_client(order_id)
        code = patient.get(f"/api/v1/orders/{order_id}").json().get("delivery_code") if patient else None
        proof: dict[str, Any] = {"recipient_name": "Patient", "seal_code": self.day.seal(order_id)}
        if code:
            proof["code"] = code
        else:  # no patient token (should not happen): a signature instead
            upload = self.client.request("POST", f"/api/v1/mobile/stops/{stop['id']}/proof",
                                         data={"kind": "signature"}, files={"file": ("s.png", PNG, "image/png")})
            proof["file_ids"] = [upload.json()["id"]]
        if (stop.get("task") or {}).get("cold_chain"):
            proof["temperature_log"] = [{"at": (now - timedelta(minutes=m)).isoformat(), "celsius": 4.5 + m / 100}
                                        for m in (40, 20, 0)]
        self.report(stop, "deliver", now, where, proof=proof)

    def report(self, stop: dict[str, Any], type_: str, now: datetime, where: tuple[float, float],
               **extra: Any) -> bool:
        body = {"type": type_, "at": now.isoformat(), "lat": where[0], "lon": where[1],
                "event_id": f"d{self.id}-{stop['id']}-{type_}", **extra}
        response = self.client.post(f"/api/v1/mobile/stops/{stop['id']}/events", body, expect=(200, 201, 404, 409))
        self.day.ledger.add_events()
        self.position = where if type_ != "depart" else self.position
        if type_ in ("pickup", "complete", "deliver", "fail"):
            self.free_at = now
        # The stop may have left the route (a cancellation, a re-plan): read the route again either way.
        self.refresh(now, force=True)
        return response.status_code in (200, 201)

    def ping(self, now: datetime, left: datetime, ride: timedelta, to: tuple[float, float]) -> None:
        if self.last_ping and now - self.last_ping < timedelta(minutes=PING_EVERY_MIN):
            return
        share = min(1.0, (now - left) / ride) if ride else 1.0
        lat = self.position[0] + (to[0] - self.position[0]) * share
        lon = self.position[1] + (to[1] - self.position[1]) * share
        self.client.post("/api/v1/mobile/location", {"lat": lat, "lon": lon, "at": now.isoformat(),
                                                     "accuracy_m": 12})
        self.last_ping = now
        with self.day.ledger.lock:
            self.day.ledger.pings += 1


# A 1x1 PNG, for a signature when no code can be had.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Day:
    """Everyone's clients, the agents, the ledger; ``play`` runs the day."""

    def __init__(self, base: str, clock: SimClock, people: dict[str, Any], *, travel: Travel, seed: int,
                 end: datetime, urgent: int, quiet: bool = False) -> None:
        self.http = Http(base)
        self.clock = clock
        self.legs = Legs(travel)
        self.people = people
        self.date = date.fromisoformat(people["date"])
        self.rng = random.Random(seed)
        self.end = end
        self.urgent_count = urgent
        self.quiet = quiet
        self.ledger = Ledger()
        self.dispatcher = Client(self.http, people["dispatcher"])
        self.triage = Client(self.http, people["triage_nurse"])
        self.pharmacists = {int(k): Client(self.http, v) for k, v in people["pharmacists"].items()}
        self.patients = {int(k): v for k, v in people["patients"].items()}
        self._patient_clients: dict[int, Client] = {}
        self.orders: dict[int, dict[str, Any]] = {int(k): v for k, v in people["orders"].items()}
        self.agents = [WorkerAgent(self, w) for w in people["workers"]]
        self.plan_id: int | None = None
        self.versions: list[dict[str, Any]] = []
        self.watch_stop = threading.Event()
        self.plan_snapshot: dict[str, Any] | None = None
        self.threads: list[threading.Thread] = []

    # --- helpers ---------------------------------------------------------------------------

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.clock.now():%H:%M}] {message}", file=sys.stderr)

    def seal(self, order_id: int) -> str:
        return f"SEAL-{order_id}"

    def patient_client(self, order_id: int) -> Client | None:
        patient_id = self.orders.get(order_id, {}).get("patient_id")
        if patient_id is None or patient_id not in self.patients:
            return None
        if patient_id not in self._patient_clients:
            self._patient_clients[patient_id] = Client(self.http, self.patients[patient_id]["token"])
        return self._patient_clients[patient_id]

    def at(self, hhmm: str) -> datetime:
        hour, minute = map(int, hhmm.split(":"))
        return datetime.combine(self.date, datetime.min.time(), self.clock.tz).replace(hour=hour, minute=minute)  # type: ignore[arg-type]

    def status_of(self, order_id: int) -> str:
        return self.dispatcher.get(f"/api/v1/orders/{order_id}").json()["status"]

    # --- the morning -----------------------------------------------------------------------

    def morning(self) -> None:
        """Triage what waits (one rejected), review what waits (one rejected), then plan the day."""
        queue = self.triage.get("/api/v1/care-orders/triage-queue?page_size=200").json()
        for n, order in enumerate(queue):
            body = {"accepted": True} if n else {"accepted": False, "reason": "Needs a clinic visit first."}
            self.triage.post(f"/api/v1/care-orders/{order['id']}/triage", body)
        for order_id, order in self.orders.items():
            if order["kind"] == "delivery" and order["status"] == "awaiting_review":
                first = not any(o.get("reviewed_in_bench") for o in self.orders.values())
                body = {"approved": False, "reason": "Dose to be confirmed."} if first else {"approved": True}
                self.pharmacists[order["pharmacy_id"]].post(f"/api/v1/delivery-orders/{order_id}/review", body)
                order["reviewed_in_bench"] = True
        plan = self.dispatcher.post("/api/v1/dispatch/plans", {"date": self.date.isoformat()}).json()
        self.plan_id = plan["id"]
        while True:
            plan = self.dispatcher.get(f"/api/v1/dispatch/plans/{self.plan_id}").json()
            if plan["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        if plan["status"] != "done":
            raise SystemExit(f"the day's plan failed: {plan.get('error')}")
        self.log(f"plan {self.plan_id}: {plan['summary']}")
        self.take_snapshot(plan)

    # --- the plan watcher ------------------------------------------------------------------

    def take_snapshot(self, plan: dict[str, Any]) -> None:
        """No task on two workers in this plan: a visit on one route, a parcel's stops on one route.

        A failed attempt is a task of its own: a parcel delivered again after a failed drop-off
        may go with another courier, while the first attempt's stops stay on the first route as
        the record (a route holding a failed stop of the order: its stops over, done or failed).
        """
        owners: dict[int, set[int]] = {}
        for route in plan.get("routes", []):
            failed = {s.get("order_id") for s in route["stops"] if s["status"] == "failed"}
            for stop in route["stops"]:
                if stop["type"] in TASK_STOPS and stop.get("order_id") is not None:
                    if stop["order_id"] in failed and stop["status"] in ("done", "failed"):
                        continue
                    owners.setdefault(stop["order_id"], set()).add(route["worker_id"])
        with self.ledger.lock:
            self.ledger.snapshots += 1
            for order_id, workers in owners.items():
                if len(workers) > 1:
                    self.ledger.double_assigned.append(f"order {order_id} on workers {sorted(workers)} "
                                                       f"(revision {plan.get('revision')})")
        self.plan_snapshot = plan

    def watch_plan(self) -> None:
        seen = 0
        while not self.watch_stop.wait(1.0):
            versions = self.dispatcher.get(f"/api/v1/dispatch/plans/{self.plan_id}/versions?page_size=200")
            if versions.status_code != 200:
                continue
            listed = versions.json()
            if len(listed) != seen:
                seen = len(listed)
                self.versions = listed
                self.take_snapshot(self.dispatcher.get(f"/api/v1/dispatch/plans/{self.plan_id}").json())

    # --- disturbances ------------------------------------------------------------------------

    def on_failed_delivery(self, order_id: int) -> None:
        """The pharmacist re-delivers the first failed parcel later today and returns the next."""
        with self.ledger.lock:
            self.ledger.failed_deliveries += 1
            redeliver = self.ledger.failed_deliveries == 1
        pharmacist = self.pharmacists[self.orders[order_id]["pharmacy_id"]]
        now = self.clock.now()
        start = max(now + timedelta(hours=1), self.at("09:00")).replace(second=0, microsecond=0)
        if redeliver and start + timedelta(hours=2) <= self.at("17:00"):
            response = pharmacist.post(f"/api/v1/delivery-orders/{order_id}/redeliver", {
                "window": {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()},
                "reason": "Patient asked for the afternoon."})
            if response.status_code == 200:
                with self.ledger.lock:
                    self.ledger.redeliveries += 1
                self.log(f"parcel {order_id} failed; re-delivered on a new window")
                return
        if pharmacist.post(f"/api/v1/delivery-orders/{order_id}/return",
                           {"reason": "Patient unreachable."}).status_code == 200:
            with self.ledger.lock:
                self.ledger.returned += 1
            self.log(f"parcel {order_id} failed; returned to the pharmacy")

    def urgent_order(self, n: int) -> None:
        """A same-day order accepted after the plan, timed from acceptance until it is scheduled."""
        now = self.clock.now()
        start = (now + timedelta(minutes=75)).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        end = min(start + timedelta(hours=3), self.at("18:00"))
        patient_id = self.rng.choice(sorted(self.patients))
        patient = self.patients[patient_id]
        if n % 2 == 0:
            client = Client(self.http, patient["token"])
            placed = client.post("/api/v1/care-orders", {
                "service_code": "vital_signs_check", "address_id": patient["address_id"],
                "window": {"start": start.isoformat(), "end": end.isoformat()}, "notes": "urgent (bench)"})
            if placed.status_code != 201:
                return
            order_id = placed.json()["id"]
            self.orders[order_id] = {"kind": "care", "patient_id": patient_id, "status": "requested"}
            accept = lambda: self.triage.post(f"/api/v1/care-orders/{order_id}/triage", {"accepted": True})
        else:
            pharmacy_id = patient["pharmacy_id"]
            created = self.pharmacists[pharmacy_id].post("/api/v1/delivery-orders", {
                "prescription_ref": f"RX-URGENT-{n}", "patient_id": patient_id, "address_id": patient["address_id"],
                "items": [{"name": "Furosemide 20 mg", "quantity": 1}], "cold_chain": False,
                "window": {"start": start.isoformat(), "end": end.isoformat()}})
            if created.status_code != 201:
                return
            order_id = created.json()["id"]
            self.orders[order_id] = {"kind": "delivery", "patient_id": patient_id, "pharmacy_id": pharmacy_id,
                                     "status": "awaiting_review"}
            accept = lambda: self.pharmacists[pharmacy_id].post(
                f"/api/v1/delivery-orders/{order_id}/review", {"approved": True})
        began = time.monotonic()
        if accept().status_code != 200:
            return
        accepted = time.monotonic()
        entry: dict[str, Any] = {"order_id": order_id, "kind": self.orders[order_id]["kind"], "latency_s": None}
        with self.ledger.lock:
            self.ledger.urgent.append(entry)
        deadline = accepted + 60
        while time.monotonic() < deadline:
            if self.status_of(order_id) == "scheduled":
                entry["latency_s"] = time.monotonic() - accepted
                break
            time.sleep(0.05)
        self.log(f"urgent {entry['kind']} order {order_id}: accepted in {accepted - began:.2f} s, scheduled "
                 + (f"{entry['latency_s']:.2f} s later" if entry["latency_s"] is not None else "not within 60 s"))

    def spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def cancel_by_patient(self) -> None:
        """A patient cancels a visit that is scheduled and not yet under way."""
        candidates = [a for a in self.agents if a.kind == "nurse" and not a.off and a.route]
        stops = [s for a in candidates for s in a.route["stops"][::-1]  # type: ignore[index]
                 if s["type"] == "visit" and s["status"] == "planned"]
        self.rng.shuffle(stops)
        for stop in stops:
            patient = self.patient_client(stop["order_id"])
            if patient and patient.post(f"/api/v1/orders/{stop['order_id']}/cancel", {"reason": "Feeling better."},
                                        expect=(200, 409)).status_code == 200:
                with self.ledger.lock:
                    self.ledger.cancellations += 1
                self.log(f"patient cancelled visit {stop['order_id']}")
                return

    def make_late(self) -> None:
        nurses = [a for a in self.agents if a.kind == "nurse" and a.next_stop() is not None and not a.off]
        if nurses:
            agent = self.rng.choice(nurses)
            agent.late_by = timedelta(minutes=45)
            self.ledger.late_workers.append(agent.id)
            self.log(f"worker {agent.id} runs 45 minutes late from now on")

    def arrange_failed_delivery(self) -> None:
        couriers = [a for a in self.agents if a.kind == "courier" and a.next_stop() is not None and not a.off]
        for agent in self.rng.sample(couriers, min(2, len(couriers))):
            agent.fail_next_dropoff = True

    def press_sos(self) -> None:
        agents = [a for a in self.agents if not a.off]
        agent = self.rng.choice(agents)
        lat, lon = agent.position
        if agent.client.post("/api/v1/mobile/sos", {"lat": lat, "lon": lon, "note": "bench"}).status_code in (200, 201):
            self.ledger.sos += 1
            self.log(f"worker {agent.id} pressed SOS")

    def acknowledge_alarms(self) -> None:
        for alarm in self.dispatcher.get("/api/v1/alarms?status=open").json():
            if self.dispatcher.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", expect=(200, 409)).status_code == 200:
                self.ledger.sos_acknowledged += 1

    def off_sick(self) -> None:
        """A nurse between visits goes home sick; the office takes them off today's plans."""
        nurses = [a for a in self.agents if a.kind == "nurse" and not a.off and a.next_stop() is not None
                  and a.next_stop()["status"] == "planned"]  # type: ignore[index]
        if not nurses:
            return
        agent = self.rng.choice(nurses)
        with agent.busy:
            agent.off = True
        self.dispatcher.post(f"/api/v1/workers/{agent.id}/off", {"date": self.date.isoformat(), "reason": "sick"})
        self.ledger.off_sick.append(agent.id)
        self.log(f"worker {agent.id} off sick")

    def scenario(self) -> list[tuple[datetime, str, Any]]:
        events: list[tuple[datetime, str, Any]] = [
            (self.at("08:40"), "a worker runs late", self.make_late),
            (self.at("09:10"), "a patient cancels", self.cancel_by_patient),
            (self.at("10:00"), "failed deliveries arranged", self.arrange_failed_delivery),
            (self.at("10:15"), "SOS", self.press_sos),
            (self.at("10:20"), "dispatcher acknowledges", self.acknowledge_alarms),
            (self.at("11:05"), "a patient cancels", self.cancel_by_patient),
            (self.at("12:00"), "a worker off sick", self.off_sick),
            (self.at("14:30"), "SOS", self.press_sos),
            (self.at("14:33"), "dispatcher acknowledges", self.acknowledge_alarms),
        ]
        for n in range(self.urgent_count):
            at = self.at("09:00") + timedelta(minutes=n * 330 // max(1, self.urgent_count))
            events.append((at, "an urgent order", lambda n=n: self.spawn(self.urgent_order, n)))
        return sorted(events, key=lambda e: e[0])

    # --- the day -----------------------------------------------------------------------------

    def all_final(self) -> bool:
        for order_id, order in self.orders.items():
            if order.get("status") in FINAL[order["kind"]]:
                continue
            order["status"] = self.status_of(order_id)
            if order["status"] not in FINAL[order["kind"]]:
                return False
        return True

    def play(self, progress: Any) -> None:
        self.morning()
        watcher = threading.Thread(target=self.watch_plan, daemon=True)
        watcher.start()
        pending = self.scenario()
        next_check = self.clock.now() + timedelta(minutes=30)
        with ThreadPoolExecutor(max_workers=8) as pool:
            while True:
                now = self.clock.now()
                progress(now)
                while pending and pending[0][0] <= now:
                    _at, what, action = pending.pop(0)
                    self.log(what)
                    action()
                list(pool.map(lambda a: a.step(), self.agents))
                if now >= self.end:
                    break
                if now >= next_check:
                    next_check = now + timedelta(minutes=30)
                    if not pending and now >= self.at("12:00") and self.all_final():
                        break
                time.sleep(0.2)
        for thread in self.threads:
            thread.join(timeout=90)
        self.finish_under_way()
        self.close_day()
        self.watch_stop.set()
        watcher.join(timeout=10)
        self.take_snapshot(self.dispatcher.get(f"/api/v1/dispatch/plans/{self.plan_id}").json())

    def finish_under_way(self) -> None:
        """Whoever is on the way to a stop or at it at the close finishes that stop (delivers, or fails
        and the office returns the parcel; completes the visit), within ``FINISH_WITHIN`` of the day."""
        busy = [a for a in self.agents if a.under_way()]
        for agent in busy:
            stop = agent.next_stop()
            assert stop is not None
            self.ledger.finished_after_close.append(f"worker {agent.id} {stop['type']} {stop['status']} "
                                                    f"order {stop.get('order_id')}")
            self.log(f"worker {agent.id} finishes {stop['type']} of order {stop.get('order_id')} after the close")
        deadline = self.clock.now() + FINISH_WITHIN
        with ThreadPoolExecutor(max_workers=8) as pool:
            while busy and self.clock.now() < deadline:
                list(pool.map(lambda a: a.step(), busy))
                busy = [a for a in busy if a.under_way()]
                time.sleep(0.2)

    def close_day(self) -> None:
        """Whatever is not final is closed by the office, with a reason, and counted."""
        for order_id, order in self.orders.items():
            status = self.status_of(order_id)
            order["status"] = status
            if status in FINAL[order["kind"]]:
                continue
            if status in ("failed", "picked_up"):
                pharmacist = self.pharmacists[order["pharmacy_id"]]
                pharmacist.post(f"/api/v1/delivery-orders/{order_id}/return", {"reason": "Not delivered today."})
                key = f"returned at close ({status})"
            else:
                self.dispatcher.post(f"/api/v1/orders/{order_id}/cancel", {"reason": "Not served today."})
                key = "unassigned" if status in ("accepted", "ready", "requested", "awaiting_review") \
                    else f"cancelled at close ({status})"
            if key == "unassigned":
                self.ledger.closed_unassigned += 1
            else:
                self.ledger.closed_other[key] = self.ledger.closed_other.get(key, 0) + 1
            order["status"] = self.status_of(order_id)
