"""Free-text search (``q``): words through the full-text index, identifier fragments through trigrams.

SQLite: each org's FTS5 tables ``conversation_text_<org>`` (porter stemmer) and
``conversation_idents_<org>`` (trigram), whose rowid is the conversation id. PostgreSQL:
``conversation_text`` with stored tsvectors of org-namespaced lexemes and identifier trigrams under
GIN. Either way a lookup reads only the caller's org's entries (``db.search_tables``). A row
matches when all its words match, or when the whole query occurs inside one of its identifiers
(so ``0123`` finds ``+14155550123``).

The matchers are built in one place (``text_sources``); the list walks them page by page
(``search_statements``), the export filters by them (``matching``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Connection,
    Select,
    TableClause,
    TextClause,
    bindparam,
    column,
    false,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.selectable import Join

from parley.conversations.rows import AFTER_ID, LIST_COLUMNS, PAGE_SIZE, c
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db.search_tables import idents_table, words_table


def _glob_escape(fragment: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", fragment)


def _like_escape(fragment: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", fragment)


@dataclass(frozen=True, slots=True)
class TextSource:
    """A search table to read matches from, newest first: its rows are keyed by conversation id,
    and ids grow with time, so walking ``key`` downwards walks the matches in list order."""

    table: TableClause
    key: ColumnClause[int]  # the conversation id
    org: ColumnClause[int] | None  # the org column, where the table has one (PostgreSQL)
    matches: ColumnElement[bool] | TextClause
    walks: ColumnElement[bool] | TextClause  # the same test, in a form no index answers

    def conditions(self, visible: Visible, walk: bool = False) -> list[ColumnElement[bool] | TextClause]:
        """This source's matches, of the visible org where the table knows the org."""
        test = self.walks if walk else self.matches
        return [test] if self.org is None else [test, self.org == visible.org_id]


def text_sources(dialect: str, terms: SearchTerms, org_id: int) -> list[TextSource]:
    """Where a search's matches come from: only the org's own entries (see ``db.search_tables``),
    so the time of a lookup depends on the org's data alone. On SQLite, the org's word index and
    identifier index are separate FTS5 tables, each walked on its own (a UNION of the two would be
    materialised whole); on PostgreSQL one table holds both, matched with OR."""
    if dialect == "sqlite":
        sources = []
        if terms.words:
            words = table(words_table(org_id), column("rowid"))
            match = text(f"{words.name} MATCH :fts_words").bindparams(fts_words=fts_query(terms))
            sources.append(TextSource(words, words.c.rowid, None, match, match))
        if terms.fragment:
            idents = table(idents_table(org_id), column("rowid"))
            pattern = f"*{_glob_escape(terms.fragment)}*"
            glob = text("idents GLOB :ident_pattern").bindparams(ident_pattern=pattern)
            sources.append(TextSource(idents, idents.c.rowid, None, glob, glob))
        return sources
    document = table("conversation_text", column("org_id"), column("conversation_id"))
    params: list[BindParameter[Any]] = [bindparam("t_org", org_id)]
    if terms.words:
        params.append(bindparam("t_words", " ".join(terms.words)))
    if terms.fragment:
        params.append(bindparam("t_fragment", terms.fragment))
        params.append(bindparam("t_ident", f"%{_like_escape(terms.fragment)}%"))
    matches, walks = (_postgres_match(terms, walk).bindparams(*params) for walk in (False, True))
    return [TextSource(document, document.c.conversation_id, document.c.org_id, matches, walks)]


def _postgres_match(terms: SearchTerms, walk: bool) -> TextClause:
    """The words' org-namespaced lexemes all in the document, or the fragment's org-namespaced
    trigrams all among the identifiers' and ILIKE confirming it.

    Each tsquery is a subquery, computed once per statement: in a prepared statement's generic
    plan a function of the parameters would be computed again for every row. The walk tests with
    ``ts_match_vq``, the function behind ``@@``, which no index answers: the plan is then the walk
    the caller chose (``common_words``), whatever the planner would guess for an unseen query."""
    test = "ts_match_vq({}, {})" if walk else "{} @@ {}"
    matchers = []
    if terms.words:
        lexemes = "(SELECT parley_all_of(parley_org_lexemes(:t_org, :t_words)))"
        matchers.append(test.format("conversation_text.document", lexemes))
    if terms.fragment:
        trigrams = "(SELECT parley_all_of(parley_org_trigrams(:t_org, :t_fragment)))"
        matchers.append(
            f"({test.format('conversation_text.idents_grams', trigrams)} AND conversation_text.idents ILIKE :t_ident)"
        )
    return text("(" + " OR ".join(matchers) + ")")


