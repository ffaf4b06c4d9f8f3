"""``python -m benchmarks viewers [--db postgres|sqlite] [--bus notify redis nats] [--viewers 100 1000]``:
a turn's way to many live viewers of another server process, while ingestion runs flat out.

On PostgreSQL, for each bus, two ``parley serve`` processes share a fresh database (what
``parley serve --workers 2`` runs, but with a port each, so the viewers are known to be on the
other process than the writes): W takes the writes, V holds the viewers. On SQLite one process
does both, woken in-process. The viewers (one asyncio process on raw sockets, ``benchmarks.sse``)
stream org "live"; wrk ingests turns into org "load" through W, in batches of 10 from 16 clients,
as fast as it answers. Each round and bus, per viewer count:

- memory: V's resident set with the viewers connected and idle, less before, per viewer (the
  first round only: later ones reuse what the allocator kept from it, and read low);
- latency: a probe turn POSTed to W every 0.25 s, from the POST's answer to its arrival at each
  viewer, first with ingestion idle, then during it (and W's ingestion rate meanwhile);
- fan-out: probes POSTed back to back, messages delivered per second by V.

Buses run side by side (all pairs up at once) and are measured in turn, two rounds in opposite
orders, so drift on a shared machine touches each alike.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx

from benchmarks.concurrency import WrkRun, run_wrk
from benchmarks.ingest import TURNS
from benchmarks.live import fresh_database
from benchmarks.servers import Server, parley, wrk_path
from benchmarks.sse import Viewers, probe_text
from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.db.engine import build_engine
from parley.db.migrate import upgrade

PROBES = 16
GAP_SECONDS = 0.25
BURST = 30
BUS_URLS = {"notify": "", "redis": "redis://127.0.0.1:6379/0", "nats": "nats://127.0.0.1:4222"}


@dataclass(frozen=True, slots=True)
class Tokens:
    live: str  # reads (with sensitive fields: the probes' text) and writes the watched org
    load: str  # writes the ingested org


@dataclass
class Pair:
    bus: str
    writer: Server
    viewer: Server
    probe_id: str = ""
    load_ids: list[str] = field(default_factory=list)
    next_probe: int = 0


@dataclass
class Figures:
    idle: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    expected_idle: int = 0
    expected_busy: int = 0
    ingest: list[float] = field(default_factory=list)
    fanout: list[float] = field(default_factory=list)
    memory: list[float] = field(default_factory=list)


def _tokens(url: str) -> Tokens:
    engine = build_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        live = service.create_org(connection, "live")
        load = service.create_org(connection, "load")
        every = frozenset({Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE})
        tokens = Tokens(
            service.create_token(connection, TokenKind.API_KEY, every, org_id=live.id),
            service.create_token(connection, TokenKind.API_KEY, every, org_id=load.id),
        )
    engine.dispose()
    return tokens


def _prepare(pair: Pair, tokens: Tokens) -> None:
    base = f"http://127.0.0.1:{pair.writer.port}"
    body = {"channel": "telephone", "direction": "inbound", "status": "in_progress"}
    with httpx.Client(base_url=base, timeout=30) as client:
        made = client.post("/core/conversations", json=body, headers=_auth(tokens.live))
        pair.probe_id = made.json()["id"]
        pair.load_ids = [
            client.post("/core/conversations", json=body, headers=_auth(tokens.load)).json()["id"]
            for _ in range(64)
        ]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _probe(client: httpx.AsyncClient, pair: Pair, token: str, sent: dict[int, float]) -> None:
    n = pair.next_probe
    pair.next_probe += 1
    turn = {"seq": n, "speaker": "agent", "text": probe_text(n)}
    response = await client.post(
        f"/core/conversations/{pair.probe_id}/turns", json={"turns": [turn]}, headers=_auth(token)
    )
    if response.status_code != 200:  # counted as missing deliveries, and said
        print(f"probe {n} on {pair.bus}: {response.status_code} {response.text[:300]}", file=sys.stderr)
        return
    sent[n] = time.perf_counter()


async def _latencies(viewers: Viewers, pair: Pair, token: str, count: int) -> tuple[list[float], int]:
    """``count`` probes GAP_SECONDS apart; every delivery's latency in ms, and how many were due."""
    viewers.clear()
    sent: dict[int, float] = {}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pair.writer.port}", timeout=30) as client:
        for _ in range(count):
            await _probe(client, pair, token, sent)
            await asyncio.sleep(GAP_SECONDS)
    await _settle(viewers, sent, viewers.count)
    found = [(at - sent[n]) * 1000 for n, times in viewers.arrivals.items() if n in sent for at in times]
    return found, count * viewers.count


async def _settle(viewers: Viewers, sent: dict[int, float], count: int, limit: float = 20.0) -> None:
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        if all(len(viewers.arrivals.get(n, ())) >= count for n in sent):
            return
        await asyncio.sleep(0.05)


