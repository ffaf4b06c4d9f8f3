"""One feed per org and process: it reads the org's new events once, for every viewer here.

Viewers wait on the feed (an asyncio condition), never on a database connection or a thread.
A feed reads when woken (a write in this process, or the bus from another process) and at least
every ``poll_seconds`` anyway (``PARLEY_LIVE_POLL_SECONDS``), so a lost wake-up costs latency, never an event. It keeps the last
``BUFFER`` events in memory; a viewer further behind reads its catch-up from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from anyio import to_thread
from sqlalchemy import Engine

from parley.conversations.rows import ConversationRow
from parley.conversations.visible import Visible
from parley.db.engine import read_connection
from parley.live.cancel import cancel_and_wait
from parley.live.log import Event, current_rows, events_after, last_seq

BUFFER = 5000
_READ_LIMIT = 1000
_log = logging.getLogger(__name__)


@dataclass(slots=True)
class Batch:
    """Events read together, with their conversations as they were read."""

    events: list[Event]
    rows: dict[int, ConversationRow]


@dataclass(slots=True)
class Feed:
    org_id: int
    position: int = 0  # the newest seq read
    recent: deque[tuple[Event, ConversationRow | None]] = field(default_factory=lambda: deque(maxlen=BUFFER))
    viewers: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    # Messages as sent, by (seq, field policy): viewers who may see the same fields get the same
    # bytes, built once rather than once each (``stream.py``). Bounded by clearing when full.
    rendered: dict[tuple[int, int], bytes] = field(default_factory=dict)
    _policies: dict[Hashable, int] = field(default_factory=dict)

    def policy(self, key: Hashable) -> int:
        """A small number for a field policy (what decides a message's bytes), the same for equal keys."""
        return self._policies.setdefault(key, len(self._policies))

    def since(self, after: int) -> list[tuple[Event, ConversationRow | None]] | None:
        """Buffered events after ``after``; None when the buffer no longer reaches back there."""
        if not self.recent or after >= self.position:
            return [] if after >= self.position else None
        if self.recent[0][0].seq > after + 1:
            return None
        return [item for item in self.recent if item[0].seq > after]


class Hub:
    """The feeds of one process. ``wake`` may be called from any thread."""

    def __init__(self, engine: Engine, poll_seconds: float = 1.0) -> None:
        self._engine = engine
        self._poll_seconds = poll_seconds
        self._feeds: dict[int, Feed] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Tells other processes (the bus); called on the event loop.
        self.on_publish: Callable[[int], None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def stop(self) -> None:
        await cancel_and_wait(feed.task for feed in self._feeds.values() if feed.task is not None)
        self._feeds.clear()

    def publish(self, org_id: int) -> None:
        """A write of this process committed events for ``org_id``: wake its feed here, and
        the other processes through the bus. Called from the writer's thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._published, org_id)

    def _published(self, org_id: int) -> None:
        self.wake_here(org_id)
        if self.on_publish is not None:
            self.on_publish(org_id)

    def wake(self, org_id: int) -> None:
        """Wake the org's feed from any thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.wake_here, org_id)

    def wake_here(self, org_id: int) -> None:
        """Wake the org's feed, on the event loop (the bus hands its wake-ups here)."""
        feed = self._feeds.get(org_id)
        if feed is not None:
            feed.wake.set()

    async def join(self, org_id: int) -> Feed:
        """The org's feed, started on first use; pair with ``leave``."""
        feed = self._feeds.get(org_id)
        if feed is None:
            feed = Feed(org_id)
            feed.position = await to_thread.run_sync(self._last_seq, org_id)
            feed = self._feeds.setdefault(org_id, feed)
        feed.viewers += 1
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(self._tail(feed), name=f"parley-live-{org_id}")
        return feed

    def leave(self, feed: Feed) -> None:
        feed.viewers -= 1
        if feed.viewers <= 0 and feed.task is not None:
            feed.task.cancel()
            self._feeds.pop(feed.org_id, None)

    def _last_seq(self, org_id: int) -> int:
        with read_connection(self._engine, org_id) as connection:
            return last_seq(connection, org_id)

    def read(self, org_id: int, after: int, conversation_id: int | None = None) -> Batch:
        """Events after ``after`` with their conversations now; runs in a worker thread."""
        visible = Visible(org_id, pending=True)
        with read_connection(self._engine, org_id) as connection:
            events = events_after(connection, org_id, after, _READ_LIMIT, conversation_id)
            rows = current_rows(connection, visible, [e.conversation_id for e in events])
        return Batch(events, rows)

    async def _tail(self, feed: Feed) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.wake.wait(), self._poll_seconds)
            feed.wake.clear()
            try:
                while True:
                    batch = await to_thread.run_sync(self.read, feed.org_id, feed.position)
                    if not batch.events:
                        break
                    for event in batch.events:
                        feed.recent.append((event, batch.rows.get(event.conversation_id)))
                    feed.position = batch.events[-1].seq
                    async with feed.changed:
                        feed.changed.notify_all()
            except Exception:  # the database is away: keep the viewers, try again at the next poll
                _log.exception("live feed of org %s could not read the event log", feed.org_id)
