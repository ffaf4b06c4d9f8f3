"""The conversation queries. Every one takes the org id: tenancy is a parameter, not an afterthought."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, select, tuple_

from parley.conversations.cursor import Position
from parley.conversations.enums import HIDDEN_STATUSES
from parley.conversations.filters import ConversationFilters
from parley.conversations.search import SearchTerms, search_condition
from parley.db import AnyRow, tables

c = tables.conversations
a = tables.agents

LIST_COLUMNS = (
    c.c.id,
    c.c.created_at,
    c.c.channel,
    c.c.direction,
    c.c.status,
    c.c.agent_id,
    c.c.agent_version,
    a.c.name.label("agent_name"),
    c.c.user_id,
    c.c.caller_name,
    c.c.agent_number,
    c.c.summary,
    c.c.duration_seconds,
    c.c.has_recording,
    c.c.participant_count,
    c.c.started_at,
    c.c.ended_at,
)


def filter_conditions(dialect: str, org_id: int, filters: ConversationFilters) -> list[ColumnElement[bool]]:
    """The WHERE clause for a filter set, always led by the org and the hidden statuses."""
    conditions: list[ColumnElement[bool]] = [
        c.c.org_id == org_id,
        c.c.status.not_in([s.value for s in HIDDEN_STATUSES]),
    ]
    if filters.agent_ids:
        conditions.append(c.c.agent_id.in_(filters.agent_ids))
    if filters.direction is not None:
        conditions.append(c.c.direction == filters.direction.value)
    if filters.statuses:
        conditions.append(c.c.status.in_([s.value for s in filters.statuses]))
    if filters.channels:
        conditions.append(c.c.channel.in_([ch.value for ch in filters.channels]))
    if filters.created_after is not None:
        conditions.append(c.c.created_at >= filters.created_after)
    if filters.created_before is not None:
        conditions.append(c.c.created_at < filters.created_before)
    if filters.min_duration is not None:
        conditions.append(c.c.duration_seconds >= filters.min_duration)
    if filters.max_duration is not None:
        conditions.append(c.c.duration_seconds <= filters.max_duration)
    if filters.user_id is not None:
        conditions.append(c.c.user_id == filters.user_id)
    if filters.has_recording is not None:
        conditions.append(c.c.has_recording.is_(filters.has_recording))
    if filters.q is not None:
        conditions.append(search_condition(dialect, org_id, SearchTerms.parse(filters.q)))
    return conditions


def _listing(dialect: str, org_id: int, filters: ConversationFilters, after: Position | None) -> Select[Any]:
    conditions = filter_conditions(dialect, org_id, filters)
    if after is not None:
        # A row-value comparison, which both databases turn into one index range; an OR chain would not.
        conditions.append(tuple_(c.c.created_at, c.c.id) < tuple_(after.created_at, after.id))
    return (
        select(*LIST_COLUMNS)
        .select_from(c.outerjoin(a, and_(a.c.org_id == c.c.org_id, a.c.id == c.c.agent_id)))
        .where(*conditions)
        .order_by(c.c.created_at.desc(), c.c.id.desc())
    )


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[AnyRow]
    next_position: Position | None


def list_conversations(
    connection: Connection, org_id: int, filters: ConversationFilters, after: Position | None, limit: int
) -> Page:
    """One page, newest first, starting after ``after``; ``next_position`` is None on the last page."""
    statement = _listing(connection.dialect.name, org_id, filters, after).limit(limit + 1)
    rows = list(connection.execute(statement))
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, Position(last.created_at, last.id))


def all_conversations(dialect: str, org_id: int, filters: ConversationFilters) -> Select[Any]:
    """Every matching row, newest first: for streaming through one server-side cursor."""
    return _listing(dialect, org_id, filters, None)


def stream_rows(connection: Connection, statement: Select[Any], batch_size: int = 2000) -> Iterator[AnyRow]:
    """Rows from one server-side cursor, ``batch_size`` at a time, in constant memory."""
    result = connection.execution_options(stream_results=True, yield_per=batch_size).execute(statement)
    yield from result


def get_conversation(connection: Connection, org_id: int, conversation_id: int) -> AnyRow | None:
    """One conversation of this org; None for a missing id, a foreign one or a pending web session."""
    statement = (
        select(*LIST_COLUMNS)
        .select_from(c.outerjoin(a, and_(a.c.org_id == c.c.org_id, a.c.id == c.c.agent_id)))
        .where(
            c.c.org_id == org_id,
            c.c.id == conversation_id,
            c.c.status.not_in([s.value for s in HIDDEN_STATUSES]),
        )
    )
    return connection.execute(statement).first()


def participants_by_conversation(
    connection: Connection, org_id: int, conversation_ids: Sequence[int]
) -> dict[int, list[AnyRow]]:
    found: dict[int, list[AnyRow]] = {}
    if not conversation_ids:
        return found
    p = tables.participants
    rows = connection.execute(
        select(p.c.conversation_id, p.c.address, p.c.role)
        .where(p.c.org_id == org_id, p.c.conversation_id.in_(conversation_ids))
        .order_by(p.c.conversation_id, p.c.address)
    )
    for row in rows:
        found.setdefault(row.conversation_id, []).append(row)
    return found


def transcript(connection: Connection, org_id: int, conversation_id: int) -> list[AnyRow]:
    t = tables.transcript_turns
    return list(
        connection.execute(
            select(t.c.seq, t.c.speaker, t.c.text, t.c.offset_ms)
            .where(t.c.org_id == org_id, t.c.conversation_id == conversation_id)
            .order_by(t.c.seq)
        )
    )


def recordings(connection: Connection, org_id: int, conversation_id: int) -> list[AnyRow]:
    r = tables.recordings
    return list(
        connection.execute(
            select(r.c.seq, r.c.blob_key, r.c.content_type, r.c.bytes, r.c.duration_seconds)
            .where(r.c.org_id == org_id, r.c.conversation_id == conversation_id)
            .order_by(r.c.seq)
        )
    )
