"""A synthetic day of home care in central Tianjin, for benchmarks: ``python -m bench.city``.

Six districts around approximate centres, four hospital pharmacies, nurses who
drive and couriers who ride e-bikes (so two travel matrices, one per worker
kind, given explicitly so that the plan checker can verify every time). The
day is meant to be mostly servable but tight: about ten tasks per worker,
visits of 20-60 minutes in windows of two to four hours, lunch breaks,
half-day shifts, cold-chain parcels with a ride limit and a few pins and
preferred nurses. Deterministic for a seed: the same size and seed give the
same document, byte for byte.

    python -m bench.city --size medium --seed 1 > city.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

DAY = "2026-11-23"
TZ = "+08:00"

# (lat, lon) of a district's middle, the spread of its addresses (degrees) and its share
# of the day's orders. Heping is small and dense; the outer districts are larger.
DISTRICTS: dict[str, tuple[float, float, float, float]] = {
    "heping": (39.1180, 117.2000, 0.010, 0.8),
    "hexi": (39.0880, 117.2250, 0.018, 1.3),
    "nankai": (39.1180, 117.1500, 0.018, 1.3),
    "hedong": (39.1250, 117.2580, 0.018, 1.1),
    "hebei": (39.1600, 117.2000, 0.016, 1.0),
    "hongqiao": (39.1650, 117.1500, 0.014, 0.8),
}
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "heping": ("hexi", "nankai", "hedong", "hebei", "hongqiao"),
    "hexi": ("heping", "nankai", "hedong"),
    "nankai": ("heping", "hexi", "hongqiao"),
    "hedong": ("heping", "hexi", "hebei"),
    "hebei": ("heping", "hedong", "hongqiao"),
    "hongqiao": ("heping", "nankai", "hebei"),
}
# Hospital pharmacies (lat, lon) and the districts whose parcels they usually dispense.
PHARMACIES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "pharmacy-heping": (39.1270, 117.2050, ("heping", "hedong")),
    "pharmacy-nankai": (39.1080, 117.1650, ("nankai", "hongqiao")),
    "pharmacy-hexi": (39.0850, 117.2150, ("hexi",)),
    "pharmacy-hebei": (39.1580, 117.1950, ("hebei",)),
}

# Nursing skills, the share of nurses who have each, and of visits that need each.
NURSE_SKILLS = {
    "wound_care": (0.6, 0.20),
    "pressure_injury": (0.4, 0.12),
    "catheter": (0.45, 0.13),
    "stoma": (0.25, 0.08),
    "picc": (0.25, 0.12),
}
SENIOR = "rn_5y"  # five years as a registered nurse: needed for PICC and some complex visits
VISIT_MINUTES = {
    "basic_care": (20, 30),
    "wound_care": (30, 45),
    "pressure_injury": (30, 45),
    "catheter": (25, 35),
    "stoma": (30, 45),
    "picc": (45, 60),
}

CAR_DETOUR, CAR_SPEED_M_S, CAR_PARKING_S = 1.35, 7.0, 120
EBIKE_DETOUR, EBIKE_SPEED_M_S, EBIKE_HANDOVER_S = 1.25, 4.5, 60


@dataclass(frozen=True)
class Size:
    """How many of each, and in which districts (the first ``districts`` of :data:`DISTRICTS`)."""

    visits: int
    deliveries: int
    nurses: int
    couriers: int
    districts: int = len(DISTRICTS)


SIZES = {
    "small": Size(visits=40, deliveries=60, nurses=7, couriers=4, districts=2),
    "medium": Size(visits=260, deliveries=390, nurses=42, couriers=24),
    "large": Size(visits=1000, deliveries=1500, nurses=160, couriers=90),
}


def at(hhmm: str) -> str:
    """A clock time on the benchmark day, ISO 8601 in Tianjin's offset."""
    return f"{DAY}T{hhmm}:00{TZ}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def make_city(size: str | Size = "medium", *, seed: int = 1) -> dict[str, Any]:
    """A problem document (format v1) for one day.

    Parameters
    ----------
    size
        ``small`` (about 100 tasks, 11 workers), ``medium`` (650, 66), ``large``
        (2,500, 250), or a :class:`Size`.
    seed
        Everything random is drawn from one generator seeded with it.

    Returns
    -------
    dict
        With per-kind ``matrices`` (nurses by car, couriers by e-bike).
    """
    s = SIZES[size] if isinstance(size, str) else size
    city = _City(random.Random(seed), list(DISTRICTS)[: s.districts])
    for name, (lat, lon, ds) in PHARMACIES.items():
        if set(ds) & set(city.district_names):
            city.add_location(name, lat, lon)
    homes = city.apportion(s.nurses)
    workers = [city.nurse(k, d, first=d not in homes[:k]) for k, d in enumerate(homes)]
    homes = city.apportion(s.couriers)
    workers += [city.courier(k, d, first=d not in homes[:k]) for k, d in enumerate(homes)]
    tasks = [city.visit(k) for k in range(s.visits)]
    tasks += [city.delivery(k) for k in range(s.deliveries)]
    city.pin_and_prefer(workers, tasks)
    return {
        "version": 1,
        "locations": city.locations,
        "matrices": city.matrices(),
        "workers": workers,
        "tasks": tasks,
    }


