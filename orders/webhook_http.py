"""One webhook over HTTP: where it may go, how it is signed, one POST that follows no redirect.

A target must resolve only to public addresses (``ipaddress``'s ``is_global``:
no loopback, private, link-local, shared, multicast or reserved ranges) unless
``DOORSTEP_WEBHOOK_ALLOW_PRIVATE`` is set. The check runs at registration and
again before every attempt, and the connection goes to an address that passed
it (the name is resolved once per attempt), so a DNS answer that changes
between the check and the connection cannot point a delivery inward.
No Flask and no database here.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

TIMEOUT_S = 5.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Doorstep-Webhooks/1"


class TargetRefused(ValueError):
    """The URL is not one Doorstep will post to; the message says why (it names no secret)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


def check_target(url: str, *, allow_private: bool = False) -> Target:
    """Parse ``url`` and resolve its host; raise ``TargetRefused`` unless every address is public."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Must be an http or https URL.")
    if not parts.hostname:
        raise TargetRefused("Must name a host.")
    if parts.username or parts.password:
        raise TargetRefused("Must not carry credentials; subscribers verify the signature instead.")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, resolve(parts.hostname, port, allow_private))


def resolve(host: str, port: int, allow_private: bool) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise TargetRefused(f"The host {host!r} cannot be resolved.") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(f"The host {host!r} cannot be resolved.")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(f"The host {host!r} is on a private, loopback or otherwise non-public "
                                    "address; webhooks go to public addresses only.")
    return addresses


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the raw body with the subscriber's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to ``address`` while sending ``Host: host``."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to ``address``, verifying the certificate for ``host`` (SNI included)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_S) -> Outcome:
    """POST ``body`` once; any 2xx is success. A redirect is a failure, never followed."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error = "no address"
    for address in target.addresses:
        connection = connection_class(target.host, target.port, address, timeout)
        try:
            connection.request("POST", target.path, body=body, headers={
                "Content-Type": "application/json", "User-Agent": USER_AGENT, **headers})
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            if 200 <= response.status < 300:
                return Outcome(True, response.status)
            if 300 <= response.status < 400:
                return Outcome(False, response.status, f"HTTP {response.status} (redirects are not followed)")
            return Outcome(False, response.status, f"HTTP {response.status}")
        except (OSError, http.client.HTTPException) as exc:
            last_error = type(exc).__name__ if isinstance(exc, http.client.HTTPException) else _os_error(exc)
            if not isinstance(exc, ConnectionRefusedError):
                break  # a timeout on one address: do not spend another 5 s on the next
        finally:
            connection.close()
    return Outcome(False, None, last_error)


def _os_error(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error ({exc.reason or type(exc).__name__})"
    return exc.strerror or type(exc).__name__
