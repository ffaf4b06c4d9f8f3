"""A retried or reordered delivery of turns never duplicates or loses one (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from parley.accounts import service as accounts
from parley.db import tables
from parley.db.engine import SYSTEM, write_connection
from parley.ingest import service
from parley.ingest.records import NewConversation
from parley.ingest.service import TurnChange


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[dict[int, TurnChange], list[list[TurnChange]]]:
    """Each seq's final turn, and batches that carry every final at least once, among partial
    versions and repeats, in any order."""
    seqs = draw(st.lists(st.integers(0, 40), min_size=1, max_size=8, unique=True))
    finals = {
        seq: TurnChange(seq, draw(st.sampled_from(["agent", "caller"])), f"final {seq}", seq * 100, True)
        for seq in seqs
    }
    pieces = [turn for turn in finals.values() for _ in range(draw(st.integers(1, 3)))]
    for seq in seqs:
        pieces += [
            TurnChange(seq, finals[seq].speaker, f"partial {seq}.{n}", seq * 100, False)
            for n in range(draw(st.integers(0, 3)))
        ]
    order = draw(st.permutations(pieces))
    batches: list[list[TurnChange]] = []
    rest = list(order)
    while rest:
        size = draw(st.integers(1, len(rest)))
        batches.append(rest[:size])
        rest = rest[size:]
    return finals, batches


def test_any_order_of_deliveries_ends_with_every_final_turn_once(engine: Engine) -> None:
    with engine.begin() as connection:
        org = accounts.create_org(connection, "deliveries")
    counter = iter(range(10**6))

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=deliveries())
    def check(case: tuple[dict[int, TurnChange], list[list[TurnChange]]]) -> None:
        finals, batches = case
        with write_connection(engine, SYSTEM) as connection:
            conversation_id = service.create_conversation(
                connection,
                org.id,
                NewConversation(
                    0,
                    datetime.now(UTC),
                    "telephone",
                    "inbound",
                    "in_progress",
                    external_id=f"c{next(counter)}",
                ),
            )
        changed = 0
        for batch in batches:
            with write_connection(engine, SYSTEM) as connection:
                changed += service.append_turns(connection, org.id, conversation_id, batch)
        t, e = tables.transcript_turns, tables.events
        with engine.connect() as connection:
            stored = connection.execute(
                select(t.c.seq, t.c.speaker, t.c.text, t.c.final)
                .where(t.c.org_id == org.id, t.c.conversation_id == conversation_id)
                .order_by(t.c.seq)
            ).all()
            events = (
                connection.execute(
                    select(e.c.body).where(
                        e.c.org_id == org.id, e.c.conversation_id == conversation_id, e.c.kind == "turns"
                    )
                )
                .scalars()
                .all()
            )
        assert [tuple(row) for row in stored] == [
            (s, f.speaker, f.text, True) for s, f in sorted(finals.items())
        ]
        # Every change is one event's turn, and nothing that changed nothing made an event.
        assert sum(len(orjson.loads(body)["transcript"]) for body in events) == changed
        assert changed <= sum(len(b) for b in batches)

    check()
