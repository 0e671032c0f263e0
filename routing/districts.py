"""Which service district a point lies in.

A district is a polygon with a stable ``code`` (``"heping"``), an English
``name`` and a Chinese ``name_zh``. :meth:`DistrictIndex.default` loads the
six central districts of Tianjin shipped in ``routing/data``: generalised
outlines (about 100–300 m from the official line; areas within 5 % of the
official ones) whose shared borders use identical vertices, so the districts
tile the centre without gaps or overlaps.

A point exactly on a shared border belongs to the alphabetically first code
among the districts that cover it, in :meth:`~DistrictIndex.locate` and
:meth:`~DistrictIndex.locate_many` alike, so the answer never depends on the
order of the file.

Coordinates are WGS-84 degrees; methods take and return ``(lat, lon)``, while
GeoJSON and shapely keep their ``(lon, lat)`` order inside this module.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.strtree import STRtree

from routing.crs import from_wgs84

__all__ = ["District", "DistrictIndex", "UniformSource"]

_DEFAULT_RESOURCE = ("data", "tianjin_districts.geojson")
_MAX_SAMPLING_ROUNDS = 1000


class UniformSource(Protocol):
    """Anything with ``uniform(low, high)``: ``random.Random``, ``numpy.random.Generator``."""

    def uniform(self, low: float, high: float) -> float:
        """Return a float drawn uniformly from ``[low, high)``."""
        ...


@dataclass(frozen=True)
class District:
    """One service district.

    Attributes
    ----------
    code
        Stable identifier used across the API, problems and plans.
    name, name_zh
        Display names in English and Chinese.
    polygon
        Outline, shapely ``Polygon`` or ``MultiPolygon`` in (lon, lat).
    """

    code: str
    name: str
    name_zh: str
    polygon: Polygon | MultiPolygon


class DistrictIndex:
    """Point-in-district look-ups over a fixed set of districts.

    Build it with :meth:`from_geojson` or :meth:`default`; it is immutable
    afterwards and safe to share between threads.

    Parameters
    ----------
    districts
        Districts with unique codes and valid polygonal outlines.

    Raises
    ------
    ValueError
        If a code repeats or an outline is empty or invalid.
    """

    def __init__(self, districts: Iterable[District]) -> None:
        by_code: dict[str, District] = {}
        for district in districts:
            if district.code in by_code:
                raise ValueError(f"duplicate district code {district.code!r}")
            if district.polygon.is_empty or not district.polygon.is_valid:
                reason = shapely.is_valid_reason(district.polygon)
                raise ValueError(f"district {district.code!r} has an invalid outline: {reason}")
            by_code[district.code] = district
        # Sorted order everywhere makes border ties resolve to the first code.
        self._districts = tuple(by_code[code] for code in sorted(by_code))
        self._by_code = {d.code: d for d in self._districts}
        self._polygons = [d.polygon for d in self._districts]
        for polygon in self._polygons:
            shapely.prepare(polygon)
        self._tree = STRtree(self._polygons)
        self._representative = {
            d.code: _lat_lon(d.polygon.representative_point()) for d in self._districts
        }

    @classmethod
    def from_geojson(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> DistrictIndex:
        """Load districts from a GeoJSON FeatureCollection.

        Parameters
        ----------
        source
            A path to a ``.geojson`` file, or the already-parsed document.
            Each feature needs a ``Polygon`` or ``MultiPolygon`` geometry and
            ``code``, ``name`` and ``name_zh`` properties.

        Returns
        -------
        DistrictIndex

        Raises
        ------
        ValueError
            If the file is not JSON, the document is not a FeatureCollection
            with at least one feature, a feature lacks a property or has a
            non-polygonal or unreadable geometry, or as for the constructor.
        OSError
            If the file cannot be read.
        """
        if isinstance(source, Mapping):
            document = source
        else:
            with open(source, encoding="utf-8") as f:
                try:
                    document = json.load(f)
                except json.JSONDecodeError as exc:
                    raise ValueError(
                        f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
                    ) from None
        return cls(_parse_feature_collection(document))

    @classmethod
    def default(cls) -> DistrictIndex:
        """The six central districts of Tianjin shipped with Doorstep (loaded once).

        Returns
        -------
        DistrictIndex
            Codes ``hebei``, ``hedong``, ``heping``, ``hexi``, ``hongqiao``, ``nankai``.
        """
        return _default_index()

    @property
    def codes(self) -> tuple[str, ...]:
        """District codes, sorted."""
        return tuple(self._by_code)

    def __len__(self) -> int:
        return len(self._districts)

    def __iter__(self) -> Iterator[District]:
        return iter(self._districts)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def district(self, code: str) -> District:
        """The district with this code.

        Raises
        ------
        KeyError
            If no district has this code.
        """
        try:
            return self._by_code[code]
        except KeyError:
            raise KeyError(f"unknown district code {code!r}") from None

    def locate(self, lat: float, lon: float) -> str | None:
        """The code of the district containing a point.

        Parameters
        ----------
        lat, lon
            WGS-84 degrees.

        Returns
        -------
        str or None
            The district code; on a shared border, the alphabetically first of
            the districts covering the point; ``None`` outside all of them.
        """
        hits = self._tree.query(Point(lon, lat), predicate="covered_by")
        return self._districts[int(hits.min())].code if len(hits) else None

    def locate_many(
        self, lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray
    ) -> list[str | None]:
        """Vectorised :meth:`locate` for many points.

        Parameters
        ----------
        lats, lons
            Equal-length sequences of WGS-84 degrees.

        Returns
        -------
        list of (str or None)
            One code (or ``None``) per point, identical to calling
            :meth:`locate` on each.

        Raises
        ------
        ValueError
            If ``lats`` and ``lons`` differ in length.
        """
        x = np.asarray(lons, dtype=float).ravel()
        y = np.asarray(lats, dtype=float).ravel()
        if x.shape != y.shape:
            raise ValueError(f"{len(y)} latitudes but {len(x)} longitudes")
        found = np.full(len(x), -1)
        for i, polygon in enumerate(self._polygons):
            # intersects_xy includes the boundary (contains_xy would not), and the
            # first district in sorted order keeps a border point, as in locate().
            todo = found < 0
            if not todo.any():
                break
            hit = shapely.intersects_xy(polygon, x[todo], y[todo])
            found[np.flatnonzero(todo)[hit]] = i
        return [self._districts[i].code if i >= 0 else None for i in found.tolist()]

    def centroid(self, code: str) -> tuple[float, float]:
        """A point guaranteed to lie inside the district.

        Shapely's ``representative_point``, not the geometric centroid (which
        can fall outside a concave outline). Used to place demo addresses.

        Parameters
        ----------
        code
            District code.

        Returns
        -------
        tuple of float
            ``(lat, lon)``, WGS-84 degrees.

        Raises
        ------
        KeyError
            If no district has this code.
        """
        self.district(code)
        return self._representative[code]

    def random_point(self, code: str, rng: UniformSource) -> tuple[float, float]:
        """A point drawn uniformly from the inside of a district.

        Rejection sampling within the district's bounding box, strictly
        inside the outline, so the point never falls on a border and
        :meth:`locate` returns ``code`` for it.

        Parameters
        ----------
        code
            District code.
        rng
            ``random.Random`` or ``numpy.random.Generator``; seed it for
            reproducible demo data.

        Returns
        -------
        tuple of float
            ``(lat, lon)``, WGS-84 degrees.

        Raises
        ------
        KeyError
            If no district has this code.
        RuntimeError
            If no point was found inside after many draws (a degenerate outline).
        """
        polygon = self.district(code).polygon
        min_x, min_y, max_x, max_y = polygon.bounds
        for _ in range(_MAX_SAMPLING_ROUNDS):
            x = float(rng.uniform(min_x, max_x))
            y = float(rng.uniform(min_y, max_y))
            if shapely.contains_xy(polygon, x, y):
                return y, x
        raise RuntimeError(f"no point found inside district {code!r}")

    def to_geojson(self, crs: str = "wgs84") -> dict[str, Any]:
        """The districts as a GeoJSON FeatureCollection (a fresh, JSON-ready dict).

        Parameters
        ----------
        crs
            ``"wgs84"`` (GeoJSON's own), or ``"gcj02"``/``"bd09"`` for a map whose
            tiles are drawn in those systems (AMap, Tencent, Baidu): drawn in WGS-84
            on such tiles, a border is off by a few hundred metres.

        Returns
        -------
        dict
            Features sorted by code, each with ``id`` and properties ``code``,
            ``name``, ``name_zh``; coordinates in (lon, lat) as GeoJSON requires.
        """
        features = [
            {
                "type": "Feature",
                "id": d.code,
                "properties": {"code": d.code, "name": d.name, "name_zh": d.name_zh},
                "geometry": _json_ready(mapping(_in_crs(d.polygon, crs))),
            }
            for d in self._districts
        ]
        return {"type": "FeatureCollection", "features": features}


@functools.cache
def _default_index() -> DistrictIndex:
    folder, name = _DEFAULT_RESOURCE
    text = resources.files(__package__).joinpath(folder).joinpath(name).read_text(encoding="utf-8")
    return DistrictIndex.from_geojson(json.loads(text))


def _parse_feature_collection(document: Any) -> list[District]:
    """Districts of a FeatureCollection; every fault is a ``ValueError`` naming the feature."""
    if not isinstance(document, Mapping) or document.get("type") != "FeatureCollection" or not isinstance(
        document.get("features"), list
    ):
        raise ValueError("expected a GeoJSON FeatureCollection with a 'features' list")
    if not document["features"]:
        raise ValueError("the FeatureCollection has no features: a deployment serves at least one district")
    districts = []
    for i, feature in enumerate(document["features"]):
        if not isinstance(feature, Mapping):
            raise ValueError(f"features[{i}] is not a GeoJSON Feature object")  # noqa: TRY004 (bad data)
        properties = feature.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise ValueError(f"features[{i}] has properties that are not an object")  # noqa: TRY004
        missing = [key for key in ("code", "name", "name_zh") if not properties.get(key)]
        if missing:
            raise ValueError(f"features[{i}] lacks properties: {', '.join(missing)}")
        geometry = feature.get("geometry") or {}
        kind = geometry.get("type") if isinstance(geometry, Mapping) else None
        if kind not in ("Polygon", "MultiPolygon"):
            raise ValueError(
                f"features[{i}] ({properties['code']!r}) must be a Polygon or MultiPolygon, got {kind!r}"
            )
        try:
            polygon = shape(geometry)
        except Exception as exc:  # noqa: BLE001 - shapely raises several types for bad coordinates
            raise ValueError(
                f"features[{i}] ({properties['code']!r}) has unreadable coordinates: {exc}"
            ) from None
        districts.append(
            District(
                code=str(properties["code"]),
                name=str(properties["name"]),
                name_zh=str(properties["name_zh"]),
                polygon=polygon,
            )
        )
    return districts


def _in_crs(geometry: Polygon | MultiPolygon, crs: str) -> Polygon | MultiPolygon:
    """``geometry`` with each (lon, lat) vertex converted from WGS-84 to ``crs``."""
    if crs == "wgs84":
        return geometry
    from_wgs84(0.0, 0.0, crs)  # raises ValueError for an unknown crs, before any work

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.array([from_wgs84(lat, lon, crs)[::-1] for lon, lat in xy])

    return shapely.transform(geometry, convert)


def _lat_lon(point: Point) -> tuple[float, float]:
    return point.y, point.x


def _json_ready(value: Any) -> Any:
    """Replace tuples with lists: JSON encoders and equality checks want lists."""
    if isinstance(value, (tuple, list)):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value
