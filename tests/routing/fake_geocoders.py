"""Fake geocoding web services on a real local HTTP server, for tests at the HTTP boundary.

``FakeGeocoder`` answers Nominatim's ``GET /search?q=...&format=json`` (a JSON
array of places with string ``lat``/``lon``) and Baidu's ``GET /geocoder/v2/?address=...``
(``{"status": 0, "result": {"location": {"lng", "lat"}, ...}}``, in BD-09), from a
table of known lines. It records each request with its arrival time, and can be
told to fail (an HTTP status) or to stall (seconds before answering).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, str]
    at: float


@dataclass
class FakeGeocoder:
    """Known places by query text: ``places["Binjiang Dao 1"] = (lat, lon)`` in the provider's CRS."""

    places: dict[str, tuple[float, float]] = field(default_factory=dict)
    fail_with: int | None = None
    stall_s: float = 0.0
    requests: list[Request] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        self.requests.append(Request(path, query, time.monotonic()))
        if self.stall_s:
            time.sleep(self.stall_s)
        if self.fail_with:
            return self.fail_with, {"error": "unavailable"}
        if path == "/search":  # Nominatim
            point = self.places.get(query.get("q", ""))
            if point is None:
                return 200, []
            return 200, [{"place_id": 100149, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.",
                          "osm_type": "way", "osm_id": 1, "lat": f"{point[0]:.7f}", "lon": f"{point[1]:.7f}",
                          "display_name": query["q"], "class": "building", "type": "yes",
                          "importance": 0.5, "boundingbox": [str(point[0] - 1e-4), str(point[0] + 1e-4),
                                                             str(point[1] - 1e-4), str(point[1] + 1e-4)]}]
        if path == "/geocoder/v2/":  # Baidu
            if query.get("ak") != "test-ak":
                return 200, {"status": 200, "message": "APP不存在，AK有误请检查再重试"}
            point = self.places.get(query.get("address", ""))
            if point is None:
                return 200, {"status": 0, "result": []}
            return 200, {"status": 0, "result": {"location": {"lng": point[1], "lat": point[0]}, "precise": 1,
                                                 "confidence": 80, "comprehension": 100, "level": "门址"}}
        return 404, {"error": "no such path"}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a stalled answer is expected here, not news."""


def serve(fake: FakeGeocoder) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start ``fake`` on 127.0.0.1 on a free port; its ``url`` is set. Stop with ``server.shutdown()``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            status, body = fake.answer(parts.path, query)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:  # keep the test output quiet
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    return server, thread
