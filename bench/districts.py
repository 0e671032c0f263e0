"""District look-up speed: points per second for ``DistrictIndex.locate_many``.

Random points, uniform over the districts' bounding box widened by a margin on
each side (so a share of them fall outside every district, as mistyped or
out-of-town addresses do), are located in one call after a warm-up call; the
best of ``--repeat`` runs counts. For comparison, one-at-a-time ``locate`` on a
sample, and whether both agree on it. The target of issue 4 is 50,000 points/s.

    python -m bench.districts --points 200000 --seed 1
    python -m bench.districts --districts my_city.geojson
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

import numpy as np

from routing.districts import DistrictIndex

TARGET_POINTS_PER_S = 50_000
SAMPLE_FOR_LOCATE = 2_000


@dataclass(frozen=True)
class Result:
    points: int
    seconds: float
    inside_share: float
    one_at_a_time_points_per_s: float
    agree: bool

    @property
    def points_per_s(self) -> float:
        return self.points / self.seconds if self.seconds > 0 else float("inf")


def random_points(
    index: DistrictIndex, n: int, *, seed: int, margin: float = 0.25
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (lats, lons) uniform over the districts' bounds widened by ``margin`` of each side."""
    bounds = np.array([d.polygon.bounds for d in index])
    min_x, min_y = bounds[:, 0].min(), bounds[:, 1].min()
    max_x, max_y = bounds[:, 2].max(), bounds[:, 3].max()
    dx, dy = (max_x - min_x) * margin, (max_y - min_y) * margin
    rng = np.random.default_rng(seed)
    lons = rng.uniform(min_x - dx, max_x + dx, n)
    lats = rng.uniform(min_y - dy, max_y + dy, n)
    return lats, lons


def measure(index: DistrictIndex, n: int, *, seed: int = 1, repeat: int = 3) -> Result:
    """Time ``locate_many`` over ``n`` random points (best of ``repeat``) and ``locate`` on a sample."""
    lats, lons = random_points(index, n, seed=seed)
    index.locate_many(lats[:100], lons[:100])  # warm-up: prepared geometries, imports
    best = float("inf")
    codes: list[str | None] = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        codes = index.locate_many(lats, lons)
        best = min(best, time.perf_counter() - start)
    sample = min(n, SAMPLE_FOR_LOCATE)
    start = time.perf_counter()
    one_by_one = [index.locate(float(lats[i]), float(lons[i])) for i in range(sample)]
    single = time.perf_counter() - start
    return Result(
        points=n,
        seconds=best,
        inside_share=sum(code is not None for code in codes) / n if n else 0.0,
        one_at_a_time_points_per_s=sample / single if single > 0 else float("inf"),
        agree=one_by_one == codes[:sample],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.districts", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--districts", metavar="FILE", help="a GeoJSON districts file (default: the shipped ones)"
    )
    args = parser.parse_args(argv)
    index = DistrictIndex.from_geojson(args.districts) if args.districts else DistrictIndex.default()
    result = measure(index, args.points, seed=args.seed, repeat=args.repeat)
    command = "python -m bench.districts " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"# {command.strip()}")
    print(f"districts            {', '.join(index.codes)}")
    print(f"points               {result.points:,}")
    print(f"inside a district    {result.inside_share:.1%}")
    print(f"locate_many          {result.seconds:.3f} s, {result.points_per_s:,.0f} points/s "
          f"(target {TARGET_POINTS_PER_S:,})")
    print(f"locate, one by one   {result.one_at_a_time_points_per_s:,.0f} points/s "
          f"(on {min(result.points, SAMPLE_FOR_LOCATE):,} points; same answers: "
          f"{'yes' if result.agree else 'NO'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
