"""A viewer's stream: a snapshot, then every event after it, as Server-Sent Events.

Each message's ``id`` is the event's ``seq``; a client that reconnects with ``Last-Event-ID``
resumes right after it, from any process, as long as the event is inside the retention window
(otherwise it gets a ``reset`` event: reload, nothing was silently skipped). What a message shows
of a conversation and of the change goes through the field policy, like the list and the detail.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from anyio import to_thread
from sqlalchemy import Engine
from sse_starlette import ServerSentEvent

from parley.conversations import queries
from parley.conversations.filters import ConversationFilters
from parley.conversations.links import Links
from parley.conversations.policy import Access, Source
from parley.conversations.rows import ConversationRow
from parley.conversations.service import present_detail
from parley.db.engine import read_connection
from parley.errors import ParleyError
from parley.live.hub import Feed, Hub
from parley.live.log import Event, in_window, last_seq

SNAPSHOT_LIMIT = 1000
# A filtered stream tells of a conversation that changed and does not match its filters now:
# "remove it if you show it". Only the kinds that change what filters look at (status,
# duration, analysis, tags, recording) can make one leave; a conversation created outside the
# filters, or whose turns grew, was never shown and is not mentioned.
LEFT = "left"
RENDERED_LIMIT = 10_000
_CAN_LEAVE = frozenset({"status_changed", "updated", "recording_ready"})


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who watches what: the access to present with, the list filters, one conversation or all."""

    access: Access
    links: Links
    filters: ConversationFilters = field(default_factory=ConversationFilters)
    conversation_id: int | None = None


def _data(value: object) -> str:
    return orjson.dumps(value).decode()


