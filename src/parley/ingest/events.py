"""The event log: each change ingestion makes appends its events in the change's own transaction.

``seq`` is strictly increasing per org, and allocated from the org's ``event_counters`` row,
which the allocating transaction holds locked until it commits. A second writer of the same org
waits for that row, so transactions of one org commit in ``seq`` order: a reader that has seen
event N has seen every event before it, and "events after N" can never step past one that
commits a moment later. (Allocating from a sequence instead lets B take 6 and commit before A,
holding 5, does: a reader at 6 would then skip 5 for good.)

In a ``write_connection`` the events are written as the transaction's last statements, just
before its commit (``BEFORE_COMMIT``): the lock is then held for the commit alone, not for the
rest of the write (reading the detail back, recording the idempotency key, the audit row), which
is what made one org's creates queue behind each other.

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
from parley.db.engine import BEFORE_COMMIT, CHANGED_ORGS, WRITE_OPTION


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
) -> None:
    """Append ``(conversation_id, kind, body)`` events in the caller's transaction, in order: at
    its end in a ``write_connection``, at once in any other transaction."""
    if not events:
        return
    if connection.get_execution_options().get(WRITE_OPTION):
        pending = connection.info.get(_PENDING)
        if pending is None:
            pending = connection.info[_PENDING] = []
            connection.info.setdefault(BEFORE_COMMIT, []).append(_write_pending)
        pending.append((org_id, moment, list(events)))
        return
    _write(connection, org_id, moment, events)


_PENDING = "parley_pending_events"


def _write_pending(connection: Connection) -> None:
    pending: list[tuple[int, datetime, list[tuple[int, EventKind, Mapping[str, Any]]]]]
    pending = connection.info.pop(_PENDING, [])
    # One allocation per org, orgs in a fixed order: two transactions that both write to the
    # same two orgs take their counter locks in the same order, and cannot deadlock.
    for org_id in sorted({org for org, _, _ in pending}):
        mine = [(moment, event) for org, moment, events in pending if org == org_id for event in events]
        _write_rows(connection, org_id, mine)


def _write(
    connection: Connection,
    org_id: int,
    moment: datetime,
    events: list[tuple[int, EventKind, Mapping[str, Any]]],
) -> None:
    _write_rows(connection, org_id, [(moment, event) for event in events])


def _write_rows(
    connection: Connection,
    org_id: int,
    events: list[tuple[datetime, tuple[int, EventKind, Mapping[str, Any]]]],
) -> None:
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
        for n, (moment, (conversation_id, kind, body)) in enumerate(events)
    ]
    connection.execute(insert(tables.events), rows)
    connection.info.setdefault(CHANGED_ORGS, set()).add(org_id)  # wakes live viewers on commit
