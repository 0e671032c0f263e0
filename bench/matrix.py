"""Travel-matrix figures: the geodesic table written as JSON, and the cell cache on a re-plan.

(a) A ``--points`` × ``--points`` geodesic table (random places in Tianjin's
central districts) computed by ``routing.travel`` and written as JSON to a
file, as ``doorstep routing matrix`` does, against a bare numpy haversine of the
same points (the textbook formula, broadcast; no file) in the same run; best
of ``--repeat``. Issue 4's target: within 5× the bare haversine. For scale,
the same table through ``geodesic_table`` and ``json.dump`` once.

(b) A day of ``--day`` places planned with a road engine behind the cell cache
(an in-process stand-in engine, so only the cache is measured: no server),
then ``--replans`` re-plans, each cancelling ``--churn`` of the places and
adding as many new ones; each prints the cache's hit rate and the cells asked
from the engine. Issue 4's target: at least 95 % of cells from the cache.

    python -m bench.matrix --points 3000 --day 600 --churn 0.02 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from routing.cache import MatrixCache, MemoryCache, RedisCache
from routing.districts import DistrictIndex
from routing.geo import EARTH_RADIUS_M, pairwise_haversine_m
from routing.matrix import geodesic_table
from routing.tables_json import write_tables_json
from routing.travel import Travel

TARGET_RATIO = 5.0
TARGET_HIT_RATE = 0.95


def city_points(n: int, *, seed: int) -> np.ndarray:
    """``n`` random ``(lat, lon)`` inside the shipped districts, spread over all of them."""
    index = DistrictIndex.default()
    rng = np.random.default_rng(seed)
    codes = index.codes
    return np.array([index.random_point(codes[k % len(codes)], rng) for k in range(n)])


def bare_haversine_m(points: np.ndarray) -> np.ndarray:
    """The textbook haversine between all pairs, broadcast in numpy: the baseline."""
    lat, lon = np.radians(points[:, 0]), np.radians(points[:, 1])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h))


@dataclass(frozen=True)
class JsonTiming:
    points: int
    geodesic_json_s: float
    bare_haversine_s: float
    naive_json_s: float | None
    file_mb: float

    @property
    def ratio(self) -> float:
        return self.geodesic_json_s / self.bare_haversine_s


def time_geodesic_json(points: np.ndarray, *, repeat: int = 3, naive: bool = True) -> JsonTiming:
    """Best-of-``repeat`` seconds for the geodesic table as a JSON file, and for the bare haversine."""
    travel = Travel()
    best_json = best_bare = float("inf")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "matrix.json"
        for _ in range(max(1, repeat)):
            start = time.perf_counter()
            durations, distances = travel.arrays(points, "car")
            with path.open("wb") as out:
                write_tables_json(out, durations, distances)
            best_json = min(best_json, time.perf_counter() - start)
            start = time.perf_counter()
            bare_haversine_m(points)
            best_bare = min(best_bare, time.perf_counter() - start)
        size_mb = path.stat().st_size / 1e6
        naive_s = None
        if naive:
            start = time.perf_counter()
            durations_l, distances_l = geodesic_table(points, "car")
            with path.open("w") as out:
                json.dump({"durations": durations_l, "distances": distances_l}, out)
            naive_s = time.perf_counter() - start
    return JsonTiming(len(points), best_json, best_bare, naive_s, size_mb)


@dataclass
class StandInEngine:
    """A road engine in process: straight lines × 1.4 at 8 m/s, counting the cells asked."""

    name: ClassVar[str] = "bench"
    dedupes: ClassVar[bool] = True
    max_locations: int = 100
    cells: int = 0

    def block(self, coords: np.ndarray, sources: np.ndarray, destinations: np.ndarray,
              mode: str) -> tuple[np.ndarray, np.ndarray]:
        metres = 1.4 * pairwise_haversine_m(coords[sources, 0], coords[sources, 1],
                                            coords[destinations, 0], coords[destinations, 1])
        self.cells += metres.size
        return metres / 8.0, metres


@dataclass(frozen=True)
class Replan:
    places: int
    hit_rate: float
    cells_asked: int
    seconds: float


def replan_day(day: int, *, churn: float, replans: int, seed: int,
               cache: MatrixCache | None = None) -> list[Replan]:
    """Plan a day of ``day`` places, then re-plan ``replans`` times with ``churn`` of them replaced.

    Each plan builds the nurses' (car) and the couriers' (ebike) tables, as
    ``dispatch.service`` does. The first entry is the morning plan (an empty
    cache: hit rate 0); the others are the re-plans.
    """
    rng = np.random.default_rng(seed)
    pool = city_points(day * (1 + replans) + 10, seed=seed)
    engine = StandInEngine()
    cache = cache if cache is not None else MemoryCache()
    travel = Travel(engine, cache)
    places = pool[:day]
    fresh = day
    results = []
    for step in range(replans + 1):
        if step:
            k = max(1, round(churn * day))
            keep = np.sort(rng.choice(len(places), len(places) - k, replace=False))
            places = np.concatenate([places[keep], pool[fresh:fresh + k]])  # k cancelled, k new
            fresh += k
        cache.stats.reset()
        asked_before = engine.cells
        start = time.perf_counter()
        for mode in ("car", "ebike"):
            travel.arrays(places, mode)
        results.append(Replan(len(places), cache.stats.hit_rate, engine.cells - asked_before,
                              time.perf_counter() - start))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.matrix", description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=3000, help="places in the geodesic table (a)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--day", type=int, default=600, help="places in the day that is re-planned (b)")
    parser.add_argument("--churn", type=float, default=0.02, help="share of places replaced per re-plan")
    parser.add_argument("--replans", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--redis", action="store_true", help="keep the cells in REDIS_URL's Redis")
    args = parser.parse_args(argv)

    command = "python -m bench.matrix " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# {command.strip()}")
    timing = time_geodesic_json(city_points(args.points, seed=args.seed), repeat=args.repeat)
    print(f"(a) {timing.points:,} x {timing.points:,} geodesic table, durations and distances")
    print(f"    routing.travel + JSON file   {timing.geodesic_json_s:.3f} s ({timing.file_mb:.0f} MB)")
    print(f"    bare numpy haversine         {timing.bare_haversine_s:.3f} s")
    print(f"    ratio                        {timing.ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
    if timing.naive_json_s is not None:
        print(f"    (geodesic_table + json.dump  {timing.naive_json_s:.3f} s, once)")

    cache: MatrixCache | None = None
    if args.redis:
        import redis

        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        cache = RedisCache(client, prefix=f"doorstep-bench:{os.getpid()}")
    try:
        steps = replan_day(args.day, churn=args.churn, replans=args.replans, seed=args.seed, cache=cache)
    finally:
        if isinstance(cache, RedisCache):
            keys = list(cache.client.scan_iter(match=f"{cache.prefix}:*"))
            if keys:
                cache.client.delete(*keys)
    print(f"(b) a day of {args.day:,} places, nurses' and couriers' tables, cache "
          f"{'redis' if args.redis else 'in process'}; each re-plan replaces {args.churn:.0%} of them")
    for k, step in enumerate(steps):
        label = "morning plan" if k == 0 else f"re-plan {k}"
        print(f"    {label:<13} hit rate {step.hit_rate:6.1%}  cells asked {step.cells_asked:>9,}  "
              f"{step.seconds:.2f} s")
    replan_rates = [s.hit_rate for s in steps[1:]]
    if replan_rates:
        print(f"    lowest re-plan hit rate {min(replan_rates):.1%} (target >= {TARGET_HIT_RATE:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
