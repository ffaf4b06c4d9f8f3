"""``python -m benchmarks viewers [--db sqlite|postgres] [--viewers 100 1000]``: a change's way to
many live viewers at once, and what an idle viewer costs the server.

One ``parley serve`` on a fresh database; N viewers (one asyncio client process, the harness)
stream ``/core/conversations/live``; then PATCHes, one at a time, and each latency runs from the
PATCH's answer to the event's arrival at every viewer. Memory: the server's resident set with the
viewers connected and idle, less before they connected, per viewer.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx2 as httpx
import orjson

from benchmarks.ingest import _token
from benchmarks.live import fresh_database
from benchmarks.servers import Server, parley

WRITES = 20


async def _view(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    ready: asyncio.Event,
    arrivals: dict[int, list[float]],
    counter: list[int],
    total: int,
) -> None:
    async with client.stream("GET", url, headers=headers) as response:
        async for line in response.aiter_lines():
            if line.startswith("event: snapshot"):
                counter[0] += 1
                if counter[0] == total:
                    ready.set()
            elif line.startswith("data:") and '"duration_seconds"' in line:
                changes = orjson.loads(line[5:]).get("changes", {})
                if "duration_seconds" in changes:
                    arrivals.setdefault(int(changes["duration_seconds"]), []).append(time.perf_counter())


async def _measure(server: Server, token: str, viewers: int) -> str:
    base = f"http://127.0.0.1:{server.port}"
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=viewers + 10, max_keepalive_connections=viewers + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(120.0), limits=limits) as client:
        made = (
            await client.post(
                f"{base}/core/conversations",
                json={"channel": "text", "direction": "inbound"},
                headers=headers,
            )
        ).json()
        before = server.memory()["VmRSS"]
        ready, arrivals, counter = asyncio.Event(), {}, [0]
        tasks = [
            asyncio.create_task(
                _view(client, f"{base}/core/conversations/live", headers, ready, arrivals, counter, viewers)
            )
            for _ in range(viewers)
        ]
        await asyncio.wait_for(ready.wait(), 120)
        await asyncio.sleep(2)
        idle = (server.memory()["VmRSS"] - before) / viewers
        sent: dict[int, float] = {}
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0)) as writer:
            for n in range(WRITES):
                await writer.patch(
                    f"{base}/core/conversations/{made['id']}", json={"duration_seconds": n}, headers=headers
                )
                sent[n] = time.perf_counter()
                await asyncio.sleep(0.25)
        await asyncio.sleep(2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted((at - sent[n]) * 1000 for n, times in arrivals.items() if n in sent for at in times)
    got = len(latencies)
    p99 = latencies[min(got - 1, int(got * 0.99))] if got else float("nan")
    median = statistics.median(latencies) if got else float("nan")
    return (
        f"| {viewers} viewers | {got:,}/{viewers * WRITES:,} deliveries | p50 {median:.1f} ms, p99 {p99:.1f} ms "
        f"| {idle / 1024:.1f} kB per idle viewer |"
    )


def run_viewers(db: str, counts: list[int], server_url: str) -> str:
    lines = [f"Live viewers on {db}, one `parley serve` process, {WRITES} writes each", ""]
    lines += [
        "| viewers | delivered | latency, write answered → event at viewer | memory |",
        "| --- | --- | --- | --- |",
    ]
    for count in counts:
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            url = fresh_database(db, folder, server_url, "parley_bench_viewers")
            token = _token(url)
            with parley(url, folder / "rec", folder / "server.log") as server:
                lines.append(asyncio.run(_measure(server, token, count)))
    return "\n".join(lines)
