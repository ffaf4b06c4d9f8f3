"""Waking the live feeds of every process that shares one database: a bare wake-up on a bus.

A write that committed events for an org tells the other processes "org N has new events";
each of them wakes its feed for N, which reads the events from the log. Only the org id goes on
the bus, never an event or a field of one: the log in the database stays the one source of
truth, so a lost, late or doubled wake-up costs at most the feeds' poll interval, never an event,
and nothing sensitive ever leaves the database.

The wire (``transports.py``) is PostgreSQL ``LISTEN/NOTIFY`` by default, Redis pub/sub or NATS
when ``PARLEY_BUS_URL`` says so. Whichever it is, a bus that is down breaks nothing: ``publish``
only notes the org in memory, the feeds keep polling, the outage is logged once at WARNING, and
the bus reconnects by itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import Engine

from parley.config import Settings

RECONNECT_SECONDS = 2.0
_log = logging.getLogger(__name__)


class Transport(Protocol):
    """One bus's connection: a subscription and a way to send on it."""

    name: str  # what the logs call it (no password)

    async def open(self) -> None:
        """Connect and subscribe; raises when the bus cannot be reached."""

    async def listen(self, deliver: Callable[[str], None]) -> None:
        """Hand every message to ``deliver`` until the connection is lost (then raise)."""

    async def send(self, payload: str) -> None: ...

    async def close(self) -> None:
        """Let go of the connection; never raises."""


class Bus:
    """Sends this process's wake-ups and hands the others' to ``wake``. Runs on the event loop;
    ``publish`` is called there too (``Hub`` calls it from its loop-side wake-up)."""

    def __init__(self, transport: Transport, wake: Callable[[int], None], poll_seconds: float) -> None:
        self._transport = transport
        self._wake = wake
        self._poll_seconds = poll_seconds
        # Every process hears its own messages too (NOTIFY, Redis): they are told apart by this,
        # since this process's own feeds were woken when the write committed.
        self._origin = secrets.token_hex(6)
        self._pending: set[int] = set()
        self._ready = asyncio.Event()
        self._healthy: bool | None = None  # None: not connected yet

    def publish(self, org_id: int) -> None:
        self._pending.add(org_id)
        self._ready.set()

    async def run(self) -> None:
        """Connected, sending and listening for as long as the app runs; reconnecting after a
        failure, every RECONNECT_SECONDS."""
        try:
            while True:
                try:
                    await self._transport.open()
                    self._up()
                    await self._serve()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._down(exc)
                await self._transport.close()
                await asyncio.sleep(RECONNECT_SECONDS)
        finally:
            await self._transport.close()

    async def _serve(self) -> None:
        """Send and listen until either fails."""
        sender = asyncio.create_task(self._send_forever())
        listener = asyncio.create_task(self._transport.listen(self._deliver))
        try:
            done, _ = await asyncio.wait((sender, listener), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, listener):
                task.cancel()
            # Their own endings are collected, not raised; this task's own cancellation, should it
            # come meanwhile, still is (suppressing around `await task` swallowed it, and the bus
            # then reconnected for ever instead of letting the app shut down).
            await asyncio.gather(sender, listener, return_exceptions=True)
        for task in done:
            task.result()  # raises the failure
        raise ConnectionError("the subscription ended")

    async def _send_forever(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            # Many writes to one org between two sends: one wake-up.
            orgs, self._pending = self._pending, set()
            for org_id in sorted(orgs):
                await self._transport.send(f"{org_id} {self._origin}")

    def _deliver(self, payload: str) -> None:
        org, _, origin = payload.partition(" ")
        if origin != self._origin and org.isdigit():
            self._wake(int(org))

    def _up(self) -> None:
        if self._healthy is False:
            _log.info("live bus %s is reachable again; other processes wake viewers at once", self.name)
        self._healthy = True

    def _down(self, exc: Exception) -> None:
        if self._healthy is not False:  # once per outage, not at every retry
            _log.warning(
                "live bus %s is unreachable (%s: %s); live viewers get changes from other processes "
                "within %s s (polling) until it is back; retrying every %s s",
                self.name,
                type(exc).__name__,
                exc,
                self._poll_seconds,
                RECONNECT_SECONDS,
            )
        else:
            _log.debug("live bus %s still unreachable: %s", self.name, exc)
        self._healthy = False

    @property
    def name(self) -> str:
        return self._transport.name

    @property
    def listening(self) -> bool:
        """Whether this process hears the others' wake-ups now; readiness (/readyz) reports it."""
        return self._healthy is True


def open_bus(settings: Settings, engine: Engine, wake: Callable[[int], None]) -> Bus | None:
    """The bus ``PARLEY_BUS_URL`` names; unset: NOTIFY on PostgreSQL, and none on SQLite, where
    the processes of one machine share a file and each one's own writes wake its feeds."""
    from parley.live import transports  # the client libraries load only when a bus is used

    transport: Transport
    url = settings.bus_url
    channel = settings.bus_channel
    if url:
        transport = (
            transports.RedisTransport(url, channel)
            if urlsplit(url).scheme in ("redis", "rediss")
            else transports.NatsTransport(url, channel)
        )
    elif engine.dialect.name == "postgresql":
        transport = transports.PostgresTransport(engine.url, channel)
    else:
        return None
    return Bus(transport, wake, settings.live_poll_seconds)
