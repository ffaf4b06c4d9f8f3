"""Migrations build, from empty, exactly the schema that the table definitions describe."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from parley.accounts.service import create_org
from parley.db.engine import build_engine
from parley.db.migrate import pending_revisions, upgrade
from parley.db.search_tables import idents_table, words_table
from parley.db.tables import metadata
from tests.conftest import owner_url


def test_migrations_run_from_empty_and_are_idempotent(database_url: str) -> None:
    engine = build_engine(owner_url(database_url))  # as the tables' owner, whatever role tests run as
    try:
        assert pending_revisions(engine) == ["0001", "0002", "0003", "0004", "0005", "0006"]
        upgrade(engine)
        assert pending_revisions(engine) == []
        upgrade(engine)  # nothing to do, nothing breaks
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_table_definitions(engine: Engine) -> None:
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    assert set(metadata.tables) <= tables
    for table in metadata.tables.values():
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name
        indexes = {index["name"] for index in inspector.get_indexes(table.name)}
        assert {index.name for index in table.indexes} <= indexes, table.name


def test_every_conversation_index_starts_with_the_org(engine: Engine) -> None:
    inspector = inspect(engine)
    for name in ("conversations", "participants", "transcript_turns", "recordings"):
        assert inspector.get_pk_constraint(name)["constrained_columns"][0] == "org_id"
        for index in inspector.get_indexes(name):
            assert index["column_names"][0] == "org_id", index["name"]


def test_search_indexes_exist_for_each_org(engine: Engine) -> None:
    """SQLite: an org gets its own two FTS5 tables when it is created; PostgreSQL: one table whose
    two tsvectors are under GIN."""
    with engine.begin() as connection:
        org = create_org(connection, "indexed")
    inspector = inspect(engine)
    tables = set(inspector.get_table_names())
    if engine.dialect.name == "sqlite":
        assert {words_table(org.id), idents_table(org.id)} <= tables
        assert "conversation_text" not in tables  # no table spans orgs
    else:
        indexes = {index["name"] for index in inspector.get_indexes("conversation_text")}
        assert {"ix_conversation_text_document", "ix_conversation_text_idents_grams"} <= indexes
