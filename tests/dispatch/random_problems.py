"""Small random problems that use every key of the format, for property tests.

Deterministic for a seed. Matrices are explicit (so the independent checker can
verify times) and, one time in three, not metric. About one in six is invalid
(a break that cannot fit its shift), which the caller skips.
"""

from __future__ import annotations

import random
from typing import Any

DISTRICTS = ("hexi", "heping")
SKILLS = ("basic_care", "picc", "cold_chain")


def at(minutes: int) -> str:
    h, m = divmod(min(minutes, 23 * 60 + 59), 60)
    return f"2026-11-23T{h:02d}:{m:02d}:00+08:00"


def random_problem(seed: int) -> dict[str, Any]:
    """A problem document with 1-4 workers and 1-8 tasks of every shape."""
    rng = random.Random(seed)
    ids = [f"place-{i}" for i in range(rng.randint(3, 9))]
    xy = [(rng.uniform(0, 10), rng.uniform(0, 10)) for _ in ids]
    metric = rng.random() < 0.7

    def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
        if a == b:
            return 0
        return (
            int(60 * (abs(a[0] - b[0]) + abs(a[1] - b[1]))) + 60 if metric else rng.randint(0, 2400)
        )

    durations = [[travel(a, b) for b in xy] for a in xy]

    def windows() -> list[list[str]]:
        starts = sorted(rng.randint(7 * 60, 17 * 60) for _ in range(rng.choice([0, 1, 1, 2])))
        return [[at(a), at(a + rng.randint(0, 180))] for a in starts]

    workers = []
    for k in range(rng.randint(1, 4)):
        s0 = rng.randint(7 * 60, 10 * 60)
        s1 = s0 + rng.randint(60, 9 * 60)
        w: dict[str, Any] = {
            "id": f"worker-{k}",
            "kind": rng.choice(["nurse", "courier"]),
            "skills": rng.sample(SKILLS, rng.randint(0, 3)),
            "districts": rng.sample(DISTRICTS, rng.randint(1, 2)),
            "start": rng.choice(ids),
            "shift": [at(s0), at(s1)],
        }
        if rng.random() < 0.7:
            w["end"] = rng.choice(ids)
        if rng.random() < 0.5:
            b0 = rng.randint(s0, s1)
            window = [at(b0), at(min(s1, b0 + rng.randint(0, 90)))]
            w["breaks"] = [
                {"id": "lunch", "window": window, "duration": rng.choice([0, 600, 1800])}
            ]
        if rng.random() < 0.5:
            w["capacity"] = {"parcels": rng.randint(0, 4), "cold": rng.randint(0, 2)}
        if rng.random() < 0.3:
            w["max_tasks"] = rng.randint(0, 3)
        if rng.random() < 0.2:
            w["en_route"] = {"location": rng.choice(ids), "time": at(rng.randint(s0, s1))}
        workers.append(w)

    tasks = []
    for k in range(rng.randint(1, 8)):
        t: dict[str, Any] = {"id": f"task-{k}", "district": rng.choice(DISTRICTS)}
        t["priority"] = rng.randint(0, 100)
        if rng.random() < 0.5:
            t["skills"] = rng.sample(SKILLS, rng.randint(1, 2))
        if rng.random() < 0.5:
            t.update(kind="visit", location=rng.choice(ids), duration=rng.choice([0, 300, 1800]))
            if w := windows():
                t["windows"] = w
        else:
            t["kind"] = "delivery"
            t["dropoff"] = {"location": rng.choice(ids), "duration": rng.choice([0, 180])}
            if w := windows():
                t["dropoff"]["windows"] = w
            if rng.random() < 0.6:
                t["pickup"] = {"location": rng.choice(ids), "duration": rng.choice([0, 120])}
                if w := windows():
                    t["pickup"]["windows"] = w
            if rng.random() < 0.7:
                t["load"] = {"parcels": rng.randint(0, 2), "cold": rng.randint(0, 1)}
            if rng.random() < 0.4:
                t["max_ride"] = rng.randint(0, 3600)
        if rng.random() < 0.15:
            t["pinned_worker"] = rng.choice(workers)["id"]
        if rng.random() < 0.2:
            t["preferred_workers"] = [rng.choice(workers)["id"]]
        tasks.append(t)

    doc: dict[str, Any] = {
        "version": 1,
        "locations": [
            {"id": i, "lat": 39 + x / 100, "lon": 117 + y / 100}
            for i, (x, y) in zip(ids, xy, strict=True)
        ],
        "matrix": {
            "durations": durations,
            "distances": [[8 * v for v in row] for row in durations],
        },
        "workers": workers,
        "tasks": tasks,
    }
    if rng.random() < 0.3:
        doc["matrices"] = {"courier": {"durations": [[2 * v for v in row] for row in durations]}}
    return doc
