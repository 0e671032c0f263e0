"""What the service benchmarks share: wrk's report, and the CPU the server's processes spent.

Wall-clock rates swing with whatever else runs on a 2-core machine; the CPU seconds each
process spent per request swing far less, so the benchmarks print both.
"""
from __future__ import annotations

import os
from pathlib import Path

# Appended to each benchmark's Lua script: one line "BENCH {json}" with the counts and latencies.
# (%% because the scripts are filled with Python's % formatting.)
REPORT_LUA = r"""
function done(summary, latency, requests)
  io.write("BENCH ", string.format('{"requests": %%d, "seconds": %%.3f, "p50_ms": %%.2f, "p95_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f, "errors": %%d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status), "\n")
end
"""


def children(pid: int) -> list[int]:
    """A process's children (gunicorn's workers: the master only waits for them)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def named(command: str) -> list[int]:
    """Processes whose command name is ``command`` (e.g. every ``postgres`` backend)."""
    out = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == command:
                out.append(int(comm.parent.name))
        except OSError:
            continue
    return out


def cpu_seconds(pids: list[int | None]) -> float:
    """User + system CPU seconds of live processes (0 for any gone or unknown)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, TypeError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