def fts_query(terms: SearchTerms) -> str:
    """The words as an FTS5 query: each quoted, so none is read as an operator."""
    return " ".join(f'"{w}"' for w in terms.words)


def matching(dialect: str, visible: Visible, terms: SearchTerms) -> ColumnElement[bool]:
    """A condition on ``conversations``: the row matches the search. For reading every match
    (the export); a page walks the sources instead (``search_statements``)."""
    return or_(
        false(),
        *(
            c.c.id.in_(select(source.key).select_from(source.table).where(*source.conditions(visible)))
            for source in text_sources(dialect, terms, visible.org_id)
        ),
    )


class _LeftFirstJoin(Join):
    """An inner join that SQLite must run with the left table as the outer loop (CROSS JOIN).

    Its planner otherwise drives an FTS5 search from the conversations side for some patterns,
    probing the text index once per conversation of the org: minutes instead of milliseconds."""

    inherit_cache = True


@compiles(_LeftFirstJoin, "sqlite")
def _compile_left_first_join(element: _LeftFirstJoin, compiler: SQLCompiler, **kw: Any) -> str:
    rendered: str = compiler.visit_join(element, **kw)  # type: ignore[no-untyped-call]
    return rendered.replace(" JOIN ", " CROSS JOIN ", 1)


def search_statements(
    dialect: str,
    visible: Visible,
    terms: SearchTerms,
    conditions: Sequence[ColumnElement[bool]],
    *,
    keyset: bool,
    index_first: bool,
) -> tuple[Select[Any], ...]:
    """One page statement per text source, newest first, each narrowed by ``conditions``.

    Walking (the default): the statement reads the source's matches downwards from the cursor
    and stops after a page of rows that pass the other filters, however common the word (on
    PostgreSQL it reads the org's rows downwards and tests each).
    ``index_first`` (PostgreSQL, rare words): every match from the GIN index first, in a
    materialised CTE the planner cannot turn back into a walk, then the page of the newest."""
    statements = []
    for source in text_sources(dialect, terms, visible.org_id):
        found = source.conditions(visible, walk=not index_first)
        if keyset:
            found.append(source.key < AFTER_ID)  # ids order like (created_at, id): see ids.py
        if index_first:
            matches = select(source.key.label("conversation_id")).where(*found).cte("matches")
            matches = matches.prefix_with("MATERIALIZED")
            joined = matches.join(c, c.c.id == matches.c.conversation_id)
            statement = visible.select(*LIST_COLUMNS, source=joined).order_by(
                matches.c.conversation_id.desc()
            )
        else:
            joined = _LeftFirstJoin(source.table, c, c.c.id == source.key)
            statement = visible.select(*LIST_COLUMNS, source=joined).where(*found).order_by(source.key.desc())
        statements.append(statement.where(*conditions).limit(PAGE_SIZE))
    return tuple(statements)


# Of every conversation, the share holding the org's least frequent query word, as PostgreSQL's
# statistics know it (most common elements of the tsvector column, whose lexemes are the org's
# own: see ``db.search_tables``). A word they do not list is rarer than the rarest one they do.
_WORD_FREQUENCY = text(
    "SELECT min(coalesce(s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], lexeme)], 0)) "
    "FROM pg_stats AS s, unnest(parley_org_lexemes(:org, :words)) AS lexeme "
    "WHERE s.schemaname = current_schema() AND s.tablename = 'conversation_text' AND s.attname = 'document'"
)
COMMON_WORD_SHARE = 0.005


def common_words(connection: Connection, terms: SearchTerms, org_id: int) -> bool:
    """Whether every query word, as the org uses it, is in at least 0.5 % of conversations, so that
    walking the org's newest conversations finds a page of matches within a few thousand rows.

    The planner makes this choice itself, from the same statistics, but at ten million rows it
    guessed 14,830 matches for a word in none and walked the whole index (minutes) instead of
    asking the GIN index (milliseconds). So the choice is made here: common words walk, rare
    ones (and identifier fragments alone) go through the index. A word only another org uses is
    rare for this one: its lexeme for the org is in no statistics and no index entry."""
    if not terms.words:
        return False
    share = connection.execute(_WORD_FREQUENCY, {"org": org_id, "words": " ".join(terms.words)}).scalar()
    return share is not None and float(share) >= COMMON_WORD_SHARE