async def _fanout(viewers: Viewers, pair: Pair, token: str) -> float:
    """Messages per second V delivered while probes came back to back."""
    viewers.clear()
    sent: dict[int, float] = {}
    began = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{pair.writer.port}", timeout=30) as client:
        for _ in range(BURST):
            await _probe(client, pair, token, sent)
    await _settle(viewers, sent, viewers.count)
    times = [at for n, found in viewers.arrivals.items() if n in sent for at in found]
    return len(times) / (max(times) - began) if times else 0.0


async def _round(pair: Pair, tokens: Tokens, count: int, wrk: str, figures: Figures, first: bool) -> None:
    before = pair.viewer.memory()["VmRSS"]
    viewers = Viewers(pair.viewer.port, "/core/conversations/live", tokens.live, count)
    await viewers.open()
    try:
        await asyncio.sleep(2)
        if first:  # later rounds reuse what the allocator kept from the first, and read low
            figures.memory.append((pair.viewer.memory()["VmRSS"] - before) / count)
        idle, due = await _latencies(viewers, pair, tokens.live, PROBES)
        figures.idle += idle
        figures.expected_idle += due
        ingest: list[WrkRun] = []
        env = {"BENCH_IDS": ",".join(pair.load_ids), "BENCH_THREADS": "2", "BENCH_BATCH": "10"}
        seconds = PROBES * GAP_SECONDS + 3
        base = f"http://127.0.0.1:{pair.writer.port}"
        load = threading.Thread(
            target=lambda: ingest.append(run_wrk(wrk, base, tokens.load, 16, seconds, TURNS, env))
        )
        load.start()
        await asyncio.sleep(1.0)
        busy, due = await _latencies(viewers, pair, tokens.live, PROBES)
        figures.busy += busy
        figures.expected_busy += due
        await asyncio.to_thread(load.join)
        figures.ingest.append(ingest[0].requests_per_second * 10 if ingest else 0.0)
        figures.fanout.append(await _fanout(viewers, pair, tokens.live))
    finally:
        await viewers.close()
    await asyncio.sleep(1)  # the server lets go of the streams before the next round measures


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


@contextmanager
def _pairs(db: str, url: str, folder: Path, buses: list[str]) -> Iterator[list[Pair]]:
    with ExitStack() as stack:
        pairs = []
        for bus in buses:
            settings = {
                "PARLEY_BUS_URL": BUS_URLS[bus],
                "PARLEY_BUS_CHANNEL": f"bench_{secrets.token_hex(4)}",
            }
            writer = stack.enter_context(
                parley(url, folder / "rec", folder / f"{bus}-w.log", settings=settings)
            )
            viewer = (
                stack.enter_context(parley(url, folder / "rec", folder / f"{bus}-v.log", settings=settings))
                if db == "postgres"
                else writer
            )
            pairs.append(Pair(bus, writer, viewer))
        yield pairs


def run_viewers(db: str, counts: list[int], server_url: str, buses: list[str], rounds: int = 2) -> str:
    wrk = wrk_path()
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if db == "sqlite":
        buses = ["in-process"]
        BUS_URLS["in-process"] = ""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = fresh_database(db, folder, server_url, "parley_bench_viewers")
        tokens = _tokens(url)
        figures = {(bus, count): Figures() for bus in buses for count in counts}
        with _pairs(db, url, folder, buses) as pairs:
            for pair in pairs:
                _prepare(pair, tokens)
            try:
                for number in range(rounds):
                    order = pairs if number % 2 == 0 else pairs[::-1]
                    for count in counts:
                        for pair in order:
                            asyncio.run(
                                _round(pair, tokens, count, wrk, figures[(pair.bus, count)], number == 0)
                            )
            except Exception:
                for log in sorted(folder.glob("*.log")):  # the servers' side of what went wrong
                    print(f"== {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
                raise
    return _report(db, counts, buses, rounds, figures)


def _report(
    db: str, counts: list[int], buses: list[str], rounds: int, figures: dict[tuple[str, int], Figures]
) -> str:
    where = "two `parley serve` processes, viewers on the other one" if db == "postgres" else "one process"
    lines = [
        f"Live viewers on {db} ({where}); {rounds} rounds, {PROBES} probes a round and condition",
        "",
        "| bus | viewers | ingestion idle: p50 / p99 | during ingestion: p50 / p99 | p99 vs first bus | "
        "ingestion meanwhile | fan-out | memory per idle viewer |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for count in counts:
        first = _pct(figures[(buses[0], count)].busy, 0.99)
        for bus in buses:
            f = figures[(bus, count)]
            lost = f.expected_busy - len(f.busy) + f.expected_idle - len(f.idle)
            lines.append(
                f"| {bus} | {count:,} | {statistics.median(f.idle) if f.idle else float('nan'):.1f} / "
                f"{_pct(f.idle, 0.99):.1f} ms | {statistics.median(f.busy) if f.busy else float('nan'):.1f} / "
                f"{_pct(f.busy, 0.99):.1f} ms | {_pct(f.busy, 0.99) / first:.2f}x | "
                f"{statistics.median(f.ingest):,.0f} turns/s | {statistics.median(f.fanout):,.0f} msg/s | "
                f"{statistics.median(f.memory) / 1024:.1f} kB |"
                + (f" {lost} deliveries missing" if lost else "")
            )
    return "\n".join(lines)
