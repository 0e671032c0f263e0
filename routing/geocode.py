"""Address line → WGS-84 point, through a geopy geocoder: rate-limited, cached, one CRS out.

Phones send coordinates and skip this; a desk that types an address line
without a point needs it. :func:`make_service` builds any geopy geocoder by
name (``nominatim``, ``baidu``, ...; geopy's ``get_geocoder_for_service``)
with an optional base URL (a self-hosted Nominatim) and API key;
:class:`Geocoder` wraps it:

- **One coordinate system out.** Providers answer in their own system
  (:data:`PROVIDER_CRS`: Baidu in BD-09, Google in GCJ-02 inside mainland
  China); every answer is converted to WGS-84 with :func:`routing.crs.to_wgs84`.
  A provider missing from the table is refused, rather than trusted to be WGS-84.
- **Rate-limited**: at least ``min_delay_s`` between two requests to the
  provider, process-wide (geopy's ``RateLimiter``; Nominatim's usage policy
  asks for one a second).
- **Cached** in process, bounded (least recently used out), keyed by the
  normalised line (Unicode NFKC, case-folded, spaces collapsed). "Not found"
  is cached too, so a client retrying a bad line does not spend the rate limit.
  Failures are not cached.
- **Two failures**, kept apart because a client must react differently:
  :class:`AddressNotFound` (the provider answered and knows no such place, or
  refused the query itself: change the line or send a point) and
  :class:`GeocoderOutage` (time-out, connection, HTTP 5xx, quota, rejected key,
  an unreadable answer: the line may be fine; retry later or send a point).
  Nothing else escapes :meth:`Geocoder.geocode`.

Never log the line: an address is personal data.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import unicodedata
from collections import OrderedDict
from typing import Any, Protocol
from urllib.parse import urlsplit

from geopy.exc import GeocoderNotFound, GeocoderQueryError, GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import get_geocoder_for_service

from routing.crs import to_wgs84

__all__ = [
    "PROVIDER_CRS",
    "AddressNotFound",
    "Geocoder",
    "GeocoderConfigError",
    "GeocoderOutage",
    "GeocodingError",
    "make_geocoder",
    "make_service",
    "normalise_line",
]

log = logging.getLogger("doorstep.routing.geocode")

# The coordinate system each supported provider answers in. Google serves mainland
# China in GCJ-02 (and WGS-84 elsewhere, which gcj02_to_wgs84 passes through unchanged).
PROVIDER_CRS: dict[str, str] = {
    "nominatim": "wgs84",
    "photon": "wgs84",
    "pelias": "wgs84",
    "geocodeearth": "wgs84",
    "opencage": "wgs84",
    "arcgis": "wgs84",
    "mapbox": "wgs84",
    "maptiler": "wgs84",
    "here": "wgs84",
    "herev7": "wgs84",
    "tomtom": "wgs84",
    "bing": "wgs84",
    "google": "gcj02",
    "googlev3": "gcj02",
    "baidu": "bd09",
    "baiduv3": "bd09",
}
DEFAULT_CACHE_SIZE = 4096
DEFAULT_TIMEOUT_S = 5.0
USER_AGENT = "doorstep-home-care-dispatch"


class GeocodingError(Exception):
    """Base of what :meth:`Geocoder.geocode` raises."""


class AddressNotFound(GeocodingError):
    """The provider answered, but has no place for this line (or refused the line itself)."""


class GeocoderOutage(GeocodingError):
    """The provider did not answer usefully: down, slow, over quota, key refused, garbage."""


class GeocoderConfigError(ValueError):
    """The geocoder settings name an unknown provider or cannot build it."""


class GeocodingService(Protocol):
    """What :class:`Geocoder` needs of a geopy geocoder."""

    def geocode(self, query: str, *args: Any, **kwargs: Any) -> Any: ...


def normalise_line(line: str) -> str:
    """The cache key of an address line: NFKC, case-folded, runs of spaces made one.

    Full-width digits and letters typed on a Chinese keyboard (``１２号``) become
    their ASCII forms, so the same address typed twice shares one entry.
    """
    return " ".join(unicodedata.normalize("NFKC", line).casefold().split())


class Geocoder:
    """A rate-limited, cached geocoder answering in WGS-84.

    Thread-safe: the cache has a lock and geopy's ``RateLimiter`` its own.

    Parameters
    ----------
    service
        A geopy geocoder (or anything with ``geocode(query, exactly_one=True)``
        returning an object with ``latitude``/``longitude``, or ``None``).
    crs
        The coordinate system the service answers in: ``wgs84``, ``gcj02`` or ``bd09``.
    min_delay_s
        Least time between two requests to the service, in seconds.
    cache_size
        Most lines remembered; the least recently used is dropped first.
    name
        The provider's name, for logs.

    Raises
    ------
    ValueError
        If ``crs`` is unknown, ``min_delay_s`` is negative or ``cache_size`` below 1.
    """

    def __init__(
        self,
        service: GeocodingService,
        *,
        crs: str = "wgs84",
        min_delay_s: float = 1.0,
        cache_size: int = DEFAULT_CACHE_SIZE,
        name: str = "geocoder",
    ) -> None:
        to_wgs84(0.0, 0.0, crs)  # refuses an unknown crs now, not at the first answer
        if min_delay_s < 0 or cache_size < 1:
            raise ValueError("min_delay_s must be >= 0 and cache_size >= 1")
        self.crs, self.name, self.cache_size = crs, name, cache_size
        self._lookup = RateLimiter(
            service.geocode, min_delay_seconds=min_delay_s, max_retries=0, swallow_exceptions=False
        )
        self._cache: OrderedDict[str, tuple[float, float] | None] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0  # made to the service, for tests and logs

    def geocode(self, line: str) -> tuple[float, float]:
        """The WGS-84 point of an address line.

        Parameters
        ----------
        line
            The address as the client wrote it.

        Returns
        -------
        tuple of float
            ``(lat, lon)`` in WGS-84 degrees.

        Raises
        ------
        AddressNotFound
            The service has no place for the line (cached: asking again makes no request).
        GeocoderOutage
            The service failed; nothing is cached, so a retry asks it again.
        """
        key = normalise_line(line)
        if not key:
            raise AddressNotFound("an empty address line")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                cached = self._cache[key]
                log.info("event=geocode provider=%s cached=true found=%s", self.name, cached is not None)
                if cached is None:
                    raise AddressNotFound("no place for this line (remembered)")
                return cached
        point = self._ask(key)
        with self._lock:
            self._cache[key] = point
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        if point is None:
            raise AddressNotFound("no place for this line")
        return point

    def _ask(self, query: str) -> tuple[float, float] | None:
        with self._lock:
            self.requests += 1
        try:
            location = self._lookup(query, exactly_one=True)
        except GeocoderQueryError as exc:
            # The service refused this query (HTTP 400, Baidu "invalid request"): a line problem.
            log.info("event=geocode provider=%s cached=false found=false error=%s",
                     self.name, type(exc).__name__)
            return None
        except GeopyError as exc:
            log.warning("event=geocode_failed provider=%s error=%s", self.name, type(exc).__name__)
            raise GeocoderOutage(f"{self.name}: {type(exc).__name__}") from exc
        except Exception as exc:  # a provider's parser choking on an odd answer
            log.warning("event=geocode_failed provider=%s error=%s", self.name, type(exc).__name__)
            raise GeocoderOutage(f"{self.name}: unreadable answer ({type(exc).__name__})") from exc
        if location is None:
            log.info("event=geocode provider=%s cached=false found=false", self.name)
            return None
        try:
            lat, lon = float(location.latitude), float(location.longitude)
        except (AttributeError, TypeError, ValueError) as exc:
            raise GeocoderOutage(f"{self.name}: an answer without a usable point") from exc
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
            raise GeocoderOutage(f"{self.name}: an answer with an impossible point")
        log.info("event=geocode provider=%s cached=false found=true", self.name)
        return to_wgs84(lat, lon, self.crs)


def make_service(
    provider: str,
    *,
    url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> GeocodingService:
    """A geopy geocoder by name, pointed at ``url`` when given.

    Parameters
    ----------
    provider
        A name in :data:`PROVIDER_CRS` (geopy's service names).
    url
        The service's base URL (``https://nominatim.example.org``) or bare
        domain (``nominatim.example.org``, HTTPS). Providers with a ``domain``
        option take it there; Baidu's geocoders, which have none, get their
        request URL rebuilt on it.
    api_key
        Passed as ``api_key`` to providers that take one.
    timeout_s
        Seconds to wait for an answer.

    Returns
    -------
    geopy.geocoders.base.Geocoder

    Raises
    ------
    GeocoderConfigError
        If the provider is unknown or not in :data:`PROVIDER_CRS`, the URL
        cannot be used with it, or it cannot be built (e.g. it needs a key).
    """
    name = provider.strip().lower()
    if name not in PROVIDER_CRS:
        raise GeocoderConfigError(
            f"unsupported geocoder {provider!r}; one of: {', '.join(sorted(PROVIDER_CRS))}"
        )
    try:
        cls = get_geocoder_for_service(name)
    except GeocoderNotFound as exc:
        raise GeocoderConfigError(str(exc)) from None
    accepts = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = {"timeout": timeout_s}
    if "user_agent" in accepts:
        kwargs["user_agent"] = USER_AGENT
    if api_key and "api_key" in accepts:
        kwargs["api_key"] = api_key
    scheme = netloc = None
    if url:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        scheme, netloc = parts.scheme, parts.netloc + parts.path.rstrip("/")
        if scheme not in ("http", "https") or not parts.netloc:
            raise GeocoderConfigError(f"geocoder URL {url!r} is not an http(s) URL or domain")
        if "domain" in accepts:
            kwargs.update(domain=netloc, scheme=scheme)
        elif not hasattr(cls, "api_path"):
            raise GeocoderConfigError(f"the {name} geocoder takes no base URL")
    try:
        service = cls(**kwargs)
    except (TypeError, ValueError, GeopyError) as exc:
        raise GeocoderConfigError(f"cannot set up the {name} geocoder: {exc}") from None
    if url and "domain" not in accepts:
        # Baidu and BaiduV3 hard-code api.map.baidu.com; point their request URL at ours.
        service.api = f"{scheme}://{netloc}{cls.api_path}"  # type: ignore[attr-defined]
    return service


def make_geocoder(
    provider: str,
    *,
    url: str | None = None,
    api_key: str | None = None,
    min_delay_s: float = 1.0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    cache_size: int = DEFAULT_CACHE_SIZE,
) -> Geocoder:
    """A :class:`Geocoder` over the named provider, converting from its :data:`PROVIDER_CRS`.

    Raises
    ------
    GeocoderConfigError
        As :func:`make_service`.
    """
    service = make_service(provider, url=url, api_key=api_key, timeout_s=timeout_s)
    name = provider.strip().lower()
    return Geocoder(service, crs=PROVIDER_CRS[name], min_delay_s=min_delay_s,
                    cache_size=cache_size, name=name)
