"""Why a row matched a search: a dozen words around the first hit, hits marked, no HTML.

SQLite's FTS5 ``snippet()`` cuts them; on PostgreSQL they are cut here, around the words its
stemmer confirms (see ``_postgres_word_snippets``). Both give the same shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Connection, bindparam, text

from parley.conversations.rows import ConversationRow
from parley.conversations.search import fts_query
from parley.conversations.terms import WORD as _WORD
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db import AnyRow
from parley.db.search_tables import words_table

# Private-use characters mark hits inside snippets; they cannot occur in stored text.
HIT_START, HIT_END = "\ue000", "\ue001"
_SNIPPET_FIELDS = ("summary", "caller_name", "transcript")
SNIPPET_WORDS = 12  # words in a snippet
_WORDS_BEFORE_HIT = 3  # of them, shown before the first hit
_LOOKBACK_CHARS = 80  # where to look for those words


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
        return _sqlite_word_snippets(connection, terms, ids, org_id)
    return _postgres_word_snippets(connection, terms, ids, org_id)


def _sqlite_word_snippets(
    connection: Connection, terms: SearchTerms, ids: Sequence[int], org_id: int
) -> dict[int, Snippet]:
    words = words_table(org_id)
    columns = ", ".join(
        f"snippet({words}, {n}, '{HIT_START}', '{HIT_END}', '…', {SNIPPET_WORDS})" for n in range(3)
    )
    fts = fts_query(terms)
    # FTS5 cannot use "rowid IN (…)" to narrow a MATCH: it read every match of a common word
    # (4 to 15 ms at a million rows). A rowid range it can use; "+rowid IN" then only filters.
    statement = text(
        f"SELECT rowid, {columns} FROM {words} "
        f"WHERE {words} MATCH :fts AND rowid BETWEEN :low AND :high AND +rowid IN :ids"
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


def page_snippets(
    connection: Connection,
    visible: Visible,
    terms: SearchTerms,
    rows: Sequence[ConversationRow],
    participants: Mapping[int, Sequence[AnyRow]],
) -> dict[int, Snippet]:
    """A snippet for each row of a search page: from its text where the words matched, else
    from the identifier that holds the query."""
    found = word_snippets(connection, terms, [row.id for row in rows], visible.org_id)
    if terms.fragment:
        for row in rows:
            if row.id in found:
                continue
            snippet = identifier_snippet(
                terms.fragment, {"user_id": row.user_id, "agent_number": row.agent_number, "id": str(row.id)}
            )
            for person in participants.get(row.id, ()):
                snippet = snippet or identifier_snippet(terms.fragment, {"participants": person.address})
            if snippet is not None:
                found[row.id] = snippet
    return found