class _City:
    """Draws places, workers and tasks from one random generator, in a fixed order."""

    def __init__(self, rng: random.Random, districts: list[str]):
        self.rng = rng
        self.locations: list[dict[str, Any]] = []
        self.district_names = districts
        self.weights = [DISTRICTS[d][3] for d in districts]

    def district(self) -> str:
        """Where an order comes from, in proportion to the district's share of the day."""
        return self.rng.choices(self.district_names, self.weights)[0]

    def apportion(self, n: int) -> list[str]:
        """Home districts of ``n`` workers, by largest remainder, so that every district has staff.

        Staffing follows the expected orders; drawing it at random left small days with
        districts and skills that nobody covered.
        """
        total = sum(self.weights)
        quotas = [n * w / total for w in self.weights]
        counts = [int(q) for q in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: (counts[i] - quotas[i], i))
        for i in by_remainder[: n - sum(counts)]:
            counts[i] += 1
        return [d for d, c in zip(self.district_names, counts, strict=True) for _ in range(c)]

    def add_location(self, loc_id: str, lat: float, lon: float) -> str:
        self.locations.append({"id": loc_id, "lat": round(lat, 5), "lon": round(lon, 5)})
        return loc_id

    def place(self, prefix: str, district: str) -> str:
        lat, lon, spread, _ = DISTRICTS[district]
        return self.add_location(
            f"{prefix}-{len(self.locations)}",
            lat + self.rng.gauss(0, spread / 1.6),
            lon + self.rng.gauss(0, spread * 1.2 / 1.6),
        )

    def districts_of_worker(self, home: str) -> list[str]:
        neighbours = [d for d in NEIGHBOURS[home] if d in self.district_names]
        if neighbours and self.rng.random() < 0.2:  # one in five also covers a neighbour
            return [home, self.rng.choice(neighbours)]
        return [home]

    def nurse(self, k: int, district: str, *, first: bool) -> dict[str, Any]:
        rng = self.rng
        districts = self.districts_of_worker(district)
        home = self.place("home", districts[0])
        skills = ["basic_care"] + [s for s, (has, _) in NURSE_SKILLS.items() if rng.random() < has]
        if first:  # the first in each district is a senior specialist
            skills = ["basic_care", *NURSE_SKILLS]
        if "picc" in skills or rng.random() < 0.35:
            skills.append(SENIOR)
        shape = rng.random()
        nurse: dict[str, Any] = {
            "id": f"nurse-{k}",
            "kind": "nurse",
            "skills": skills,
            "districts": districts,
            "start": home,
            "end": home,
        }
        if shape < 0.15:  # mornings only, no lunch on the road
            nurse["shift"] = [at("07:30"), at("12:30")]
        elif shape < 0.3:  # afternoons and evenings, a short tea break
            nurse["shift"] = [at("12:30"), at("20:00")]
            nurse["breaks"] = [{"id": "tea", "window": [at("15:30"), at("17:00")], "duration": 900}]
        else:
            nurse["shift"] = [at("08:00"), at("17:00")]
            nurse["breaks"] = [
                {"id": "lunch", "window": [at("11:30"), at("13:30")], "duration": 1800}
            ]
        if rng.random() < 0.3:
            nurse["max_tasks"] = rng.choice([6, 7, 8])
        return nurse

    def courier(self, k: int, district: str, *, first: bool) -> dict[str, Any]:
        rng = self.rng
        districts = self.districts_of_worker(district)
        station = next(p for p, (_, _, ds) in PHARMACIES.items() if districts[0] in ds)
        cold = first or rng.random() < 0.45  # every district has a cold-chain courier
        courier: dict[str, Any] = {
            "id": f"courier-{k}",
            "kind": "courier",
            "skills": ["cold_chain"] if cold else [],
            "districts": districts,
            "start": station,
            "capacity": {
                "parcels": rng.choice([12, 16, 20]),
                "cold": rng.choice([4, 6]) if cold else 0,
            },
        }
        if rng.random() < 0.5:
            courier["end"] = station
        if rng.random() < 0.25:
            courier["shift"] = [at("12:00"), at("20:00")]
            courier["breaks"] = [
                {"id": "dinner", "window": [at("17:00"), at("18:30")], "duration": 1200}
            ]
        else:
            courier["shift"] = [at("08:30"), at("18:30")]
            courier["breaks"] = [
                {"id": "lunch", "window": [at("11:30"), at("13:30")], "duration": 1800}
            ]
        return courier

    def visit(self, k: int) -> dict[str, Any]:
        rng = self.rng
        district = self.district()
        need = rng.choices(
            ["basic_care", *NURSE_SKILLS], [0.35, *(p for _, p in NURSE_SKILLS.values())]
        )[0]
        skills = [need]
        if need == "picc" or (need != "basic_care" and rng.random() < 0.15):
            skills.append(SENIOR)
        lo, hi = VISIT_MINUTES[need]
        task: dict[str, Any] = {
            "id": f"visit-{k}",
            "kind": "visit",
            "location": self.place("patient", district),
            "district": district,
            "skills": skills,
            "duration": 60 * rng.randrange(lo, hi + 1, 5),
            "priority": self.priority(urgent=need in ("picc", "wound_care")),
        }
        shape = rng.random()
        if shape < 0.12:
            pass  # any time the nurse is on shift
        elif shape < 0.27:  # a morning or an afternoon
            task["windows"] = [
                [at(_hhmm(8 * 60 + rng.randrange(0, 90, 30))), at("11:30")],
                [at(_hhmm(14 * 60 + rng.randrange(0, 60, 30))), at("18:00")],
            ]
        else:
            begin = rng.randrange(8 * 60, 16 * 60 + 1, 30)
            length = rng.choice([120, 180, 180, 240])
            task["windows"] = [[at(_hhmm(begin)), at(_hhmm(min(begin + length, 19 * 60 + 30)))]]
        return task

    def delivery(self, k: int) -> dict[str, Any]:
        rng = self.rng
        district = self.district()
        cold = rng.random() < 0.15
        begin = rng.randrange(9 * 60, 16 * 60 + 1, 30)
        length = rng.choice([120, 180, 240])
        task: dict[str, Any] = {
            "id": f"parcel-{k}",
            "kind": "delivery",
            "district": district,
            "dropoff": {
                "location": self.place("patient", district),
                "duration": rng.choice([120, 180, 180, 300]),
                "windows": [[at(_hhmm(begin)), at(_hhmm(min(begin + length, 19 * 60 + 30)))]],
            },
            "load": {"parcels": 1, "cold": 1} if cold else {"parcels": rng.choice([1, 1, 1, 2])},
            "priority": self.priority(urgent=cold),
        }
        if cold:
            task["skills"] = ["cold_chain"]
            task["max_ride"] = rng.choice([3600, 4500, 5400])
        if rng.random() < 0.8:  # dispensed during the day and collected at the pharmacy
            pharmacies = [p for p, (_, _, ds) in PHARMACIES.items() if district in ds]
            if rng.random() < 0.15:  # now and then from another campus
                pharmacies = [
                    p for p in PHARMACIES if any(loc["id"] == p for loc in self.locations)
                ]
            ready = rng.randrange(8 * 60 + 30, max(begin - 60, 8 * 60 + 31), 30)
            task["pickup"] = {
                "location": rng.choice(pharmacies),
                "duration": 120,
                "windows": [[at(_hhmm(ready)), at("18:00")]],
            }
        return task

    def priority(self, *, urgent: bool) -> int:
        if urgent:
            return self.rng.randint(60, 100)
        return min(100, max(0, round(self.rng.gauss(45, 18))))

    def pin_and_prefer(self, workers: list[dict[str, Any]], tasks: list[dict[str, Any]]) -> None:
        """About 1 % of tasks pinned and a fifth of visits with preferred nurses, all qualified."""
        rng = self.rng
        for task in tasks:
            kind = "nurse" if task["kind"] == "visit" else "courier"
            able = [
                w["id"]
                for w in workers
                if w["kind"] == kind
                and task["district"] in w["districts"]
                and set(task.get("skills", [])) <= set(w["skills"])
            ]
            if not able:
                continue
            if rng.random() < 0.01:
                task["pinned_worker"] = rng.choice(able)
            elif kind == "nurse" and rng.random() < 0.2:
                task["preferred_workers"] = rng.sample(able, min(len(able), rng.choice([1, 2])))

    def matrices(self) -> dict[str, dict[str, list[list[int]]]]:
        metres = _haversine_m(
            np.array([loc["lat"] for loc in self.locations]),
            np.array([loc["lon"] for loc in self.locations]),
        )
        moved = ~np.eye(len(self.locations), dtype=bool)
        out = {}
        for kind, detour, speed, fixed in (
            ("nurse", CAR_DETOUR, CAR_SPEED_M_S, CAR_PARKING_S),
            ("courier", EBIKE_DETOUR, EBIKE_SPEED_M_S, EBIKE_HANDOVER_S),
        ):
            distances = np.rint(metres * detour).astype(np.int64)
            # A fixed cost on every move (parking, locking the bike) keeps the triangle inequality.
            durations = np.rint(distances / speed).astype(np.int64) + fixed * moved
            out[kind] = {"durations": durations.tolist(), "distances": distances.tolist()}
        return out


def _haversine_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    h = (
        np.sin((la[None, :] - la[:, None]) / 2) ** 2
        + np.cos(la[:, None]) * np.cos(la[None, :]) * np.sin((lo[None, :] - lo[:, None]) / 2) ** 2
    )
    return 2 * 6_371_000 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.city", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="medium")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    # One string, one write: json.dump's many small writes take minutes for the large city.
    sys.stdout.write(json.dumps(make_city(args.size, seed=args.seed), separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