def _present(viewer: Viewer, row: ConversationRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return viewer.access.present(Source(row, viewer.links, viewer.links.console))


def message(viewer: Viewer, event: Event, row: ConversationRow | None) -> ServerSentEvent:
    changes = {name: value for name, value in event.body.items() if viewer.access.shows(name)}
    body = {
        "conversation_id": str(event.conversation_id),
        "conversation": _present(viewer, row),
        "changes": changes,
    }
    return ServerSentEvent(_data(body), event=event.kind, id=str(event.seq))


def _snapshot(engine: Engine, viewer: Viewer) -> tuple[int, dict[str, Any]]:
    """The position first, then the state: every event up to it is in the state, and those
    after it are sent, so nothing falls between (one sent twice only sets what is already set)."""
    access = viewer.access
    with read_connection(engine, access.org_id) as connection:
        position = last_seq(connection, access.org_id)
        if viewer.conversation_id is not None:
            found = queries.get_conversation(connection, access.visible, viewer.conversation_id)
            detail = present_detail(connection, access, found, viewer.links) if found else None
            return position, {"conversation": detail}
        # One more than is sent, so a snapshot that leaves some out says so rather than pass for whole.
        rows = queries.open_conversations(connection, access.visible, viewer.filters, SNAPSHOT_LIMIT + 1)
        return position, {
            "conversations": [_present(viewer, row) for row in rows[:SNAPSHOT_LIMIT]],
            "complete": len(rows) <= SNAPSHOT_LIMIT,
        }


def _resumable(engine: Engine, org_id: int, after: int) -> bool:
    with read_connection(engine, org_id) as connection:
        return in_window(connection, org_id, after)


def _matching(engine: Engine, viewer: Viewer, ids: list[int]) -> set[int]:
    with read_connection(engine, viewer.access.org_id) as connection:
        return queries.matching_ids(connection, viewer.access.visible, viewer.filters, ids)


async def events(
    hub: Hub,
    engine: Engine,
    viewer: Viewer,
    after: int | None,
    recheck: Callable[[], Awaitable[None]],
    recheck_seconds: float,
) -> AsyncIterator[ServerSentEvent | bytes]:
    """The stream's messages. ``recheck`` re-authenticates the viewer (raises when the token was
    revoked or the membership removed); it runs at least every ``recheck_seconds``."""
    org_id = viewer.access.org_id
    feed = await hub.join(org_id)
    # Everything that decides a message's bytes besides the event and its row.
    policy = feed.policy((viewer.access.fields, viewer.links))
    try:
        if after is None:
            position, state = await to_thread.run_sync(_snapshot, engine, viewer)
            snapshot = ServerSentEvent(_data(state), event="snapshot", id=str(position))
            # Not kept in this frame for the stream's life: up to SNAPSHOT_LIMIT conversations.
            del state
            yield snapshot
            del snapshot
        elif await to_thread.run_sync(_resumable, engine, org_id, after):
            position = after
        else:
            reason = "The events after this id are no longer kept; reload and start again."
            yield ServerSentEvent(_data({"reason": reason}), event="reset")
            return
        checked = time.monotonic()
        while True:
            items, shared = await _next_items(hub, feed, viewer, position)
            if items:
                for event, row in await _visible(engine, viewer, items):
                    if shared and event.kind != LEFT:  # "left" is this viewer's filters' own
                        yield _rendered(feed, policy, viewer, event, row)
                    else:
                        yield message(viewer, event, row)
                position = items[-1][0].seq
                continue
            wait = recheck_seconds - (time.monotonic() - checked)
            if wait <= 0:
                try:
                    await recheck()
                except ParleyError as exc:
                    yield ServerSentEvent(_data({"reason": exc.detail}), event="closed")
                    return
                checked = time.monotonic()
                continue
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a task of its own, one
            # more object per idle viewer and one more task per viewer at every wake-up.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait), feed.changed:
                    if feed.position <= position:
                        await feed.changed.wait()
    finally:
        hub.leave(feed)


def _rendered(feed: Feed, policy: int, viewer: Viewer, event: Event, row: ConversationRow | None) -> bytes:
    """The message for an event of the feed's own buffer: every viewer of the feed with the same
    field policy gets the same event with the same row, so the bytes are built once for all."""
    key = (event.seq, policy)
    found = feed.rendered.get(key)
    if found is None:
        if len(feed.rendered) >= RENDERED_LIMIT:
            feed.rendered.clear()
        found = feed.rendered[key] = message(viewer, event, row).encode()
    return found


async def _next_items(
    hub: Hub, feed: Feed, viewer: Viewer, position: int
) -> tuple[list[tuple[Event, ConversationRow | None]], bool]:
    """The viewer's next events, and whether they are the feed's (shared by its viewers)."""
    items = feed.since(position)
    if items is None:  # further behind than the feed keeps: catch up from the log itself
        batch = await to_thread.run_sync(hub.read, feed.org_id, position, viewer.conversation_id)
        return [(e, batch.rows.get(e.conversation_id)) for e in batch.events], False
    return items, True


async def _visible(
    engine: Engine, viewer: Viewer, items: list[tuple[Event, ConversationRow | None]]
) -> list[tuple[Event, ConversationRow | None]]:
    """Of these events, those this viewer watches: its conversation, its filters, and never a
    pending web session's."""
    visible = viewer.access.visible
    kept = [
        (event, row)
        for event, row in items
        if (viewer.conversation_id is None or event.conversation_id == viewer.conversation_id)
        and (row is None or visible.admits(row.status))
    ]
    if viewer.conversation_id is not None or not viewer.filters.parameters():
        return kept
    ids = [event.conversation_id for event, row in kept if row is not None]
    matching = await to_thread.run_sync(_matching, engine, viewer, ids) if ids else set()
    shown: list[tuple[Event, ConversationRow | None]] = []
    for event, row in kept:
        if row is None or event.conversation_id in matching:
            shown.append((event, row))
        elif event.kind in _CAN_LEAVE:
            shown.append((Event(event.seq, event.conversation_id, LEFT, {}), None))
    return shown
