"""Requests per second and tail latency under concurrent clients, measured by wrk in its own
process so the load generator never shares an interpreter with the server or the harness."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# wrk's Lua hooks: send the token, then print the summary as one JSON line.
LUA = r"""
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "socket_errors": %d, "non_2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True, slots=True)
class WrkRun:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def run_wrk(
    wrk: str,
    url: str,
    token: str,
    clients: int,
    seconds: float,
    requests_lua: str = "",
    env: dict[str, str] | None = None,
) -> WrkRun:
    """``requests_lua``: wrk Lua that shapes the requests (method, body, a ``request`` hook)."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "bench.lua"
        script.write_text(requests_lua + LUA)
        threads = max(1, min(clients, 2))
        completed = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{clients}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            env={**os.environ, **(env or {}), "BENCH_TOKEN": token},
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(x for x in completed.stdout.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return WrkRun(
        requests_per_second=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["socket_errors"] + data["non_2xx"],
    )


def median_run(runs: list[WrkRun]) -> WrkRun:
    return WrkRun(
        requests_per_second=statistics.median(r.requests_per_second for r in runs),
        p50_ms=statistics.median(r.p50_ms for r in runs),
        p99_ms=statistics.median(r.p99_ms for r in runs),
        errors=sum(r.errors for r in runs),
    )
