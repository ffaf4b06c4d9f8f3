"""The conversation queries. Each takes the ``Visible`` set it reads from: tenancy and the hidden
statuses come with it, never written by hand here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, exists, func, select, tuple_

from parley.conversations import search
from parley.conversations.cursor import Position
from parley.conversations.enums import FINISHED_STATUSES
from parley.conversations.filters import ConversationFilters
from parley.conversations.rows import (
    AFTER_CREATED_AT,
    AFTER_ID,
    DETAIL_COLUMNS,
    LIST_COLUMNS,
    PAGE_SIZE,
    ConversationRow,
    DetailRow,
    c,
)
from parley.conversations.visible import Visible
from parley.db import AnyRow, tables


def filter_conditions(dialect: str, filters: ConversationFilters) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a filter set, but for ``q``, which each statement applies in
    its own way (see ``search``)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.agent_ids:
        conditions.append(c.c.agent_id.in_(filters.agent_ids))
    if filters.agent_version is not None:
        conditions.append(c.c.agent_version == filters.agent_version)
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
    # SQLite, without statistics, prefers the duration index for any duration range and then
    # sorts every row in the range; walking the time index and testing each row stops after one
    # page. "+ 0" keeps the column out of index selection there.
    duration = c.c.duration_seconds + 0 if dialect == "sqlite" else c.c.duration_seconds
    if filters.min_duration is not None:
        conditions.append(duration >= filters.min_duration)
    if filters.max_duration is not None:
        conditions.append(duration <= filters.max_duration)
    if filters.user_id is not None:
        conditions.append(c.c.user_id == filters.user_id)
    if filters.has_recording is not None:
        conditions.append(c.c.has_recording.is_(filters.has_recording))
    if filters.sentiments:
        conditions.append(c.c.sentiment.in_([s.value for s in filters.sentiments]))
    if filters.successful is not None:
        conditions.append(c.c.successful.is_(filters.successful))
    if filters.ended_reason is not None:
        conditions.append(c.c.ended_reason == filters.ended_reason)
    tags = tables.conversation_tags
    for tag in filters.tags:  # every one of them
        conditions.append(
            exists().where(tags.c.org_id == c.c.org_id, tags.c.conversation_id == c.c.id, tags.c.tag == tag)
        )
    return conditions


def all_conversations(dialect: str, visible: Visible, filters: ConversationFilters) -> Select[Any]:
    """Every matching row, newest first: for streaming through one server-side cursor."""
    statement = visible.select(*LIST_COLUMNS).where(*filter_conditions(dialect, filters))
    if filters.q is not None:
        statement = statement.where(search.matching(dialect, visible, filters.q))
    return statement.order_by(c.c.created_at.desc(), c.c.id.desc())


def count_conversations(
    connection: Connection, visible: Visible, filters: ConversationFilters, cap: int
) -> int:
    """How many rows match, counting no further than ``cap``: the inner LIMIT lets both databases
    stop after ``cap`` rows, so a count over a million-row org costs what ``cap`` rows cost."""
    dialect = connection.dialect.name
    matching = (
        all_conversations(dialect, visible, filters).with_only_columns(c.c.id).order_by(None).limit(cap)
    )
    return int(connection.execute(select(func.count()).select_from(matching.subquery())).scalar_one())


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[ConversationRow]
    next_position: Position | None


# A built statement holds its filter values, so a cache of them is bounded by memory only if
# each entry is small: a thousand distinct lists of 2,000 agent ids held 180 MB. Filter sets with
# more values than this are built for each request (building costs about what running does, and
# such a list is rare), so at most 1,024 small entries stay.
_CACHED_VALUES = 32


def _small(filters: ConversationFilters) -> bool:
    return len(filters.agent_ids) + len(filters.tags) <= _CACHED_VALUES


def _page_statement(
    dialect: str, visible: Visible, filters: ConversationFilters, keyset: bool
) -> Select[Any]:
    if _small(filters):
        return _cached_page_statement(dialect, visible, filters, keyset)
    return _build_page_statement(dialect, visible, filters, keyset)


def _search_statements(
    dialect: str, visible: Visible, filters: ConversationFilters, keyset: bool, index_first: bool
) -> tuple[Select[Any], ...]:
    if _small(filters):
        return _cached_search_statements(dialect, visible, filters, keyset, index_first)
    return _build_search_statements(dialect, visible, filters, keyset, index_first)


def _build_page_statement(
    dialect: str, visible: Visible, filters: ConversationFilters, keyset: bool
) -> Select[Any]:
    """The page query of one org and filter set, built once: the cursor position and the page
    size are parameters. Building the statement took as long as running it."""
    statement = all_conversations(dialect, visible, filters)
    if keyset:
        # A row-value comparison, which both databases turn into one index range; an OR chain would not.
        statement = statement.where(tuple_(c.c.created_at, c.c.id) < tuple_(AFTER_CREATED_AT, AFTER_ID))
    return statement.limit(PAGE_SIZE)


def _build_search_statements(
    dialect: str, visible: Visible, filters: ConversationFilters, keyset: bool, index_first: bool
) -> tuple[Select[Any], ...]:
    """As ``_page_statement``, for a search: building two of them cost more than running them."""
    assert filters.q is not None
    conditions = filter_conditions(dialect, filters)
    return search.search_statements(
        dialect, visible, filters.q, conditions, keyset=keyset, index_first=index_first
    )


_cached_page_statement = lru_cache(maxsize=1024)(_build_page_statement)
_cached_search_statements = lru_cache(maxsize=1024)(_build_search_statements)


def list_conversations(
    connection: Connection, visible: Visible, filters: ConversationFilters, after: Position | None, limit: int
) -> Page:
    """One page, newest first, starting after ``after``; ``next_position`` is None on the last page."""
    params: dict[str, Any] = {"page_size": limit + 1}
    dialect = connection.dialect.name
    if filters.q is None:
        if after is not None:
            params.update(after_created_at=after.created_at, after_id=after.id)
        statement = _page_statement(dialect, visible, filters, after is not None)
        rows = [ConversationRow._make(row) for row in connection.execute(statement, params)]
    else:
        if after is not None:
            params["after_id"] = after.id
        index_first = dialect == "postgresql" and not search.common_words(
            connection, filters.q, visible.org_id
        )
        rows = _search_page(
            connection, _search_statements(dialect, visible, filters, after is not None, index_first), params
        )
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, Position(last.created_at, last.id))


def _search_page(
    connection: Connection, statements: Sequence[Select[Any]], params: dict[str, Any]
) -> list[ConversationRow]:
    """The newest ``page_size`` rows of what the statements (one per text source) found.

    Conversation ids grow with time, so the search tables, keyed by conversation id, list
    matches in the page's order: each statement walks its index downwards from the cursor and
    stops after a page. (Filtering the list by ``id IN (all matches)`` first collected every
    match: 300 ms for a common word over a million rows, and a scan of the whole org for a word
    matching nothing.)"""
    found: dict[int, ConversationRow] = {}
    for statement in statements:
        for row in connection.execute(statement, params):
            found[row.id] = ConversationRow._make(row)
    return [found[key] for key in sorted(found, reverse=True)[: params["page_size"]]]


def get_conversation(connection: Connection, visible: Visible, conversation_id: int) -> DetailRow | None:
    """One visible conversation; None for a missing id, a foreign one or a pending web session."""
    row = connection.execute(visible.select(*DETAIL_COLUMNS).where(c.c.id == conversation_id)).first()
    if row is None:
        return None
    *listed, started_at, ended_at = row
    return DetailRow(ConversationRow._make(listed), started_at, ended_at)


def holding_org(connection: Connection, visible_sets: Sequence[Visible], conversation_id: int) -> int | None:
    """Which of these orgs' visible sets holds this conversation (a shared link carries no org)."""
    for visible in visible_sets:
        found = connection.execute(select(c.c.id).where(visible.where, c.c.id == conversation_id))
        if found.first() is not None:
            return visible.org_id
    return None


