"""Conversions between WGS-84, GCJ-02 and BD-09 coordinates.

Doorstep stores and computes in WGS-84 (what phones' GNSS report and what
``routing.districts`` is drawn in). Chinese map services do not: Amap (Gaode),
Tencent and the Chinese Apple/Google tiles use GCJ-02, Baidu uses BD-09. A
point copied from one of those apps is off by roughly 500 m in Tianjin unless
it is converted first with :func:`to_wgs84`.

The forward transforms are the widely published reference algorithms. GCJ-02
has no closed-form inverse; :func:`gcj02_to_wgs84` inverts it by fixed-point
iteration to well under a centimetre. GCJ-02 applies only inside mainland
China (a coarse bounding box, as in the reference code); outside it the
coordinates pass through unchanged.

All functions take and return ``(lat, lon)`` in decimal degrees.
"""

from __future__ import annotations

import math

__all__ = [
    "CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 reference implementation.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

_INVERSE_TOLERANCE_DEG = 1e-10  # about 0.01 mm
_INVERSE_MAX_ITERATIONS = 30


def out_of_china(lat: float, lon: float) -> bool:
    """Whether GCJ-02 leaves this point unshifted (outside China's bounding box).

    Parameters
    ----------
    lat, lon
        Degrees.

    Returns
    -------
    bool
        True outside the box 3.86–53.55 N, 73.66–135.05 E.
    """
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Shift a WGS-84 point to GCJ-02 (Amap, Tencent).

    Parameters
    ----------
    lat, lon
        WGS-84 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in GCJ-02 degrees; unchanged outside China.
    """
    if out_of_china(lat, lon):
        return lat, lon
    d_lat = _transform_lat(lon - 105.0, lat - 35.0)
    d_lon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Recover the WGS-84 point that GCJ-02 shifted to ``(lat, lon)``.

    Fixed-point iteration on the forward transform: the shift changes by only
    millimetres over the few hundred metres it moves a point, so each step
    gains several digits.

    Parameters
    ----------
    lat, lon
        GCJ-02 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in WGS-84 degrees, within 1e-10 degrees of the exact
        inverse; unchanged outside China.
    """
    if out_of_china(lat, lon):
        return lat, lon
    w_lat, w_lon = lat, lon
    for _ in range(_INVERSE_MAX_ITERATIONS):
        g_lat, g_lon = wgs84_to_gcj02(w_lat, w_lon)
        err_lat, err_lon = g_lat - lat, g_lon - lon
        w_lat, w_lon = w_lat - err_lat, w_lon - err_lon
        if abs(err_lat) < _INVERSE_TOLERANCE_DEG and abs(err_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return w_lat, w_lon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Shift a GCJ-02 point to Baidu's BD-09.

    Parameters
    ----------
    lat, lon
        GCJ-02 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in BD-09 degrees.
    """
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Recover the GCJ-02 point that BD-09 shifted to ``(lat, lon)``.

    Starts from the published closed-form approximation and refines it by
    fixed-point iteration on :func:`gcj02_to_bd09`, so a round trip is exact
    to well under a millimetre.

    Parameters
    ----------
    lat, lon
        BD-09 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in GCJ-02 degrees.
    """
    x, y = lon - 0.0065, lat - 0.006
    z = math.hypot(x, y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    g_lat, g_lon = z * math.sin(theta), z * math.cos(theta)
    for _ in range(_INVERSE_MAX_ITERATIONS):
        b_lat, b_lon = gcj02_to_bd09(g_lat, g_lon)
        err_lat, err_lon = b_lat - lat, b_lon - lon
        g_lat, g_lon = g_lat - err_lat, g_lon - err_lon
        if abs(err_lat) < _INVERSE_TOLERANCE_DEG and abs(err_lon) < _INVERSE_TOLERANCE_DEG:
            break
    return g_lat, g_lon


def wgs84_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    """Shift a WGS-84 point to BD-09 (via GCJ-02).

    Parameters
    ----------
    lat, lon
        WGS-84 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in BD-09 degrees.
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Recover the WGS-84 point behind a BD-09 one (via GCJ-02).

    Parameters
    ----------
    lat, lon
        BD-09 degrees.

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in WGS-84 degrees.
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert a point given in ``crs`` to WGS-84.

    Parameters
    ----------
    lat, lon
        Degrees in ``crs``.
    crs
        ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in WGS-84 degrees.

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`CRS_NAMES`.
    """
    if crs == "wgs84":
        return lat, lon
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if crs == "bd09":
        return bd09_to_wgs84(lat, lon)
    raise ValueError(f"unknown crs {crs!r}; expected one of: {', '.join(CRS_NAMES)}")


def from_wgs84(lat: float, lon: float, crs: str) -> tuple[float, float]:
    """Convert a WGS-84 point to ``crs``: for maps whose tiles are drawn in GCJ-02 or BD-09.

    Parameters
    ----------
    lat, lon
        WGS-84 degrees.
    crs
        ``"wgs84"``, ``"gcj02"`` (Amap, Tencent) or ``"bd09"`` (Baidu).

    Returns
    -------
    tuple of float
        ``(lat, lon)`` in ``crs`` degrees.

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`CRS_NAMES`.
    """
    if crs == "wgs84":
        return lat, lon
    if crs == "gcj02":
        return wgs84_to_gcj02(lat, lon)
    if crs == "bd09":
        return wgs84_to_bd09(lat, lon)
    raise ValueError(f"unknown crs {crs!r}; expected one of: {', '.join(CRS_NAMES)}")
