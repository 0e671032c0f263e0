"""Stand-ins for OSRM and Valhalla at the HTTP boundary: a real local server in a thread.

``EngineServer(answer)`` serves on 127.0.0.1 and records every request; the
``answer`` function turns a request into (status, JSON body). The answers
here replay recorded responses (``tests/data/routing/``), or compute
OSRM- and Valhalla-shaped tables from straight-line distances for tables
too big to record, refusing more locations than the real servers' defaults.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from routing.geo import haversine_m

DATA = Path(__file__).resolve().parents[1] / "data" / "routing"

# The stand-ins' road model: 1.4 × straight line, at 8 m/s. Not the geodesic
# model's 1.3 and 7 m/s, so a test can tell an engine's cell from a fallback's.
ROAD_FACTOR, ROAD_SPEED_M_S = 1.4, 8.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any

    @property
    def osrm_coordinates(self) -> list[tuple[float, float]]:
        """``(lat, lon)`` of an OSRM table request, from its ``lon,lat;...`` path."""
        pairs = self.path.rsplit("/", 1)[-1].split(";")
        return [(float(p.split(",")[1]), float(p.split(",")[0])) for p in pairs]

    @property
    def locations(self) -> int:
        """Locations in the request, as each engine counts them."""
        if self.method == "GET":
            return len(self.osrm_coordinates)
        return len(self.body["sources"]) + len(self.body["targets"])


Answer = Callable[[Request], tuple[int, Any]]


@dataclass
class EngineServer:
    answer: Answer
    requests: list[Request] = field(default_factory=list)

    def __enter__(self) -> Self:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, method: str) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                request = Request(method, parts.path,
                                  {k: v[0] for k, v in parse_qs(parts.query).items()}, body)
                owner.requests.append(request)
                status, doc = owner.answer(request)
                data = json.dumps(doc).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def do_GET(self) -> None:
                self._reply("GET")

            def do_POST(self) -> None:
                self._reply("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def cells(self) -> int:
        """Source × destination cells asked for so far."""
        total = 0
        for r in self.requests:
            if r.method == "GET":
                n = len(r.osrm_coordinates)
                total += len(_indices(r, "sources", n)) * len(_indices(r, "destinations", n))
            else:
                total += len(r.body["sources"]) * len(r.body["targets"])
        return total


def recorded(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def replay(name: str, *, profile: str | None = None, coordinates: list[tuple[float, float]] | None = None
           ) -> Answer:
    """Answer a recorded response, but 400 if the request is not the one it was recorded for."""
    def answer(request: Request) -> tuple[int, Any]:
        if request.method == "GET":
            wanted_path = f"/table/v1/{profile}/" if profile else "/table/v1/"
            if not request.path.startswith(wanted_path) or \
                    request.query.get("annotations") != "duration,distance":
                return 400, {"code": "InvalidUrl", "message": "unexpected request"}
            if coordinates is not None and request.osrm_coordinates != coordinates:
                return 400, {"code": "InvalidQuery", "message": "unexpected coordinates"}
        elif request.path != "/sources_to_targets" or (profile and request.body.get("costing") != profile):
            return 400, {"error_code": 100, "error": "unexpected request", "status_code": 400}
        elif coordinates is not None and \
                [(p["lat"], p["lon"]) for p in request.body["sources"]] != coordinates:
            return 400, {"error_code": 100, "error": "unexpected sources", "status_code": 400}
        return 200, recorded(name)
    return answer


def _indices(request: Request, name: str, n: int) -> list[int]:
    value = request.query.get(name)
    return list(range(n)) if value in (None, "all") else [int(i) for i in value.split(";")]


def _road(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    metres = ROAD_FACTOR * haversine_m(*a, *b)
    return round(metres / ROAD_SPEED_M_S, 1), round(metres, 1)


def osrm_like(max_locations: int = 100) -> Answer:
    """OSRM's table service over straight lines; 400 TooBig above ``max_locations``."""
    def answer(request: Request) -> tuple[int, Any]:
        coords = request.osrm_coordinates
        if len(coords) > max_locations:
            return 400, recorded("osrm_too_big.json")
        sources = _indices(request, "sources", len(coords))
        destinations = _indices(request, "destinations", len(coords))
        cells = [[_road(coords[i], coords[j]) for j in destinations] for i in sources]
        waypoint = [{"hint": "", "distance": 0.0, "name": "", "location": [c[1], c[0]]} for c in coords]
        return 200, {"code": "Ok", "durations": [[c[0] for c in row] for row in cells],
                     "distances": [[c[1] for c in row] for row in cells],
                     "sources": [waypoint[i] for i in sources],
                     "destinations": [waypoint[j] for j in destinations]}
    return answer


def valhalla_like(max_pairs: int = 2500) -> Answer:
    """Valhalla's sources_to_targets over straight lines, in km; 400 above ``max_pairs``."""
    def answer(request: Request) -> tuple[int, Any]:
        sources = [(p["lat"], p["lon"]) for p in request.body["sources"]]
        targets = [(p["lat"], p["lon"]) for p in request.body["targets"]]
        if len(sources) * len(targets) > max_pairs:
            return 400, {"error_code": 154, "error": "Exceeded max locations", "status_code": 400}
        rows = []
        for i, a in enumerate(sources):
            row = []
            for j, b in enumerate(targets):
                seconds, metres = _road(a, b)
                row.append({"distance": round(metres / 1000, 3), "time": round(seconds),
                            "to_index": j, "from_index": i})
            rows.append(row)
        return 200, {"sources_to_targets": rows, "units": "kilometers",
                     "sources": request.body["sources"], "targets": request.body["targets"]}
    return answer


def failing_first(answer: Answer, failures: int = 1, status: int = 503) -> Answer:
    """``status`` for the first ``failures`` requests, then ``answer``."""
    count = {"n": 0}

    def wrapped(request: Request) -> tuple[int, Any]:
        count["n"] += 1
        if count["n"] <= failures:
            return status, {"code": "Unavailable", "message": "try again"}
        return answer(request)
    return wrapped


def sleeping(answer: Answer, seconds: float) -> Answer:
    """``answer``, after ``seconds`` (longer than the client's timeout)."""
    def wrapped(request: Request) -> tuple[int, Any]:
        time.sleep(seconds)
        return answer(request)
    return wrapped
