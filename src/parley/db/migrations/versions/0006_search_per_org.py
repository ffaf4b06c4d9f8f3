"""search documents per org: a full-text lookup reads only the caller's org's entries

The time of a search depended on other orgs' data (a word only another org used took longer to
find nothing than a word no org used), because the full-text entries of every org were one index.
SQLite: the two FTS5 tables become two per org, ``conversation_text_<org>`` and
``conversation_idents_<org>``, filled from the old ones. PostgreSQL: ``document`` holds the org's
lexemes namespaced as ``<org>:<lexeme>`` and a new ``idents_grams`` the org's trigrams of the
identifiers as ``<org>~<trigram>``, each under GIN, in place of the shared tsvector and the
pg_trgm index; statistics are gathered again, since the search chooses its plan from them. See
``parley/db/search_tables.py``.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WORDS = "CREATE VIRTUAL TABLE {name} USING fts5(summary, caller_name, transcript, {tokenize})"
_PORTER = "tokenize = 'porter unicode61 remove_diacritics 2'"
_IDENTS = "CREATE VIRTUAL TABLE {name} USING fts5(idents, tokenize = 'trigram')"

# The three functions every writer (the generated columns) and reader (search.py) goes through.
_FUNCTIONS = (
    r"""
    CREATE OR REPLACE FUNCTION parley_org_lexemes(org integer, body text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT ARRAY(
            SELECT org::text || ':' || lexeme
            FROM unnest(tsvector_to_array(to_tsvector('english'::regconfig, body))) AS lexeme
        )
    $$
    """,
    r"""
    CREATE OR REPLACE FUNCTION parley_org_trigrams(org integer, body text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT ARRAY(
            SELECT DISTINCT org::text || '~' || substr(folded.body, i, 3)
            FROM (SELECT lower(body) AS body) AS folded, generate_series(1, length(folded.body) - 2) AS i
        )
    $$
    """,
    # Every lexeme, quoted (so none is read as an operator); NULL, matching nothing, for none.
    r"""
    CREATE OR REPLACE FUNCTION parley_all_of(lexemes text[]) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT string_agg(
            '''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''', ' & '
        )::tsquery
        FROM unnest(lexemes) AS lexeme
    $$
    """,
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for org_id in bind.execute(text("SELECT id FROM orgs ORDER BY id")).scalars().all():
            words, idents = f"conversation_text_{int(org_id)}", f"conversation_idents_{int(org_id)}"
            op.execute(_WORDS.format(name=words, tokenize=_PORTER))
            op.execute(_IDENTS.format(name=idents))
            own = f"(SELECT id FROM conversations WHERE org_id = {int(org_id)})"
            op.execute(
                f"INSERT INTO {words} (rowid, summary, caller_name, transcript) "
                f"SELECT rowid, summary, caller_name, transcript FROM conversation_text WHERE rowid IN {own}"
            )
            op.execute(
                f"INSERT INTO {idents} (rowid, idents) "
                f"SELECT rowid, idents FROM conversation_idents WHERE rowid IN {own}"
            )
        op.execute("DROP TABLE conversation_text")
        op.execute("DROP TABLE conversation_idents")
        return
    for function in _FUNCTIONS:
        op.execute(function)
    op.execute("DROP INDEX ix_conversation_text_idents")
    op.execute("ALTER TABLE conversation_text DROP COLUMN document")
    # One rewrite of the table for both columns.
    op.execute(
        """
        ALTER TABLE conversation_text
        ADD COLUMN document tsvector GENERATED ALWAYS AS (
            array_to_tsvector(parley_org_lexemes(
                org_id,
                coalesce(summary, '') || E'\\n' || coalesce(caller_name, '') || E'\\n' || coalesce(transcript, '')
            ))
        ) STORED,
        ADD COLUMN idents_grams tsvector GENERATED ALWAYS AS (
            array_to_tsvector(parley_org_trigrams(org_id, idents))
        ) STORED
        """
    )
    op.execute("CREATE INDEX ix_conversation_text_document ON conversation_text USING gin (document)")
    op.execute("CREATE INDEX ix_conversation_text_idents_grams ON conversation_text USING gin (idents_grams)")
    op.execute("ANALYZE conversation_text")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(_WORDS.format(name="conversation_text", tokenize=_PORTER))
        op.execute(_IDENTS.format(name="conversation_idents"))
        for org_id in bind.execute(text("SELECT id FROM orgs ORDER BY id")).scalars().all():
            words, idents = f"conversation_text_{int(org_id)}", f"conversation_idents_{int(org_id)}"
            op.execute(
                "INSERT INTO conversation_text (rowid, summary, caller_name, transcript) "
                f"SELECT rowid, summary, caller_name, transcript FROM {words}"
            )
            op.execute(f"INSERT INTO conversation_idents (rowid, idents) SELECT rowid, idents FROM {idents}")
            op.execute(f"DROP TABLE {words}")
            op.execute(f"DROP TABLE {idents}")
        return
    op.execute("DROP INDEX ix_conversation_text_idents_grams")
    op.execute("ALTER TABLE conversation_text DROP COLUMN idents_grams, DROP COLUMN document")
    op.execute(
        """
        ALTER TABLE conversation_text ADD COLUMN document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english', coalesce(summary, '')), 'A')
            || setweight(to_tsvector('english', coalesce(caller_name, '')), 'A')
            || setweight(to_tsvector('english', coalesce(transcript, '')), 'B')
        ) STORED
        """
    )
    op.execute("CREATE INDEX ix_conversation_text_document ON conversation_text USING gin (document)")
    op.execute(
        "CREATE INDEX ix_conversation_text_idents ON conversation_text USING gin (idents gin_trgm_ops)"
    )
    for name in (
        "parley_all_of(text[])",
        "parley_org_trigrams(integer, text)",
        "parley_org_lexemes(integer, text)",
    ):
        op.execute(f"DROP FUNCTION {name}")
