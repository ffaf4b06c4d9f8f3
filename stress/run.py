"""One stress run: load for the whole time, faults injected at set points, checks at the end."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field

import httpx2 as httpx

from stress.checks import Listing, compare_listing, integrity, integrity_ok
from stress.deployment import Deployment
from stress.load import LIST, Ledger, Outcomes, reader, writer

READERS = 64
# After a fault ends (the database back, the server up again), answers may still fail for this
# long: the pool reconnecting, clients' retries draining.
SETTLE_SECONDS = 3.0


@dataclass
class Fault:
    name: str
    started: float
    ended: float = 0.0
    during: dict[str, int] = field(default_factory=dict)  # reader answers during the fault
    recovered_after: float = 0.0  # seconds from the fault's end to the first good answer


@dataclass
class Report:
    db: str
    seconds: float
    outcomes: Outcomes
    ledger: Ledger
    faults: list[Fault]
    listing: Listing | None = None
    integrity: dict[str, int | str] = field(default_factory=dict)
    restart_ok: bool = False

    def unexpected(self) -> dict[str, int]:
        """Answers other than 200/201 outside every fault window (must be none)."""
        windows = [(f.started, f.ended + f.recovered_after + SETTLE_SECONDS) for f in self.faults]
        found: dict[str, int] = {}
        for moment, who, status in self.outcomes.answers:
            if status in ("200", "201") or any(start <= moment <= end for start, end in windows):
                continue
            # 409 "still being processed": the key's claim outlived a write the fault cut short
            # (kept STALE_CLAIM, 5 minutes, when the failed write could not release it). The API
            # says so; the writer gives the step up. Counted in the summary, not an error.
            if who == "writer" and status == "409":
                continue
            key = f"{who} {status}"
            found[key] = found.get(key, 0) + 1
        return found

    def passed(self) -> bool:
        return bool(
            not self.unexpected()
            and self.listing is not None
            and not self.listing.lost
            and not self.listing.duplicated
            and self.listing.checksum_acknowledged == self.listing.checksum_listed
            and integrity_ok(self.integrity)
            and self.restart_ok
            and all(f.recovered_after >= 0 for f in self.faults)
        )


async def _first_good_answer(base_url: str, token: str, since: float) -> float:
    """Seconds from ``since`` until the list answers 200 again."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        while True:
            try:
                response = await client.get(LIST, headers={"Authorization": f"Bearer {token}"})
                if response.status_code == 200:
                    return time.monotonic() - since
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


def _during(outcomes: Outcomes, start: float, end: float) -> dict[str, int]:
    found: dict[str, int] = {}
    for moment, who, status in outcomes.answers:
        if who == "reader" and start <= moment <= end:
            found[status] = found.get(status, 0) + 1
    return found


async def _outage(site: Deployment, outcomes: Outcomes, gap: float) -> Fault:
    """PostgreSQL refuses connections, then accepts and says nothing, then is back."""
    assert site.proxy is not None
    fault = Fault("PostgreSQL refused, then silent, then back", time.monotonic())
    site.proxy.refuse()
    await asyncio.sleep(gap)
    site.proxy.blackhole()
    await asyncio.sleep(gap)
    site.proxy.pass_through()
    fault.ended = time.monotonic()
    fault.recovered_after = await _first_good_answer(site.base_url, site.read_token, fault.ended)
    fault.during = _during(outcomes, fault.started, fault.ended)
    return fault


async def _kill_and_restart(site: Deployment, outcomes: Outcomes, name: str) -> Fault:
    fault = Fault(name, time.monotonic())
    await asyncio.to_thread(site.kill)
    await asyncio.to_thread(site.restart)
    fault.ended = time.monotonic()
    fault.recovered_after = await _first_good_answer(site.base_url, site.read_token, fault.ended)
    fault.during = _during(outcomes, fault.started, fault.ended)
    return fault


def _start_export(site: Deployment) -> socket.socket:
    """An export under way: its headers and first bytes read, the rest left in flight."""
    client = socket.create_connection(("127.0.0.1", site.port), timeout=30)
    client.sendall(
        b"GET /core/conversations/export.csv HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer " + site.read_token.encode() + b"\r\n\r\n"
    )
    client.recv(4096)
    return client


async def run(site: Deployment, seconds: float) -> Report:
    outcomes, ledger, faults = Outcomes(), Ledger(), []
    site.start()
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=READERS + 8, max_keepalive_connections=READERS + 8)
    began = time.monotonic()
    async with httpx.AsyncClient(base_url=site.base_url, timeout=30, limits=limits) as client:
        tasks = [asyncio.create_task(reader(client, site.read_token, outcomes, stop)) for _ in range(READERS)]
        tasks.append(asyncio.create_task(writer(client, site.write_token, outcomes, ledger, stop)))

        async def at(fraction: float) -> None:
            await asyncio.sleep(max(0.0, began + seconds * fraction - time.monotonic()))

        if site.proxy is not None:
            await at(0.2)
            faults.append(await _outage(site, outcomes, gap=max(3.0, seconds * 0.06)))
        await at(0.45)
        faults.append(await _kill_and_restart(site, outcomes, "server SIGKILLed mid-ingestion"))
        await at(0.65)
        export = await asyncio.to_thread(_start_export, site)
        faults.append(await _kill_and_restart(site, outcomes, "server SIGKILLed mid-export"))
        export.close()
        await at(1.0)
        stop.set()
        await asyncio.gather(*tasks)
    report = Report(site.db, time.monotonic() - began, outcomes, ledger, faults)
    report.listing = compare_listing(site.base_url, site.read_token, ledger)
    site.stop()
    report.integrity = integrity(site.database_url, ledger)
    # Starts again on what the kills left, and serves.
    site.start()
    with httpx.Client(base_url=site.base_url, timeout=30) as http:
        report.restart_ok = (
            http.get(LIST, headers={"Authorization": f"Bearer {site.read_token}"}).status_code == 200
        )
    site.stop()
    return report
