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
from itertools import islice

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
SNIPPET_WORDS = 12  # words in a snippet
_WORDS_BEFORE_HIT = 3  # of them, shown before the first hit
_LOOKBACK_CHARS = 80  # where to look for those words


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
    """Snippets for the rows whose text matched the words: the first of summary, caller name and
    transcript that holds a hit, cut to about a dozen words around it."""
    if not terms.words or not ids:
        return {}
    if connection.dialect.name == "sqlite":
        return _sqlite_word_snippets(connection, terms, ids)
    return _postgres_word_snippets(connection, terms, ids, org_id)


def _sqlite_word_snippets(
    connection: Connection, terms: SearchTerms, ids: Sequence[int]
) -> dict[int, Snippet]:
    columns = ", ".join(
        f"snippet(conversation_text, {n}, '{HIT_START}', '{HIT_END}', '…', {SNIPPET_WORDS})" for n in range(3)
    )
    fts = " ".join(f'"{w}"' for w in terms.words)
    # FTS5 cannot use "rowid IN (…)" to narrow a MATCH: it read every match of a common word
    # (4 to 15 ms at a million rows). A rowid range it can use; "+rowid IN" then only filters.
    statement = text(
        f"SELECT rowid, {columns} FROM conversation_text "
        "WHERE conversation_text MATCH :fts AND rowid BETWEEN :low AND :high AND +rowid IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    rows = connection.execute(statement, {"fts": fts, "low": min(ids), "high": max(ids), "ids": list(ids)})
    found: dict[int, Snippet] = {}
    for row in rows:
        for name, marked in zip(_SNIPPET_FIELDS, row[1:], strict=True):
            if marked and HIT_START in marked:
                found[int(row[0])] = Snippet(name, split_marked(marked))
                break
    return found


_TEXTS = text(
    "SELECT conversation_id, summary, caller_name, transcript FROM conversation_text "
    "WHERE org_id = :org AND conversation_id IN :ids"
).bindparams(bindparam("ids", expanding=True))
# The words (of those given) that the english configuration reduces to one of the query's lexemes.
_MATCHING_WORDS = text(
    "SELECT word FROM unnest(CAST(:words AS text[])) AS word "
    "WHERE tsvector_to_array(to_tsvector('english', word)) "
    "&& tsvector_to_array(to_tsvector('english', :query))"
)


def _postgres_word_snippets(
    connection: Connection, terms: SearchTerms, ids: Sequence[int], org_id: int
) -> dict[int, Snippet]:
    """PostgreSQL's ts_headline parses and stems every word of every text it is given: 5 to 7 ms
    for 50 transcripts. Instead the texts are split into words here, and only the words that could
    stem like a query word (same first letters: stemming only rewrites endings) go to the database,
    in one statement, to learn which of them match. The database's stemmer still decides."""
    texts = {
        int(row[0]): [(name, value) for name, value in zip(_SNIPPET_FIELDS, row[1:], strict=True) if value]
        for row in connection.execute(_TEXTS, {"org": org_id, "ids": list(ids)})
    }
    # Regular expressions scan in C; splitting every text into words in Python cost more than
    # ts_headline.
    prefixes = sorted({word[:2] for word in terms.words}, key=len, reverse=True)
    could_match = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*", re.IGNORECASE)
    candidates = {
        word.lower()
        for fields in texts.values()
        for _, value in fields
        for word in could_match.findall(value)
    }
    if not candidates:
        return {}
    hits = set(
        connection.execute(
            _MATCHING_WORDS, {"words": sorted(candidates), "query": " ".join(terms.words)}
        ).scalars()
    )
    if not hits:
        return {}
    matches = re.compile(
        r"\b(?:" + "|".join(map(re.escape, sorted(hits, key=len, reverse=True))) + r")\b", re.IGNORECASE
    )
    found: dict[int, Snippet] = {}
    for key, fields in texts.items():
        for name, value in fields:
            snippet = window_snippet(name, value, matches)
            if snippet is not None:
                found[key] = snippet
                break
    return found


def window_snippet(field: str, value: str, matches: re.Pattern[str]) -> Snippet | None:
    """About SNIPPET_WORDS words of ``value`` from just before its first hit (a ``matches`` match),
    hits marked, with an ellipsis where the text goes on, as SQLite's snippet() shows it. Only the
    words around the hit are looked at: transcripts run to hundreds of words."""
    first = matches.search(value)
    if first is None:
        return None
    lookback = max(0, first.start() - _LOOKBACK_CHARS)
    before = list(_WORD.finditer(value, lookback, first.start()))
    if lookback > 0 and before and before[0].start() == lookback and value[lookback - 1].isalnum():
        before = before[1:]  # cut off mid-word
    before = before[-_WORDS_BEFORE_HIT:]
    after = list(islice(_WORD.finditer(value, first.start()), SNIPPET_WORDS - len(before)))
    tokens = before + after
    starts_inside = _WORD.search(value, 0, tokens[0].start()) is not None
    ends_inside = _WORD.search(value, tokens[-1].end()) is not None
    parts: list[tuple[str, bool]] = []

    def plain(chunk: str) -> None:
        if not chunk:
            return
        if parts and not parts[-1][1]:
            parts[-1] = (parts[-1][0] + chunk, False)
        else:
            parts.append((chunk, False))

    position = 0
    if starts_inside:
        plain("…")
        position = tokens[0].start()
    for token in tokens:
        if matches.fullmatch(token.group()):
            plain(value[position : token.start()])
            parts.append((token.group(), True))
            position = token.end()
    plain(value[position : tokens[-1].end()] if ends_inside else value[position:])
    if ends_inside:
        plain("…")
    return Snippet(field, tuple(parts))


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
