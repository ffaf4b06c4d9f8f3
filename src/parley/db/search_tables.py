"""Where each org's search documents live, so that no search reads another org's entries.

The time of a search must not depend on other orgs' data: a full-text lookup that reads every
org's entries for a word and then drops the foreign ones takes longer the more often another org
uses the word, which told an analyst whether a name occurs in another org's transcripts.

SQLite: each org has its own two FTS5 tables, ``conversation_text_<org>`` (porter stemmer over
summary, caller name and transcript) and ``conversation_idents_<org>`` (trigrams over the
identifiers), whose rowid is the conversation id. They are created with the org (and by every
writer, should one be missing), so a read can rely on them.

PostgreSQL: one table, ``conversation_text``, whose two tsvectors hold org-namespaced entries,
computed by the SQL functions of migration 0006: ``document`` the org's lexemes as ``<org>:<lexeme>``
(``parley_org_lexemes``), ``idents_grams`` the org's trigrams of the identifiers as
``<org>~<trigram>`` (``parley_org_trigrams``). A word only another org uses is then a GIN key
that does not exist for the caller, and a lexeme's statistics count one org's rows.
"""

from __future__ import annotations

from sqlalchemy import Connection


def words_table(org_id: int) -> str:
    """The org's FTS5 table of words (SQLite)."""
    return f"conversation_text_{int(org_id)}"


def idents_table(org_id: int) -> str:
    """The org's FTS5 table of identifier trigrams (SQLite)."""
    return f"conversation_idents_{int(org_id)}"


def create_org_tables(connection: Connection, org_id: int) -> None:
    """The org's own search tables on SQLite, if they are missing (PostgreSQL needs none)."""
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {words_table(org_id)} USING fts5("
        "summary, caller_name, transcript, tokenize = 'porter unicode61 remove_diacritics 2')"
    )
    connection.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {idents_table(org_id)} USING fts5(idents, tokenize = 'trigram')"
    )
