"""Reading the event log (written by ``ingest.events`` in each change's transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select

from parley.conversations.rows import LIST_COLUMNS, ConversationRow, c
from parley.conversations.visible import Visible
from parley.db import tables

_e = tables.events


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    conversation_id: int
    kind: str
    body: dict[str, Any]


def last_seq(connection: Connection, org_id: int) -> int:
    """The org's newest sequence number (0 before its first event)."""
    found = connection.execute(
        select(tables.event_counters.c.last_seq).where(tables.event_counters.c.org_id == org_id)
    ).scalar()
    return int(found or 0)


def oldest_seq(connection: Connection, org_id: int) -> int | None:
    found = connection.execute(select(func.min(_e.c.seq)).where(_e.c.org_id == org_id)).scalar()
    return int(found) if found is not None else None


def events_after(
    connection: Connection, org_id: int, after: int, limit: int, conversation_id: int | None = None
) -> list[Event]:
    """Events with ``seq > after``, oldest first. Seqs commit in order (see ``ingest.events``),
    so what is read here never has a gap that a later commit fills."""
    statement = select(_e.c.seq, _e.c.conversation_id, _e.c.kind, _e.c.body).where(
        _e.c.org_id == org_id, _e.c.seq > after
    )
    if conversation_id is not None:
        statement = statement.where(_e.c.conversation_id == conversation_id)
    rows = connection.execute(statement.order_by(_e.c.seq).limit(limit))
    return [Event(int(r.seq), int(r.conversation_id), str(r.kind), orjson.loads(r.body)) for r in rows]


def current_rows(connection: Connection, visible: Visible, ids: Sequence[int]) -> dict[int, ConversationRow]:
    """The conversations as they are now (deleted ones are absent)."""
    if not ids:
        return {}
    rows = connection.execute(visible.select(*LIST_COLUMNS).where(c.c.id.in_(sorted(set(ids)))))
    return {row.id: ConversationRow._make(row) for row in rows}


def prune(connection: Connection, older_than: datetime) -> int:
    """Drop events older than the retention window, org by org (each delete walks that org's
    (org_id, created_at) index)."""
    orgs = connection.execute(select(tables.orgs.c.id)).scalars().all()
    removed = 0
    for org_id in orgs:
        result = connection.execute(delete(_e).where(_e.c.org_id == org_id, _e.c.created_at < older_than))
        removed += result.rowcount or 0
    return removed


def in_window(connection: Connection, org_id: int, after: int) -> bool:
    """Whether resuming after ``after`` misses nothing: every later event is still kept."""
    newest = last_seq(connection, org_id)
    if after > newest:
        return False  # an id this log never gave (another database, or a restore)
    oldest = oldest_seq(connection, org_id)
    first_kept = oldest if oldest is not None else newest + 1
    return after >= first_kept - 1
