"""The conversation queries. Every one takes the org id: tenancy is a parameter, not an afterthought."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    TextClause,
    and_,
    bindparam,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Join

from parley.conversations.cursor import Position
from parley.conversations.enums import HIDDEN_STATUSES
from parley.conversations.filters import ConversationFilters
from parley.conversations.search import SearchTerms, TextSource, search_condition, text_sources
from parley.db import AnyRow, tables

c = tables.conversations
a = tables.agents
# A conversation's agent (outer join: some conversations have none).
_AGENT_OF = and_(a.c.org_id == c.c.org_id, a.c.id == c.c.agent_id)

# What a list page shows; the detail adds DETAIL_COLUMNS. Every column read is a value
# converted for every row, so the list reads no more than it shows.
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
)
DETAIL_COLUMNS = (*LIST_COLUMNS, c.c.started_at, c.c.ended_at)


class ConversationRow(NamedTuple):
    """A row of LIST_COLUMNS, in their order. Reading a field of SQLAlchemy's Row by name took
    about 1 µs (a 50-row page reads 750 of them); a named tuple's field costs a few ns."""

    id: int
    created_at: datetime
    channel: str
    direction: str
    status: str
    agent_id: int | None
    agent_version: int | None
    agent_name: str | None
    user_id: str | None
    caller_name: str | None
    agent_number: str | None
    summary: str | None
    duration_seconds: int | None
    has_recording: bool
    participant_count: int


class DetailRow(NamedTuple):
    """A row of DETAIL_COLUMNS: the list's fields and when the conversation started and ended."""

    conversation: ConversationRow
    started_at: datetime | None
    ended_at: datetime | None


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
        .select_from(c.outerjoin(a, _AGENT_OF))
        .where(*conditions)
        .order_by(c.c.created_at.desc(), c.c.id.desc())
    )


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[ConversationRow]
    next_position: Position | None


_AFTER_CREATED_AT = bindparam("after_created_at", type_=c.c.created_at.type)
_AFTER_ID = bindparam("after_id", type_=c.c.id.type)
_PAGE_SIZE = bindparam("page_size", type_=Integer)


@lru_cache(maxsize=1024)
def _page_statement(dialect: str, org_id: int, filters: ConversationFilters, keyset: bool) -> Select[Any]:
    """The page query of one org and filter set, built once: the cursor position and the page
    size are parameters. Building the statement took as long as running it."""
    statement = _listing(dialect, org_id, filters, None)
    if keyset:
        statement = statement.where(tuple_(c.c.created_at, c.c.id) < tuple_(_AFTER_CREATED_AT, _AFTER_ID))
    return statement.limit(_PAGE_SIZE)


def list_conversations(
    connection: Connection, org_id: int, filters: ConversationFilters, after: Position | None, limit: int
) -> Page:
    """One page, newest first, starting after ``after``; ``next_position`` is None on the last page."""
    if filters.q is not None:
        rows = _search_page(connection, org_id, filters, after, limit + 1)
    else:
        statement = _page_statement(connection.dialect.name, org_id, filters, after is not None)
        params: dict[str, Any] = {"page_size": limit + 1}
        if after is not None:
            params.update(after_created_at=after.created_at, after_id=after.id)
        rows = [ConversationRow._make(row) for row in connection.execute(statement, params)]
    if len(rows) <= limit:
        return Page(rows, None)
    rows = rows[:limit]
    last = rows[-1]
    return Page(rows, Position(last.created_at, last.id))


class _LeftFirstJoin(Join):
    """An inner join that SQLite must run with the left table as the outer loop (CROSS JOIN).

    Its planner otherwise drives an FTS5 search from the conversations side for some patterns,
    probing the text index once per conversation of the org: minutes instead of milliseconds."""

    inherit_cache = True


