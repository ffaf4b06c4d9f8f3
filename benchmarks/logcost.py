"""``python -m benchmarks logcost [--db postgres|sqlite] [--seconds S] [--rounds K]``: what the event
log costs ingestion.

Two ``parley serve`` on one fresh database: one as shipped, one with appending events switched
off (``benchmarks.nolog``: no event, no wake-up, no bus). wrk ingests through each in turn, the
same loads alternating for K rounds: conversations created, and turns in batches of 10, from 16
clients. The figure is the ratio of the medians, with the log over without.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

import httpx2 as httpx

from benchmarks.concurrency import run_wrk
from benchmarks.ingest import CREATE, TURNS, _token
from benchmarks.live import fresh_database
from benchmarks.servers import Server, parley, wrk_path


def _ids(server: Server, token: str) -> list[str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=30) as client:
        body = {"channel": "telephone", "direction": "inbound"}
        headers = {"Authorization": f"Bearer {token}"}
        return [
            client.post("/core/conversations", json=body, headers=headers).json()["id"] for _ in range(64)
        ]


def run_logcost(db: str, seconds: float, rounds: int, server_url: str) -> str:
    wrk = wrk_path()
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    nolog = [sys.executable, "-m", "benchmarks.nolog"]
    rates: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = fresh_database(db, folder, server_url, "parley_bench_logcost")
        token = _token(url)
        with (
            parley(url, folder / "rec", folder / "with.log") as shipped,
            parley(url, folder / "rec", folder / "without.log", command=nolog) as bare,
        ):
            ids = _ids(shipped, token)
            env = {"BENCH_IDS": ",".join(ids), "BENCH_THREADS": "2", "BENCH_BATCH": "10"}
            for number in range(rounds):
                sides = [("with the log", shipped), ("without", bare)]
                for label, server in sides if number % 2 == 0 else sides[::-1]:
                    base = f"http://127.0.0.1:{server.port}"
                    made = run_wrk(wrk, f"{base}/core/conversations", token, 16, seconds, CREATE)
                    rates.setdefault(("creates", label), []).append(made.requests_per_second)
                    turns = run_wrk(wrk, base, token, 16, seconds, TURNS, env)
                    rates.setdefault(("turns", label), []).append(turns.requests_per_second * 10)
    lines = [
        f"Ingestion with and without the event log on {db}, one process each, wrk 16 clients, "
        f"{rounds} rounds of {seconds:.0f} s alternating",
        "",
        "| load | with the log | without | with / without |",
        "| --- | --- | --- | --- |",
    ]
    for load, unit in (("creates", "conversations/s"), ("turns", "turns/s (batches of 10)")):
        on = statistics.median(rates[(load, "with the log")])
        off = statistics.median(rates[(load, "without")])
        lines.append(f"| {load} | {on:,.0f} {unit} | {off:,.0f} | {on / off:.2f} |")
    return "\n".join(lines)
