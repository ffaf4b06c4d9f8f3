"""The event log: each change ingestion makes appends its events in the change's own transaction.

``seq`` is strictly increasing per org, and allocated from the org's ``event_counters`` row,
which the allocating transaction holds locked until it commits. A second writer of the same org
waits for that row, so transactions of one org commit in ``seq`` order: a reader that has seen
event N has seen every event before it, and "events after N" can never step past one that
commits a moment later. (Allocating from a sequence instead lets B take 6 and commit before A,
holding 5, does: a reader at 6 would then skip 5 for good.)

An event body is keyed by the field names of the field policy (``conversations/policy.py``), so
a stream shows each viewer exactly the fields that viewer may see.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, insert
from sqlalchemy.dialects import postgresql, sqlite

from parley.db import tables
from parley.db.engine import CHANGED_ORGS


class EventKind(StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    UPDATED = "updated"  # analysis, summary, duration or times set
    TURNS = "turns"  # turns appended, or partial ones replaced
    RECORDING_READY = "recording_ready"
    DELETED = "deleted"


def _allocate(connection: Connection, org_id: int, count: int) -> int:
    """Reserve ``count`` sequence numbers for the org; returns the last. Takes the org's counter
    row lock for the rest of the transaction."""
    counters = tables.event_counters
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(counters)
        .values(org_id=org_id, last_seq=count)
        .on_conflict_do_update(
            index_elements=[counters.c.org_id], set_={"last_seq": counters.c.last_seq + count}
        )
        .returning(counters.c.last_seq)
    )
    return int(connection.execute(statement).scalar_one())


def append_events(
    connection: Connection,
    org_id: int,
    moment: datetime,
    events: list[tuple[int, EventKind, Mapping[str, Any]]],
) -> list[int]:
    """Append ``(conversation_id, kind, body)`` events in the caller's transaction, in order;
    returns their sequence numbers."""
    if not events:
        return []
    last = _allocate(connection, org_id, len(events))
    first = last - len(events) + 1
    rows: list[dict[str, Any]] = [
        {
            "org_id": org_id,
            "seq": first + n,
            "conversation_id": conversation_id,
            "kind": kind.value,
            "body": orjson.dumps(dict(body)).decode(),
            "created_at": moment,
        }
        for n, (conversation_id, kind, body) in enumerate(events)
    ]
    connection.execute(insert(tables.events), rows)
    connection.info.setdefault(CHANGED_ORGS, set()).add(org_id)  # wakes live viewers on commit
    return list(range(first, last + 1))
