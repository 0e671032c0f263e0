"""A generated day in a small city: two districts, nurses and couriers, one pharmacy.

Deterministic for a seed. The matrix is explicit (straight-line metres x 1.3 at
25 km/h for everyone) so the plan checker can verify times.
"""

from __future__ import annotations

import math
import random
from typing import Any

DAY = "2026-11-23"
TZ = "+08:00"
DISTRICTS = {"heping": (39.117, 117.195), "hexi": (39.095, 117.225)}
PHARMACY = (39.106, 117.210)


def at(hhmm: str) -> str:
    return f"{DAY}T{hhmm}:00{TZ}"


def make_city(
    n_tasks: int = 60,
    *,
    seed: int = 7,
    nurses_per_district: int = 3,
    couriers_per_district: int = 2,
) -> dict[str, Any]:
    """A problem document with ``n_tasks`` tasks, about half visits, half deliveries."""
    rng = random.Random(seed)
    locations = [{"id": "pharmacy-1", "lat": PHARMACY[0], "lon": PHARMACY[1]}]
    workers, tasks = [], []

    def place(prefix: str, district: str) -> str:
        lat, lon = DISTRICTS[district]
        loc = {
            "id": f"{prefix}-{len(locations)}",
            "lat": round(lat + rng.uniform(-0.02, 0.02), 5),
            "lon": round(lon + rng.uniform(-0.02, 0.02), 5),
        }
        locations.append(loc)
        return loc["id"]

    for district in DISTRICTS:
        for k in range(nurses_per_district):
            home = place("home", district)
            workers.append(
                {
                    "id": f"nurse-{district}-{k}",
                    "kind": "nurse",
                    "districts": [district],
                    "skills": ["basic_care"]
                    + (["picc"] if k == 0 else [])
                    + (["wound_care"] if k < 2 else []),
                    "start": home,
                    "end": home,
                    "shift": [at("08:00"), at("17:00")],
                    "breaks": [
                        {"id": "lunch", "window": [at("11:30"), at("13:30")], "duration": 1800}
                    ],
                    "max_tasks": 8,
                }
            )
        for k in range(couriers_per_district):
            home = place("depot", district)
            workers.append(
                {
                    "id": f"courier-{district}-{k}",
                    "kind": "courier",
                    "districts": [district],
                    "skills": ["cold_chain"] if k == 0 else [],
                    "start": home,
                    "shift": [at("09:00"), at("18:00")],
                    "capacity": {"parcels": 8, "cold": 3},
                }
            )

    for i in range(n_tasks):
        district = rng.choice(list(DISTRICTS))
        where = place("patient", district)
        start_h = rng.randint(8, 15)
        window = [[at(f"{start_h:02d}:00"), at(f"{start_h + 2:02d}:00")]]
        if i % 2 == 0:
            skill = rng.choice(["basic_care", "basic_care", "wound_care", "picc"])
            tasks.append(
                {
                    "id": f"visit-{i}",
                    "kind": "visit",
                    "location": where,
                    "district": district,
                    "skills": [skill],
                    "duration": rng.choice([900, 1200, 1800]),
                    "windows": window if rng.random() < 0.7 else None,
                    "priority": rng.randint(0, 100),
                }
            )
        else:
            cold = rng.random() < 0.25
            task = {
                "id": f"parcel-{i}",
                "kind": "delivery",
                "district": district,
                "load": {"parcels": 1, "cold": 1} if cold else {"parcels": 1},
                "dropoff": {
                    "location": where,
                    "duration": 180,
                    "windows": [
                        [at(f"{max(start_h, 9):02d}:00"), at(f"{max(start_h, 9) + 3:02d}:00")]
                    ],
                },
                "priority": rng.randint(0, 100),
            }
            if cold:
                task["skills"] = ["cold_chain"]
                task["max_ride"] = 5400
            if rng.random() < 0.7:
                task["pickup"] = {"location": "pharmacy-1", "duration": 120}
            tasks.append(task)
    for t in tasks:
        if t.get("windows", 0) is None:
            del t["windows"]
    n = len(locations)
    dist = [[0] * n for _ in range(n)]
    for a in range(n):
        for b in range(n):
            dist[a][b] = round(_metres(locations[a], locations[b]) * 1.3)
    dur = [[round(d / 7.0) for d in row] for row in dist]
    return {
        "version": 1,
        "locations": locations,
        "matrix": {"durations": dur, "distances": dist},
        "workers": workers,
        "tasks": tasks,
    }


def _metres(a: dict[str, float], b: dict[str, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a["lat"], a["lon"], b["lat"], b["lon"]))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * 6371000 * math.asin(math.sqrt(h))