_p = tables.participants


@lru_cache(maxsize=1024)
def _participants_statement(visible: Visible) -> Select[Any]:
    return (
        select(_p.c.conversation_id, _p.c.address, _p.c.role)
        .where(visible.owns(_p), _p.c.conversation_id.in_(bindparam("conversation_ids", expanding=True)))
        .order_by(_p.c.conversation_id, _p.c.address)
    )


def participants_by_conversation(
    connection: Connection, visible: Visible, conversation_ids: Sequence[int]
) -> dict[int, list[AnyRow]]:
    """The email participants of these conversations (read from the visible set's rows)."""
    found: dict[int, list[AnyRow]] = {}
    if not conversation_ids:
        return found
    for row in connection.execute(
        _participants_statement(visible), {"conversation_ids": list(conversation_ids)}
    ):
        found.setdefault(row.conversation_id, []).append(row)
    return found


def transcript(connection: Connection, visible: Visible, conversation_id: int) -> list[AnyRow]:
    t = tables.transcript_turns
    return list(
        connection.execute(
            select(t.c.seq, t.c.speaker, t.c.text, t.c.offset_ms, t.c.final)
            .where(visible.owns(t), t.c.conversation_id == conversation_id)
            .order_by(t.c.seq)
        )
    )


def recordings(connection: Connection, visible: Visible, conversation_id: int) -> list[AnyRow]:
    r = tables.recordings
    return list(
        connection.execute(
            select(r.c.seq, r.c.blob_key, r.c.content_type, r.c.bytes, r.c.duration_seconds)
            .where(visible.owns(r), r.c.conversation_id == conversation_id)
            .order_by(r.c.seq)
        )
    )


def tags(connection: Connection, visible: Visible, conversation_id: int) -> list[str]:
    g = tables.conversation_tags
    return list(
        connection.execute(
            select(g.c.tag).where(visible.owns(g), g.c.conversation_id == conversation_id).order_by(g.c.tag)
        ).scalars()
    )


def matching_ids(
    connection: Connection, visible: Visible, filters: ConversationFilters, ids: Sequence[int]
) -> set[int]:
    """Which of these conversations pass the filters now (live streams filter events by it)."""
    if not ids:
        return set()
    dialect = connection.dialect.name
    statement = (
        all_conversations(dialect, visible, filters)
        .with_only_columns(c.c.id)
        .where(c.c.id.in_(sorted(set(ids))))
    )
    return set(connection.execute(statement.order_by(None)).scalars())


def open_conversations(
    connection: Connection, visible: Visible, filters: ConversationFilters, limit: int
) -> list[ConversationRow]:
    """The newest conversations not yet in a final state (a live stream's snapshot)."""
    statement = all_conversations(connection.dialect.name, visible, filters).where(
        c.c.status.not_in(sorted(s.value for s in FINISHED_STATUSES))
    )
    return [ConversationRow._make(row) for row in connection.execute(statement.limit(limit))]
