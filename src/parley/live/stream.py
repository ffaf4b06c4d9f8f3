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
        rows = queries.open_conversations(connection, access.visible, viewer.filters, SNAPSHOT_LIMIT)
        return position, {"conversations": [_present(viewer, row) for row in rows]}


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
) -> AsyncIterator[ServerSentEvent]:
    """The stream's messages. ``recheck`` re-authenticates the viewer (raises when the token was
    revoked or the membership removed); it runs at least every ``recheck_seconds``."""
    org_id = viewer.access.org_id
    feed = await hub.join(org_id)
    try:
        if after is None:
            position, state = await to_thread.run_sync(_snapshot, engine, viewer)
            yield ServerSentEvent(_data(state), event="snapshot", id=str(position))
        elif await to_thread.run_sync(_resumable, engine, org_id, after):
            position = after
        else:
            reason = "The events after this id are no longer kept; reload and start again."
            yield ServerSentEvent(_data({"reason": reason}), event="reset")
            return
        checked = time.monotonic()
        while True:
            items = await _next_items(hub, feed, viewer, position)
            if items:
                for event, row in await _visible(engine, viewer, items):
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
            async with feed.changed:
                if feed.position <= position:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(feed.changed.wait(), wait)
    finally:
        hub.leave(feed)


async def _next_items(
    hub: Hub, feed: Feed, viewer: Viewer, position: int
) -> list[tuple[Event, ConversationRow | None]]:
    items = feed.since(position)
    if items is None:  # further behind than the feed keeps: catch up from the log itself
        batch = await to_thread.run_sync(hub.read, feed.org_id, position, viewer.conversation_id)
        return [(e, batch.rows.get(e.conversation_id)) for e in batch.events]
    return items


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
    return [(event, row) for event, row in kept if row is None or event.conversation_id in matching]
