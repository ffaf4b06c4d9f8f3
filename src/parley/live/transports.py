"""The wires a live bus can run on (``bus.py``): PostgreSQL NOTIFY, Redis pub/sub, NATS.

Each holds its own connections, apart from the pool that requests use, and carries short text
payloads on one channel (``PARLEY_BUS_CHANNEL``). Reconnecting is the bus's business: a
transport raises when its connection is lost, and is opened again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import URL

# A bus that stops answering without closing the connection is given up on after this long.
SEND_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresTransport:
    """``NOTIFY`` on a connection of its own, outside every writer's transaction: a transaction
    that notifies takes a cluster-wide lock at commit, which would serialise all notifying
    writers (recall.ai traced outages under write load to it). ``LISTEN`` on another."""

    def __init__(self, url: URL, channel: str) -> None:
        self._url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._channel = channel
        self.name = f"PostgreSQL NOTIFY {url.host or 'localhost'}/{url.database} channel {channel}"
        self._listening: Any = None
        self._sending: Any = None

    async def open(self) -> None:
        import psycopg  # only PostgreSQL deployments have it (the postgres extra)
        from psycopg import sql

        timeout = CONNECT_TIMEOUT_SECONDS
        self._listening = await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=timeout
        )
        # Quoted: pg_notify's channel is case-sensitive, an unquoted LISTEN name is not.
        await self._listening.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        self._sending = await psycopg.AsyncConnection.connect(
            self._url, autocommit=True, connect_timeout=timeout
        )

    async def listen(self, deliver: Callable[[str], None]) -> None:
        async for notification in self._listening.notifies():
            deliver(notification.payload)

    async def send(self, payload: str) -> None:
        await asyncio.wait_for(
            self._sending.execute("SELECT pg_notify(%s, %s)", (self._channel, payload)), SEND_TIMEOUT_SECONDS
        )

    async def close(self) -> None:
        for connection in (self._listening, self._sending):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
        self._listening = self._sending = None


class RedisTransport:
    """Redis pub/sub (redis-py's asyncio client): a subscription connection and a publishing one."""

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._channel = channel
        self.name = f"{_without_password(url)} channel {channel}"
        self._client: Any = None
        self._pubsub: Any = None

    async def open(self) -> None:
        from redis import asyncio as redis

        # No read timeout: the subscription waits for messages as long as it takes; sends have
        # their own. Keepalive notices a peer that vanished.
        self._client = redis.Redis.from_url(
            self._url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_keepalive=True
        )
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(self._channel)

    async def listen(self, deliver: Callable[[str], None]) -> None:
        async for message in self._pubsub.listen():
            if message.get("type") == "message":
                deliver(message["data"].decode(errors="replace"))

    async def send(self, payload: str) -> None:
        await asyncio.wait_for(self._client.publish(self._channel, payload), SEND_TIMEOUT_SECONDS)

    async def close(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
        self._client = self._pubsub = None


class NatsTransport:
    """NATS core pub/sub (nats-py): at-most-once is all a wake-up needs, since the events are in
    the database; JetStream's persistence would keep what the log already keeps."""

    def __init__(self, url: str, channel: str) -> None:
        self._url = url
        self._subject = channel
        self.name = f"{_without_password(url)} subject {channel}"
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._deliver: Callable[[str], None] | None = None

    async def open(self) -> None:
        import nats

        self._lost = asyncio.Event()
        lost = self._lost

        async def closed() -> None:
            lost.set()

        async def quiet(_error: Exception) -> None:
            pass  # nats-py would log each one; the bus logs an outage once

        # The bus reconnects (and logs) itself; NATS's own reconnecting would buffer sends for
        # an outage and hide it. no_echo: this process's own wake-ups never come back to it.
        self._connection = await nats.connect(
            servers=[self._url],
            name="parley",
            allow_reconnect=False,
            # Unreachable: give up after two quick tries rather than nats-py's 60, 2 s apart.
            max_reconnect_attempts=1,
            reconnect_time_wait=0.1,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            ping_interval=10,
            max_outstanding_pings=2,
            no_echo=True,
            closed_cb=closed,
            disconnected_cb=closed,
            error_cb=quiet,
        )

        async def received(message: Any) -> None:
            if self._deliver is not None:  # before listen(): nobody to wake yet
                self._deliver(message.data.decode(errors="replace"))

        await self._connection.subscribe(self._subject, cb=received)

    async def listen(self, deliver: Callable[[str], None]) -> None:
        self._deliver = deliver
        await self._lost.wait()
        raise ConnectionError("the NATS connection was closed")

    async def send(self, payload: str) -> None:
        await self._connection.publish(self._subject, payload.encode())

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None
        self._deliver = None
