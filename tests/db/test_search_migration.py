"""Migration 0006 moves the search documents of a database seeded before it into each org's own
entries, and back on downgrade, without losing a match."""

from __future__ import annotations

import random
from datetime import timedelta

from alembic import command
from sqlalchemy import Engine, inspect

from parley.conversations import queries
from parley.conversations.filters import ConversationFilters
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db.engine import build_engine
from parley.db.migrate import alembic_config, upgrade
from parley.db.search_tables import idents_table, words_table
from tests.factories import BASE_TIME, OrgFixture, conversation, insert_all, make_org


def _search(engine: Engine, org: OrgFixture, q: str) -> list[int]:
    filters = ConversationFilters(q=SearchTerms.parse(q))
    with engine.connect() as connection:
        page = queries.list_conversations(connection, Visible(org.id), filters, None, 50)
    return [row.id for row in page.rows]


def _as_before_0006(engine: Engine, orgs: list[OrgFixture]) -> None:
    """SQLite: the rows where the writers before 0006 put them, in the tables spanning orgs."""
    if engine.dialect.name != "sqlite":
        return  # the writers' PostgreSQL rows are the same; 0004's generated column computed them
    with engine.begin() as connection:
        for org in orgs:
            words, idents = words_table(org.id), idents_table(org.id)
            connection.exec_driver_sql(
                f"INSERT INTO conversation_text (rowid, summary, caller_name, transcript) "
                f"SELECT rowid, summary, caller_name, transcript FROM {words}"
            )
            connection.exec_driver_sql(
                f"INSERT INTO conversation_idents (rowid, idents) SELECT rowid, idents FROM {idents}"
            )
            connection.exec_driver_sql(f"DROP TABLE {words}")
            connection.exec_driver_sql(f"DROP TABLE {idents}")


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0006_keeps_every_match_in_its_own_org(database_url: str) -> None:
    engine = build_engine(database_url)
    try:
        upgrade(engine, "0004")
        acme, globex = make_org(engine, "acme", 1000), make_org(engine, "globex", 2000)
        rng = random.Random(3)
        for org, word in ((acme, "wombat"), (globex, "pinecrest")):
            insert_all(
                engine,
                org,
                [
                    conversation(
                        rng, BASE_TIME + timedelta(minutes=n), org.agent_ids[0], summary=f"{word} {n}"
                    )
                    for n in range(3)
                ],
            )
        _as_before_0006(engine, [acme, globex])
        for _ in range(2):  # up, then down and up again
            upgrade(engine)
            assert _search(engine, acme, "wombat") == sorted(acme.conversation_ids, reverse=True)
            assert _search(engine, acme, "pinecrest") == []
            assert _search(engine, globex, "pinecrest") == sorted(globex.conversation_ids, reverse=True)
            fragment = str(globex.conversation_ids[0])[-6:]  # through the identifier entries
            assert _search(engine, globex, fragment) == [globex.conversation_ids[0]]
            assert _search(engine, acme, fragment) == []
            if engine.dialect.name == "sqlite":
                assert "conversation_text" not in inspect(engine).get_table_names()
            _downgrade(engine, "0004")
            if engine.dialect.name == "sqlite":
                tables = set(inspect(engine).get_table_names())
                assert "conversation_text" in tables and words_table(acme.id) not in tables
    finally:
        engine.dispose()
