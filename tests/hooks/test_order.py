"""Hypothesis: any order of a call's deliveries, with any of them repeated, ends in the same
stored conversation as the order the provider sends them in: status, times, who, analysis,
turns, tags and the recording (fetched or pending)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from parley.db import tables
from parley.recordings import fetch
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.helpers import conversation_id
from tests.hooks.senders import Sender

BUILDERS: dict[str, Callable[[payloads.Story], list[Any]]] = {
    "retell": payloads.retell,
    "vapi": payloads.vapi,
    "elevenlabs": payloads.elevenlabs,
    "twilio": payloads.twilio,
}
# created_at is fixed when the call is first heard of (the id carries it). Retell and Vapi say
# the call's start in every delivery; a Twilio callback says only its own moment, and an
# ElevenLabs recording nothing, so there it is the earliest time the first delivery knew.
STABLE_CREATED_AT = {"retell", "vapi"}
IDS = {"retell": "call_o{}", "vapi": "9a7e-{}", "elevenlabs": "conv_o{}", "twilio": "CA{:030d}"}


def snapshot(engine: Engine, org: OrgFixture, external_id: str, provider: str) -> dict[str, Any]:
    c, t, a, g, j = (
        tables.conversations,
        tables.transcript_turns,
        tables.agents,
        tables.conversation_tags,
        tables.jobs,
    )
    cid = conversation_id(engine, org, external_id)
    with engine.connect() as conn:
        row = conn.execute(select(c).where(c.c.org_id == org.id, c.c.id == cid)).one()._asdict()
        agent = conn.execute(
            select(a.c.external_id).where(a.c.org_id == org.id, a.c.id == row["agent_id"])
        ).scalar()
        turns = conn.execute(
            select(t.c.seq, t.c.speaker, t.c.text, t.c.offset_ms, t.c.final)
            .where(t.c.org_id == org.id, t.c.conversation_id == cid)
            .order_by(t.c.seq)
        ).all()
        tags = (
            conn.execute(select(g.c.tag).where(g.c.org_id == org.id, g.c.conversation_id == cid))
            .scalars()
            .all()
        )
        fetches = conn.execute(
            select(func.count())
            .select_from(j)
            .where(j.c.org_id == org.id, j.c.conversation_id == cid, j.c.kind == fetch.KIND)
        ).scalar_one()
    for name in (
        "org_id",
        "id",
        "external_id",
        "agent_id",
        *(() if provider in STABLE_CREATED_AT else ("created_at",)),
    ):
        del row[name]
    return {
        **row,
        "agent": agent,
        "turns": [tuple(x) for x in turns],
        "tags": sorted(tags),
        "fetch_jobs": fetches,
    }


@pytest.mark.parametrize("provider", sorted(BUILDERS))
def test_any_order_and_repeats_end_alike(
    engine: Engine, acme: OrgFixture, sender: Sender, provider: str
) -> None:
    counter = itertools.count()
    build = BUILDERS[provider]

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        n = next(counter)
        in_order = payloads.Story(IDS[provider].format(2 * n))
        reordered = payloads.Story(IDS[provider].format(2 * n + 1))
        for item in build(in_order):
            sender.deliver(provider, item)
        items = build(reordered)
        sequence = list(data.draw(st.permutations(range(len(items))), label="order"))
        for repeat in data.draw(st.lists(st.integers(0, len(items) - 1), max_size=4), label="repeats"):
            sequence.insert(data.draw(st.integers(0, len(sequence)), label="at"), repeat)
        for index in sequence:
            sender.deliver(provider, items[index])
        expected = snapshot(engine, acme, in_order.call_id, provider)
        assert snapshot(engine, acme, reordered.call_id, provider) == expected
        assert expected["status"] == "completed"
        assert len(expected["turns"]) == (0 if provider == "twilio" else 3)  # Twilio calls have no transcript

    check()