@compiles(_LeftFirstJoin, "sqlite")
def _compile_left_first_join(element: _LeftFirstJoin, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_join(element, **kw)  # type: ignore[no-untyped-call]
    return rendered.replace(" JOIN ", " CROSS JOIN ", 1)


def _search_page(
    connection: Connection, org_id: int, filters: ConversationFilters, after: Position | None, size: int
) -> list[ConversationRow]:
    """A page of search results, read from the search index newest first.

    Conversation ids grow with time, so the search tables, keyed by conversation id, list
    matches in the page's order: the query walks the index downwards from the cursor and stops
    after ``size`` rows that pass the other filters, however common the word. (Filtering the
    list by ``id IN (all matches)`` first collected every match: 300 ms for a common word over
    a million rows, and a scan of the whole org for a word matching nothing.)"""
    params: dict[str, Any] = {"page_size": size}
    if after is not None:
        params["after_id"] = after.id
    dialect = connection.dialect.name
    if dialect == "postgresql" and not _common_words(connection, SearchTerms.parse(filters.q or "")):
        statements = _rare_search_statements(org_id, filters, after is not None)
    else:
        statements = _search_statements(dialect, org_id, filters, after is not None)
    found: dict[int, ConversationRow] = {}
    for statement in statements:
        for row in connection.execute(statement, params):
            found[row.id] = ConversationRow._make(row)
    return [found[key] for key in sorted(found, reverse=True)[:size]]


@lru_cache(maxsize=1024)
def _search_statements(
    dialect: str, org_id: int, filters: ConversationFilters, keyset: bool
) -> tuple[Select[Any], ...]:
    """One statement per search table, built once per org and filter set (as ``_page_statement``):
    building two of them cost more than running them."""
    terms = SearchTerms.parse(filters.q or "")
    conditions = filter_conditions(dialect, org_id, replace(filters, q=None))
    return tuple(
        _search_statement(source, org_id, conditions, keyset).limit(_PAGE_SIZE)
        for source in text_sources(dialect, terms)
    )


# Of every conversation, the share holding the least frequent query word, as PostgreSQL's
# statistics know it (most common elements of the tsvector column). A word they do not list is
# rarer than the rarest one they do.
_WORD_FREQUENCY = text(
    "SELECT min(coalesce(s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], lexeme)], 0)) "
    "FROM pg_stats AS s, unnest(tsvector_to_array(to_tsvector('english', :words))) AS lexeme "
    "WHERE s.schemaname = current_schema() AND s.tablename = 'conversation_text' AND s.attname = 'document'"
)
COMMON_WORD_SHARE = 0.005


def _common_words(connection: Connection, terms: SearchTerms) -> bool:
    """Whether every query word is in at least 0.5 % of conversations, so that walking the newest
    conversations finds a page of matches within a few thousand rows.

    The planner makes this choice itself, from the same statistics, but at ten million rows it
    guessed 14,830 matches for a word in none and walked the whole index (minutes) instead of
    asking the GIN index (milliseconds). So the choice is made here: common words walk, rare
    ones (and identifier fragments alone) go through the index."""
    if not terms.words:
        return False
    share = connection.execute(_WORD_FREQUENCY, {"words": " ".join(terms.words)}).scalar()
    return share is not None and float(share) >= COMMON_WORD_SHARE


@lru_cache(maxsize=1024)
def _rare_search_statements(
    org_id: int, filters: ConversationFilters, keyset: bool
) -> tuple[Select[Any], ...]:
    """PostgreSQL, for rare words: every match from the GIN indexes first (a materialised CTE, so
    the planner cannot turn it back into a walk), then the page of the newest of them."""
    terms = SearchTerms.parse(filters.q or "")
    conditions = filter_conditions("postgresql", org_id, replace(filters, q=None))
    statements = []
    for source in text_sources("postgresql", terms):
        assert source.org is not None
        found = [source.matches, source.org == org_id]
        if keyset:
            found.append(source.key < _AFTER_ID)
        matches = select(source.key.label("conversation_id")).where(*found).cte("matches")
        matches = matches.prefix_with("MATERIALIZED")
        joined = matches.join(c, and_(c.c.org_id == org_id, c.c.id == matches.c.conversation_id))
        statements.append(
            select(*LIST_COLUMNS)
            .select_from(joined.outerjoin(a, _AGENT_OF))
            .where(*conditions)
            .order_by(matches.c.conversation_id.desc())
            .limit(_PAGE_SIZE)
        )
    return tuple(statements)


def _search_statement(
    source: TextSource, org_id: int, conditions: list[ColumnElement[bool]], keyset: bool
) -> Select[Any]:
    joined = _LeftFirstJoin(source.table, c, and_(c.c.org_id == org_id, c.c.id == source.key))
    where: list[ColumnElement[bool] | TextClause] = [source.matches, *conditions]
    if source.org is not None:
        where.append(source.org == org_id)
    if keyset:
        where.append(source.key < _AFTER_ID)  # ids order like (created_at, id): see ids.py
    return (
        select(*LIST_COLUMNS)
        .select_from(joined.outerjoin(a, _AGENT_OF))
        .where(*where)
        .order_by(source.key.desc())
    )


def all_conversations(dialect: str, org_id: int, filters: ConversationFilters) -> Select[Any]:
    """Every matching row, newest first: for streaming through one server-side cursor."""
    return _listing(dialect, org_id, filters, None)


def get_conversation(connection: Connection, org_id: int, conversation_id: int) -> DetailRow | None:
    """One conversation of this org; None for a missing id, a foreign one or a pending web session."""
    statement = (
        select(*DETAIL_COLUMNS)
        .select_from(c.outerjoin(a, _AGENT_OF))
        .where(
            c.c.org_id == org_id,
            c.c.id == conversation_id,
            c.c.status.not_in([s.value for s in HIDDEN_STATUSES]),
        )
    )
    row = connection.execute(statement).first()
    if row is None:
        return None
    *listed, started_at, ended_at = row
    return DetailRow(ConversationRow._make(listed), started_at, ended_at)


_p = tables.participants
_PARTICIPANTS = (
    select(_p.c.conversation_id, _p.c.address, _p.c.role)
    .where(
        _p.c.org_id == bindparam("org_id"),
        _p.c.conversation_id.in_(bindparam("conversation_ids", expanding=True)),
    )
    .order_by(_p.c.conversation_id, _p.c.address)
)


def participants_by_conversation(
    connection: Connection, org_id: int, conversation_ids: Sequence[int]
) -> dict[int, list[AnyRow]]:
    found: dict[int, list[AnyRow]] = {}
    if not conversation_ids:
        return found
    rows = connection.execute(_PARTICIPANTS, {"org_id": org_id, "conversation_ids": list(conversation_ids)})
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
