"""Waking the live feeds of every process sharing one PostgreSQL: ``NOTIFY`` after a write has
committed, ``LISTEN`` in each process.

The notification is sent outside the writer's transaction, from a thread of its own: a
transaction that has issued NOTIFY takes a cluster-wide lock at commit, which serialises every
notifying writer (recall.ai traced outages under write load to it). It carries only the org id:
the events themselves are always read from the log, so a lost notification costs at most the
feeds' poll interval, never an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from parley.live.hub import Hub

CHANNEL = "parley_events"
_RECONNECT_SECONDS = 2.0
_log = logging.getLogger(__name__)


class PostgresBus:
    def __init__(self, engine: Engine, hub: Hub, *, connect_timeout: float = 5.0) -> None:
        self._engine = engine
        self._hub = hub
        self._connect_timeout = max(2, math.ceil(connect_timeout))  # libpq takes whole seconds
        # Whether this process is listening now; readiness (/readyz) reports it.
        self.listening = False
        self._pending: set[int] = set()
        self._ready = threading.Condition()
        self._stopped = False
        self._sender = threading.Thread(target=self._send_forever, name="parley-live-notify", daemon=True)

    def start(self) -> None:
        self._sender.start()

    def stop(self) -> None:
        with self._ready:
            self._stopped = True
            self._ready.notify()
        self._sender.join(timeout=5)

    def publish(self, org_id: int) -> None:
        """Called by writes (any thread) once they have committed."""
        with self._ready:
            self._pending.add(org_id)
            self._ready.notify()

    def _send_forever(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._stopped:
                    self._ready.wait()
                if self._stopped:
                    return
                orgs, self._pending = self._pending, set()
            try:
                with self._engine.connect() as connection:
                    autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
                    for org_id in sorted(orgs):  # several writes to one org: one notification
                        autocommit.execute(
                            text("SELECT pg_notify(:channel, :org)"), {"channel": CHANNEL, "org": str(org_id)}
                        )
            except Exception:  # the feeds poll as well: a failed notification only delays them
                _log.warning("could not notify other processes of new live events", exc_info=True)

    async def listen(self) -> None:
        """Wake this process's feeds on every notification, reconnecting when the server drops."""
        import psycopg  # only PostgreSQL deployments have it (the postgres extra)

        url = make_url(self._engine.url).set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    url, autocommit=True, connect_timeout=self._connect_timeout
                ) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening = True
                    async for notification in connection.notifies():
                        with contextlib.suppress(ValueError):
                            self._hub.wake(int(notification.payload))
            except asyncio.CancelledError:
                raise
            except Exception:
                self.listening = False
                _log.warning("live notifications interrupted; reconnecting", exc_info=True)
                await asyncio.sleep(_RECONNECT_SECONDS)
            finally:
                self.listening = False
