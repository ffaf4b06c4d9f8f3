"""Sending a CSV export: on resources of its own, and never for longer than its client reads.

Everything an export holds is counted against a budget that requests never share:

* its database connection comes from a second engine whose pool has exactly one connection per
  export slot, so a download can wait on a client forever without a list request ever waiting
  for a connection;
* its producer thread (``read_ahead``) exists only while it holds a slot, and the hops that hand
  each chunk over run on a limiter of their own, outside anyio's request limiter
  (``PARLEY_THREADS``);
* a client that takes no chunk for the send timeout is dropped: the stream stops, the cursor and
  connection are closed on the producer's thread, and the slot is freed.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Final

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from parley.api.export_gate import ExportGate, ExportSlot
from parley.config import Settings
from parley.db.engine import build_export_engine

log = logging.getLogger(__name__)

_END: Final = object()


class ExportBudget:
    """The gate, the engine, the threads and the send timeout of every export of one app."""

    def __init__(self, gate: ExportGate, engine: Engine, send_timeout: float, *, owns_engine: bool) -> None:
        self.gate = gate
        self.engine = engine
        self.send_timeout = send_timeout
        self._owns_engine = owns_engine
        # Never waited on: the gate lets no more exports run than there are tokens, and each
        # export hands over one chunk at a time.
        self.threads = anyio.CapacityLimiter(gate.per_process)

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine) -> ExportBudget:
        gate = ExportGate(settings.exports_per_org, settings.exports_per_process)
        export_engine = build_export_engine(engine, settings.exports_per_process, settings.database_limits())
        return cls(
            gate,
            export_engine or engine,
            settings.export_send_timeout_seconds,
            owns_engine=export_engine is not None,
        )

    def dispose(self) -> None:
        """Close the export pool's connections (the engine reconnects if used again)."""
        if self._owns_engine:
            self.engine.dispose()


class _ClientStalled(Exception):
    pass


class ExportResponse(Response):
    """A streamed response that owns ``slot`` and gives it back however the stream ends:
    finished, client gone, client stalled, or an error while producing."""

    def __init__(
        self,
        chunks: Generator[bytes, None, None],
        slot: ExportSlot,
        budget: ExportBudget,
        *,
        media_type: str,
        headers: dict[str, str],
    ) -> None:
        self._chunks = chunks
        self._slot = slot
        self._budget = budget
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)
        self.sent_bytes = 0
        self._error: Exception | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._stream_then_stop, send, group.cancel_scope)
                await _disconnected(receive)
                group.cancel_scope.cancel()
            if self._error is not None:
                raise self._error  # as itself, not wrapped in the task group's ExceptionGroup
        finally:
            # Shielded: a cancelled request must still close its cursor and free its slot.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._chunks.close, limiter=self._budget.threads)
            # Only now: the connection is back in the export pool before another export may start.
            self._slot.release()

    async def _stream_then_stop(self, send: Send, scope: anyio.CancelScope) -> None:
        try:
            await self._stream(send)
        except _ClientStalled:
            # Returning with the response incomplete makes the server close the connection, so the
            # client sees a failed download rather than a short file that looks whole.
            log.warning(
                "export of org %s stopped: the client took no data for %s s (%d bytes sent)",
                self._slot.org_id,
                self._budget.send_timeout,
                self.sent_bytes,
            )
        except Exception as exc:
            self._error = exc
        finally:
            scope.cancel()

    async def _stream(self, send: Send) -> None:
        # The first chunk before the status: until then a failure (the database, the statement)
        # is raised and answered as an error, rather than cutting off a 200 after its headers.
        chunk = await self._next()
        await self._send(
            send, {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        while chunk is not _END:
            assert isinstance(chunk, bytes)
            await self._send(send, {"type": "http.response.body", "body": chunk, "more_body": True})
            self.sent_bytes += len(chunk)
            chunk = await self._next()
        await self._send(send, {"type": "http.response.body", "body": b"", "more_body": False})

    async def _next(self) -> object:
        return await anyio.to_thread.run_sync(next, self._chunks, _END, limiter=self._budget.threads)

    async def _send(self, send: Send, message: Message) -> None:
        # The server's send waits while its write buffer is full, i.e. while the client reads
        # nothing; only that wait is timed, not the database producing the next chunk.
        with anyio.move_on_after(self._budget.send_timeout) as waited:
            await send(message)
        if waited.cancelled_caught:
            raise _ClientStalled


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
