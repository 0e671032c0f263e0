"""Settings, read once from the environment when the app is created.

Each setting has an embedded default so a newcomer runs everything with no
server: SQLite in the instance folder, and a Celery broker and result store on
SQLite files (kombu's SQLAlchemy transport). With ``DATABASE_URL`` and
``REDIS_URL`` set, PostgreSQL and Redis take their place.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Mapping


def parse_bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    return int(value)


def parse_float(value: str | None, default: float) -> float:
    if value is None or value == "":
        return default
    return float(value)


def parse_hours(value: str | None, default: tuple[time, time], name: str = "hours") -> tuple[time, time]:
    """``"08:00-18:00"`` → ``(time(8), time(18))``; ``24:00`` closes at the end of the day."""
    if value is None or value.strip() == "":
        return default
    try:
        opens, closes = (part.strip() for part in value.split("-"))
        start = time.fromisoformat(opens)
        end = time.max if closes == "24:00" else time.fromisoformat(closes)
    except ValueError:
        raise ValueError(f"{name}: expected HH:MM-HH:MM, got {value!r}") from None
    if end <= start:
        raise ValueError(f"{name}: closes before it opens: {value!r}")
    return start, end


def parse_title(value: str | None, default: str) -> str:
    """A nursing title code (``nurse`` ... ``chief_nurse``); an unknown one stops start-up."""
    from dispatch.qualification import TITLES

    title = (value or "").strip().lower() or default
    if title not in TITLES:
        raise ValueError(f"DOORSTEP_HOME_CARE_MIN_TITLE={title!r}: one of {', '.join(TITLES)}")
    return title


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the platform hands us."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def parse_tile_url(value: str | None) -> str | None:
    """A map tile server's URL template (``https://host/{z}/{x}/{y}.png``); a wrong one stops start-up."""
    from urllib.parse import urlsplit

    url = (value or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or not all(f"{{{k}}}" in url for k in "zxy"):
        raise ValueError(f"DOORSTEP_TILE_URL={url!r}: an http(s) URL with {{z}}, {{x}} and {{y}}")
    return url


def parse_choice(value: str | None, choices: tuple[str, ...], name: str) -> str:
    """One of ``choices`` (the first when unset); anything else stops start-up."""
    choice = (value or "").strip().lower() or choices[0]
    if choice not in choices:
        raise ValueError(f"{name}={choice!r}: one of {', '.join(choices)}")
    return choice


def parse_sse(value: str | None) -> str | None:
    """S3 server-side encryption: ``AES256`` (the default: proof files are health data), ``aws:kms``,
    or ``none`` for a provider that refuses the header; anything else stops start-up."""
    choice = (value or "").strip().lower() or "aes256"
    known = {"aes256": "AES256", "aws:kms": "aws:kms", "none": None, "off": None}
    if choice not in known:
        raise ValueError(f"DOORSTEP_S3_SSE={value!r}: AES256, aws:kms or none")
    return known[choice]


@dataclass(frozen=True)
class Settings:
    instance_path: Path
    database_url: str
    redis_url: str | None
    broker_url: str
    result_backend: str
    secret_key: str
    timezone: str = "Asia/Shanghai"
    access_token_minutes: int = 15
    # How long a web process trusts that an account it saw active still is (doorstep/auth.py); 0: ask every time.
    active_user_cache_s: float = 5.0
    refresh_token_days: int = 14
    solver_time_limit_s: int = 10
    task_soft_time_limit_s: int = 120
    task_time_limit_s: int = 180
    testing: bool = False
    # Geography (routing/): see the README's "Geography" section.
    routing_engine: str = "geodesic"  # geodesic | osrm | valhalla
    routing_url: str | None = None  # the road engine's base URL
    routing_timeout_s: float = 10.0
    routing_retries: int = 2  # per road-engine request, after 0.25 s, 0.5 s, ...
    routing_max_locations: int = 100  # per road-engine request: OSRM's default table limit
    routing_cache_ttl_s: int = 86_400  # a road engine's matrix cells are kept a day
    routing_cache_cells: int = 2_000_000  # bound on the in-process cache (without REDIS_URL)
    detour_factor: float = 1.3  # geodesic: road distance / straight-line distance
    handover_s: int = 0  # parking and finding the door, per trip between two places (every engine)
    geocoder: str | None = None  # a geopy geocoder name: nominatim, baidu, ...; none: phones send coordinates
    geocoder_url: str | None = None  # its domain or base URL, for a self-hosted Nominatim
    geocoder_api_key: str | None = None
    geocoder_min_delay_s: float = 1.0  # Nominatim's usage policy: one request a second
    districts_file: Path | None = None  # the served districts as GeoJSON; default: Tianjin's six central districts
    # Booking care orders (orders/booking.py): see the README's "Care orders" section.
    booking_lead_hours: int = 24  # a window starts at least this long after the booking
    booking_horizon_days: int = 30  # and on a local day at most this many days ahead
    service_hours: tuple[time, time] = (time(8), time(18))  # local: a window lies within them
    max_open_care_orders: int = 3  # per patient, a series counting as one
    # How long a web process books from its copy of a catalogue item (orders/catalogue.py); 0: never cached.
    catalogue_cache_s: float = 5.0
    # Delivery orders (orders/deliveries.py): see the README's "Deliveries" section.
    cold_chain_max_minutes: int = 120  # a cold parcel's longest ride, unless the order says otherwise
    review_two_person: bool = False  # the pharmacist who created a parcel may not also review it
    # Visit verification and proof of delivery (mobile_api/evv.py, mobile_api/proof.py): see "Live operations".
    evv_radius_m: int = 100  # a check-in/out farther than this from the door goes to the office's queue
    evv_grace_minutes: int = 30  # a visit without check-in this long after its window (or check-out) is flagged
    cold_chain_excursion_minutes: int = 10  # a delivery box outside 2-8 °C longer than this is an excursion
    files_url: str | None = None  # where proof files go: default the instance folder's files/
    # An S3-compatible file store (doorstep/files.py), with DOORSTEP_FILES_URL=s3://bucket/prefix.
    s3_endpoint_url: str | None = None  # MinIO, Ceph, Aliyun OSS, Tencent COS...; none: AWS
    s3_region: str | None = None
    s3_access_key_id: str | None = field(default=None, repr=False)  # none: boto3's own chain (roles...)
    s3_secret_access_key: str | None = field(default=None, repr=False)
    s3_session_token: str | None = field(default=None, repr=False)
    s3_server_side_encryption: str | None = "AES256"  # AES256 | aws:kms | None (a provider that refuses it)
    s3_addressing_style: str = "auto"  # auto | path (MinIO, Ceph) | virtual (Aliyun OSS)
    # Home visits (dispatch/qualification.py): the national pilot's five years and 护师 (senior_nurse).
    home_care_min_years: int = 5
    home_care_min_title: str = "senior_nurse"
    # Webhooks (orders/webhooks.py): targets on private or loopback addresses only when set (tests, labs).
    webhook_allow_private: bool = False
    # Live operations (mobile_api/positions.py, doorstep/feed.py): see the README's "Live operations".
    trail_retention_days: int = 7  # a worker's trail (and last position) is deleted this long after its day
    position_flag_km: float = 100.0  # a ping farther than this from every served district is flagged
    late_after_minutes: int = 15  # a worker this far behind the plan is reported late on the live feed
    live_eta_max_age_minutes: int = 15  # a last position older than this gives no live ETA (orders/tracking.py)
    shift_cache_s: int = 60  # how long a web process trusts what it read of a worker's shifts
    feed_stream_s: float = 300.0  # one live-feed connection is closed after this; the board reconnects
    # The dispatcher board's map (admin/board_live.py): a tile server's URL template; none: a plain background.
    tile_url: str | None = None
    tile_crs: str = "wgs84"  # wgs84 | gcj02 (AMap-style tiles): what the board converts its points to
    extra: Mapping[str, object] = field(default_factory=dict)

    @property
    def uses_embedded_broker(self) -> bool:
        return self.broker_url.startswith("sqla+")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, instance_path: Path | None = None) -> "Settings":
        env = os.environ if env is None else env
        instance = Path(env.get("DOORSTEP_INSTANCE_PATH") or instance_path or Path.cwd() / "instance")
        instance = instance.resolve()
        database_url = normalise_database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance / 'doorstep.db'}"
        )
        redis_url = env.get("REDIS_URL") or None
        broker_url = env.get("CELERY_BROKER_URL") or redis_url or f"sqla+sqlite:///{instance / 'broker.db'}"
        result_backend = (
            env.get("CELERY_RESULT_BACKEND") or redis_url or f"db+sqlite:///{instance / 'results.db'}"
        )
        return cls(
            instance_path=instance,
            database_url=database_url,
            redis_url=redis_url,
            broker_url=broker_url,
            result_backend=result_backend,
            secret_key=_secret_key(env.get("SECRET_KEY")) or _instance_secret(instance),
            timezone=env.get("DOORSTEP_TIMEZONE") or "Asia/Shanghai",
            access_token_minutes=parse_int(env.get("DOORSTEP_ACCESS_TOKEN_MINUTES"), 15),
            active_user_cache_s=parse_float(env.get("DOORSTEP_ACTIVE_USER_CACHE_S"), 5.0),
            refresh_token_days=parse_int(env.get("DOORSTEP_REFRESH_TOKEN_DAYS"), 14),
            solver_time_limit_s=parse_int(env.get("DOORSTEP_SOLVER_TIME_LIMIT"), 10),
            testing=parse_bool(env.get("DOORSTEP_TESTING")),
            routing_engine=(env.get("DOORSTEP_ROUTING_ENGINE") or "geodesic").strip().lower(),
            routing_url=env.get("DOORSTEP_ROUTING_URL") or None,
            routing_timeout_s=parse_float(env.get("DOORSTEP_ROUTING_TIMEOUT"), 10.0),
            routing_retries=parse_int(env.get("DOORSTEP_ROUTING_RETRIES"), 2),
            routing_max_locations=parse_int(env.get("DOORSTEP_ROUTING_MAX_LOCATIONS"), 100),
            routing_cache_ttl_s=parse_int(env.get("DOORSTEP_ROUTING_CACHE_TTL"), 86_400),
            routing_cache_cells=parse_int(env.get("DOORSTEP_ROUTING_CACHE_CELLS"), 2_000_000),
            detour_factor=parse_float(env.get("DOORSTEP_DETOUR_FACTOR"), 1.3),
            handover_s=parse_int(env.get("DOORSTEP_HANDOVER_S"), 0),
            geocoder=(env.get("DOORSTEP_GEOCODER") or "").strip().lower() or None,
            geocoder_url=env.get("DOORSTEP_GEOCODER_URL") or None,
            geocoder_api_key=env.get("DOORSTEP_GEOCODER_API_KEY") or None,
            geocoder_min_delay_s=parse_float(env.get("DOORSTEP_GEOCODER_MIN_DELAY"), 1.0),
            districts_file=Path(env["DOORSTEP_DISTRICTS_FILE"]) if env.get("DOORSTEP_DISTRICTS_FILE") else None,
            home_care_min_years=parse_int(env.get("DOORSTEP_HOME_CARE_MIN_YEARS"), 5),
            home_care_min_title=parse_title(env.get("DOORSTEP_HOME_CARE_MIN_TITLE"), "senior_nurse"),
            booking_lead_hours=parse_int(env.get("DOORSTEP_BOOKING_LEAD_HOURS"), 24),
            booking_horizon_days=parse_int(env.get("DOORSTEP_BOOKING_HORIZON_DAYS"), 30),
            service_hours=parse_hours(env.get("DOORSTEP_SERVICE_HOURS"), (time(8), time(18)),
                                      "DOORSTEP_SERVICE_HOURS"),
            max_open_care_orders=parse_int(env.get("DOORSTEP_MAX_OPEN_CARE_ORDERS"), 3),
            catalogue_cache_s=parse_float(env.get("DOORSTEP_CATALOGUE_CACHE_S"), 5.0),
            evv_radius_m=parse_int(env.get("DOORSTEP_EVV_RADIUS_M"), 100),
            evv_grace_minutes=parse_int(env.get("DOORSTEP_EVV_GRACE_MINUTES"), 30),
            cold_chain_excursion_minutes=parse_int(env.get("DOORSTEP_COLD_CHAIN_EXCURSION_MINUTES"), 10),
            files_url=env.get("DOORSTEP_FILES_URL") or None,
            s3_endpoint_url=env.get("DOORSTEP_S3_ENDPOINT_URL") or None,
            s3_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            s3_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            s3_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
            s3_session_token=env.get("AWS_SESSION_TOKEN") or None,
            s3_server_side_encryption=parse_sse(env.get("DOORSTEP_S3_SSE")),
            s3_addressing_style=parse_choice(env.get("DOORSTEP_S3_ADDRESSING_STYLE"), ("auto", "path", "virtual"),
                                             "DOORSTEP_S3_ADDRESSING_STYLE"),
            webhook_allow_private=parse_bool(env.get("DOORSTEP_WEBHOOK_ALLOW_PRIVATE")),
            cold_chain_max_minutes=parse_int(env.get("DOORSTEP_COLD_CHAIN_MAX_MINUTES"), 120),
            review_two_person=parse_bool(env.get("DOORSTEP_REVIEW_TWO_PERSON")),
            trail_retention_days=parse_int(env.get("DOORSTEP_TRAIL_RETENTION_DAYS"), 7),
            position_flag_km=parse_float(env.get("DOORSTEP_POSITION_FLAG_KM"), 100.0),
            late_after_minutes=parse_int(env.get("DOORSTEP_LATE_AFTER_MINUTES"), 15),
            live_eta_max_age_minutes=parse_int(env.get("DOORSTEP_LIVE_ETA_MAX_AGE_MINUTES"), 15),
            feed_stream_s=parse_float(env.get("DOORSTEP_FEED_STREAM_S"), 300.0),
            tile_url=parse_tile_url(env.get("DOORSTEP_TILE_URL")),
            tile_crs=parse_choice(env.get("DOORSTEP_TILE_CRS"), ("wgs84", "gcj02"), "DOORSTEP_TILE_CRS"),
        )

    def with_overrides(self, **overrides: object) -> "Settings":
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        extra = {k: v for k, v in overrides.items() if k not in self.__dataclass_fields__}
        return replace(self, **known, extra={**self.extra, **extra})


MIN_SECRET_BYTES = 32


def _secret_key(value: str | None) -> str | None:
    """SECRET_KEY as set, refused when too short to sign with: HS256 wants a key at least as long
    as its 32-byte hash (RFC 7518 3.2), and a short one is guessable offline from any token."""
    if value and len(value.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"SECRET_KEY: at least {MIN_SECRET_BYTES} bytes (this one has {len(value.encode())}); "
                         "make one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'")
    return value or None


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, so tokens survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
