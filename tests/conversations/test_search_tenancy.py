"""A search reads only the caller's org's full-text entries, so neither its answer nor its cost
can depend on another org's words. The cost itself is measured in ``benchmarks/tenancy.py``;
here the structure that makes it so is checked: org A's lookup has no entry of org B to read."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text

from parley.conversations import queries, search
from parley.conversations.enums import ParticipantRole, Speaker
from parley.conversations.filters import ConversationFilters
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db.search_tables import idents_table, words_table
from parley.ingest import documents
from parley.ingest.records import Participant, Turn
from tests.factories import BASE_TIME, OrgFixture, conversation, insert_all, make_org

FOREIGN = "pinecrest"  # only in globex's conversations


def _globex_rows(org: OrgFixture, count: int) -> list:  # type: ignore[type-arg]
    rng = random.Random(5)
    return [
        conversation(
            rng,
            BASE_TIME + timedelta(minutes=n),
            org.agent_ids[0],
            summary=f"Pinecrest Clinics: appointment {n} moved.",
            turns=(Turn(Speaker.AGENT, "Thanks for calling Pinecrest, this is Ava.", 0),),
            participants=(Participant(f"patient{n}@pinecrest-clinics.test", ParticipantRole.TO),),
        )
        for n in range(count)
    ]


@pytest.fixture
def orgs(engine: Engine) -> tuple[OrgFixture, OrgFixture]:
    acme = make_org(engine, "acme", agent_base=1000)
    globex = make_org(engine, "globex", agent_base=2000)
    rng = random.Random(4)
    insert_all(
        engine,
        acme,
        [conversation(rng, BASE_TIME + timedelta(minutes=n), acme.agent_ids[0]) for n in range(6)],
    )
    insert_all(engine, globex, _globex_rows(globex, 8))
    return acme, globex


def _search(engine: Engine, org: OrgFixture, q: str) -> list[int]:
    filters = ConversationFilters(q=SearchTerms.parse(q))
    with engine.connect() as connection:
        page = queries.list_conversations(connection, Visible(org.id), filters, None, 50)
        exported = connection.execute(
            queries.all_conversations(engine.dialect.name, Visible(org.id), filters)
        )
        assert [row.id for row in exported] == [row.id for row in page.rows]  # the export agrees
    return [row.id for row in page.rows]


def test_a_word_only_in_another_org_finds_nothing(
    engine: Engine, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    acme, globex = orgs
    assert _search(engine, acme, FOREIGN) == []
    assert _search(engine, acme, "clinics.test") == []  # an identifier fragment of globex's
    assert _search(engine, acme, "refund") == sorted(acme.conversation_ids, reverse=True)
    assert _search(engine, globex, FOREIGN) == sorted(globex.conversation_ids, reverse=True)
    assert _search(engine, globex, "clinics.test") == sorted(globex.conversation_ids, reverse=True)


def test_a_rewritten_document_stays_in_its_org(engine: Engine, orgs: tuple[OrgFixture, OrgFixture]) -> None:
    """Ingestion rewrites one conversation's documents (``documents.refresh``) in the same form."""
    acme, globex = orgs
    moved = globex.conversation_ids[0]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE conversations SET summary = 'Wombat sighting' WHERE org_id = :o AND id = :i"),
            {"o": globex.id, "i": moved},
        )
        documents.refresh(connection, globex.id, moved)
    assert _search(engine, globex, "wombat") == [moved]
    assert _search(engine, acme, "wombat") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_lookup_reads_only_the_orgs_own_tables(
    engine: Engine, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    acme, globex = orgs
    with engine.connect() as connection:
        for org in orgs:  # each org's tables hold its own conversations, and only those
            for name in (words_table(org.id), idents_table(org.id)):
                rowids = connection.exec_driver_sql(f"SELECT rowid FROM {name}").scalars().all()
                assert sorted(rowids) == sorted(org.conversation_ids), name

        def terms(org: OrgFixture) -> set[str]:
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE temp.vocab_{org.id} USING fts5vocab(main, {words_table(org.id)}, row)"
            )
            return set(connection.exec_driver_sql(f"SELECT term FROM temp.vocab_{org.id}").scalars())

        assert FOREIGN in terms(globex)
        assert FOREIGN not in terms(acme)
    statements = search.search_statements(
        "sqlite", Visible(acme.id), SearchTerms.parse(FOREIGN), [], keyset=False, index_first=False
    )
    for statement in statements:  # the statements name acme's tables, no other search table
        sql = str(statement.compile())
        assert set(re.findall(r"conversation_(?:text|idents)\w*", sql)) <= {
            words_table(acme.id),
            idents_table(acme.id),
        }


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_lookup_keys_are_the_orgs_own(engine: Engine, orgs: tuple[OrgFixture, OrgFixture]) -> None:
    """Every GIN key is namespaced by its row's org, so the key org A looks up for a word has no
    entry of org B: even without the org condition it finds nothing; the statistics the plan is
    chosen from count the org's own lexeme; the plan looks up acme's key."""
    acme, globex = orgs
    with engine.begin() as connection:
        foreign = {
            org.id: connection.execute(
                text(
                    "SELECT count(*) FROM conversation_text WHERE "
                    "document @@ parley_all_of(parley_org_lexemes(:o, :w)) "
                    "OR idents_grams @@ parley_all_of(parley_org_trigrams(:o, :f))"
                ),
                {"o": org.id, "w": FOREIGN, "f": "clinics.test"},
            ).scalar_one()
            for org in orgs
        }
        assert foreign == {acme.id: 0, globex.id: len(globex.conversation_ids)}
        strays = connection.execute(
            text(
                "SELECT count(*) FROM conversation_text, "
                "unnest(tsvector_to_array(document) || tsvector_to_array(idents_grams)) AS key "
                "WHERE key NOT LIKE org_id || ':%' AND key NOT LIKE org_id || '~%'"
            )
        ).scalar_one()
        assert strays == 0
        assert (
            connection.execute(select(func.count()).select_from(text("conversation_text"))).scalar_one() == 14
        )
        connection.exec_driver_sql("ANALYZE conversation_text")
        terms = SearchTerms.parse(FOREIGN)
        assert search.common_words(connection, terms, globex.id)  # in every globex row
        assert not search.common_words(connection, terms, acme.id)  # acme's lexeme: in none
        [statement] = search.search_statements(
            "postgresql", Visible(acme.id), terms, [], keyset=False, index_first=True
        )
        compiled = statement.params(page_size=51).compile(connection, compile_kwargs={"literal_binds": True})
        plan = "\n".join(connection.execute(text(f"EXPLAIN (VERBOSE, COSTS OFF) {compiled}")).scalars())
        assert f"'{acme.id}:pinecrest'" in plan and f"'{globex.id}:" not in plan


_WORDS = st.lists(
    st.sampled_from(["refund", "parcel", "otter", "pinecrest", "mango", "ledger"]), min_size=1, max_size=3
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(other=st.lists(_WORDS, min_size=1, max_size=5), query=_WORDS)
def test_another_orgs_words_never_change_a_search(
    engine: Engine, orgs: tuple[OrgFixture, OrgFixture], other: list[list[str]], query: list[str]
) -> None:
    """Whatever another org writes, org A's search answers as before."""
    acme, globex = orgs
    q = " ".join(query)
    before = _search(engine, acme, q)
    rng = random.Random(len(other))
    extra = [
        conversation(
            rng, BASE_TIME + timedelta(hours=1, minutes=n), globex.agent_ids[0], summary=" ".join(words)
        )
        for n, words in enumerate(other)
    ]
    insert_all(engine, globex, extra)
    try:
        assert _search(engine, acme, q) == before
    finally:
        with engine.begin() as connection:
            for item in extra:
                documents.remove(connection, globex.id, item.id)
                connection.execute(
                    text("DELETE FROM conversations WHERE org_id = :o AND id = :i"),
                    {"o": globex.id, "i": item.id},
                )
