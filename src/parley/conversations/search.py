"""Free-text search (``q``): words through the full-text index, identifier fragments through trigrams.

SQLite: FTS5 tables ``conversation_text`` (porter stemmer) and ``conversation_idents`` (trigram),
whose rowid is the conversation id. PostgreSQL: ``conversation_text`` with a stored tsvector under
GIN and a pg_trgm index over identifiers. A row matches when all its words match, or when the whole
query occurs inside one of its identifiers (so ``0123`` finds ``+14155550123``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    TableClause,
    TextClause,
    bindparam,
    column,
    false,
    literal_column,
    or_,
    select,
    table,
    text,
)

from parley.db import tables
from parley.errors import BadRequest

# Private-use characters mark hits inside snippets; they cannot occur in stored text.
HIT_START, HIT_END = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
_SNIPPET_FIELDS = ("summary", "caller_name", "transcript")
MIN_FRAGMENT = 3  # trigram indexes need three characters to narrow anything down


@dataclass(frozen=True, slots=True)
class SearchTerms:
    words: tuple[str, ...]
    fragment: str | None  # the whole query, lowercased, for identifier substring search

    @classmethod
    def parse(cls, q: str) -> SearchTerms:
        if not q.strip():
            raise BadRequest("q must not be empty.", parameter="q")
        words = tuple(w.lower() for w in _WORD.findall(q))
        stripped = q.strip().lower()
        fragment = stripped if len(stripped) >= MIN_FRAGMENT else None
        if not words and fragment is None:
            raise BadRequest("q must contain at least one word or three characters.", parameter="q")
        return cls(words, fragment)


def _glob_escape(fragment: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", fragment)


def _like_escape(fragment: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", fragment)


def search_condition(dialect: str, org_id: int, terms: SearchTerms) -> ColumnElement[bool]:
    conversation_id = tables.conversations.c.id
    if dialect == "sqlite":
        conditions: list[ColumnElement[bool]] = []
        if terms.words:
            fts = " ".join(f'"{w}"' for w in terms.words)
            conditions.append(
                conversation_id.in_(
                    select(literal_column("rowid"))
                    .select_from(table("conversation_text"))
                    .where(text("conversation_text MATCH :fts_words").bindparams(fts_words=fts))
                )
            )
        if terms.fragment:
            pattern = f"*{_glob_escape(terms.fragment)}*"
            conditions.append(
                conversation_id.in_(
                    select(literal_column("rowid"))
                    .select_from(table("conversation_idents"))
                    .where(text("idents GLOB :ident_pattern").bindparams(ident_pattern=pattern))
                )
            )
        return or_(false(), *conditions)
    matchers = []
    if terms.words:
        matchers.append("document @@ plainto_tsquery('english', :ts_words)")
    if terms.fragment:
        matchers.append("idents ILIKE :ident_pattern")
    return conversation_id.in_(
        select(literal_column("conversation_id"))
        .select_from(table("conversation_text"))
        .where(
            literal_column("org_id") == bindparam("search_org", org_id),
            text("(" + " OR ".join(matchers) + ")").bindparams(
                *([bindparam("ts_words", " ".join(terms.words))] if terms.words else []),
                *(
                    [bindparam("ident_pattern", f"%{_like_escape(terms.fragment)}%")]
                    if terms.fragment
                    else []
                ),
            ),
        )
    )


@dataclass(frozen=True, slots=True)
class TextSource:
    """A search table to read matches from, newest first: its rows are keyed by conversation id,
    and ids grow with time, so walking ``key`` downwards walks the matches in list order."""

    table: TableClause
    key: ColumnClause[int]  # the conversation id
    org: ColumnClause[int] | None  # the org column, where the table has one (PostgreSQL)
    matches: ColumnElement[bool] | TextClause


def text_sources(dialect: str, terms: SearchTerms) -> list[TextSource]:
    """Where a search's matches come from. On SQLite, the word index and the identifier index
    are separate FTS5 tables, each walked on its own (a UNION of the two would be materialised
    whole); on PostgreSQL one table holds both, matched with OR."""
    if dialect == "sqlite":
        sources = []
        if terms.words:
            words = table("conversation_text", column("rowid"))
            fts = " ".join(f'"{w}"' for w in terms.words)
            match = text("conversation_text MATCH :fts_words").bindparams(fts_words=fts)
            sources.append(TextSource(words, words.c.rowid, None, match))
        if terms.fragment:
            idents = table("conversation_idents", column("rowid"))
            pattern = f"*{_glob_escape(terms.fragment)}*"
            glob = text("idents GLOB :ident_pattern").bindparams(ident_pattern=pattern)
            sources.append(TextSource(idents, idents.c.rowid, None, glob))
        return sources
    document = table("conversation_text", column("org_id"), column("conversation_id"))
    return [
        TextSource(
            document,
            document.c.conversation_id,
            document.c.org_id,
            _postgres_matcher(terms, "t_words", "t_ident"),
        )
    ]


def _postgres_matcher(terms: SearchTerms, words_name: str, ident_name: str) -> TextClause:
    matchers = []
    if terms.words:
        matchers.append(f"conversation_text.document @@ plainto_tsquery('english', :{words_name})")
    if terms.fragment:
        matchers.append(f"conversation_text.idents ILIKE :{ident_name}")
    return text("(" + " OR ".join(matchers) + ")").bindparams(
        *([bindparam(words_name, " ".join(terms.words))] if terms.words else []),
        *([bindparam(ident_name, f"%{_like_escape(terms.fragment)}%")] if terms.fragment else []),
    )


@dataclass(frozen=True, slots=True)
class Snippet:
    """Why a row matched: the field and its text split into plain and hit parts."""

    field: str
    parts: tuple[tuple[str, bool], ...]

    def as_json(self) -> dict[str, object]:
        return {"field": self.field, "parts": [{"text": t, "hit": hit} for t, hit in self.parts]}


def split_marked(marked: str) -> tuple[tuple[str, bool], ...]:
    parts: list[tuple[str, bool]] = []
    for i, chunk in enumerate(re.split(f"[{HIT_START}{HIT_END}]", marked)):
        if chunk:
            parts.append((chunk, i % 2 == 1))
    return tuple(parts)


def word_snippets(
    connection: Connection, terms: SearchTerms, ids: Sequence[int], org_id: int
) -> dict[int, Snippet]:
    """Snippets for the rows whose text matched the words."""
    if not terms.words or not ids:
        return {}
    found: dict[int, Snippet] = {}
    if connection.dialect.name == "sqlite":
        columns = ", ".join(
            f"snippet(conversation_text, {n}, '{HIT_START}', '{HIT_END}', '…', 12)" for n in range(3)
        )
        fts = " ".join(f'"{w}"' for w in terms.words)
        # FTS5 cannot use "rowid IN (…)" to narrow a MATCH: it read every match of a common word
        # (4–15 ms at a million rows). A rowid range it can use; "+rowid IN" then only filters.
        statement = text(
            f"SELECT rowid, {columns} FROM conversation_text "
            "WHERE conversation_text MATCH :fts AND rowid BETWEEN :low AND :high AND +rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        rows = connection.execute(
            statement, {"fts": fts, "low": min(ids), "high": max(ids), "ids": list(ids)}
        )
    else:
        options = f"StartSel={HIT_START}, StopSel={HIT_END}, MaxWords=18, MinWords=6, MaxFragments=1"
        headline = ", ".join(
            f"ts_headline('english', coalesce({name}, ''), query, '{options}')" for name in _SNIPPET_FIELDS
        )
        statement = text(
            f"SELECT conversation_id, {headline} FROM conversation_text, "
            "plainto_tsquery('english', :words) AS query "
            "WHERE org_id = :org AND conversation_id IN :ids AND document @@ query"
        ).bindparams(bindparam("ids", expanding=True))
        rows = connection.execute(
            statement, {"words": " ".join(terms.words), "org": org_id, "ids": list(ids)}
        )
    for row in rows:
        for name, marked in zip(_SNIPPET_FIELDS, row[1:], strict=True):
            if marked and HIT_START in marked:
                found[int(row[0])] = Snippet(name, split_marked(marked))
                break
    return found


def identifier_snippet(fragment: str, candidates: dict[str, str | None]) -> Snippet | None:
    """Mark where the fragment occurs in the first identifier that holds it."""
    for name, value in candidates.items():
        if not value:
            continue
        start = value.lower().find(fragment)
        if start >= 0:
            end = start + len(fragment)
            parts = ((value[:start], False), (value[start:end], True), (value[end:], False))
            return Snippet(name, tuple(p for p in parts if p[0]))
    return None
