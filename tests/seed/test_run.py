"""seed_org against a real database: what it writes, that it repeats itself, adds up, and refuses."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from parley.config import Settings
from parley.conversations.ids import created_millis, to_millis
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from parley.errors import BadRequest
from parley.seed import run
from parley.seed.generator import generate_conversations, make_seed_agent
from parley.seed.run import seed_org

UNTIL = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def count(engine: Engine, table: str, org_id: int | None = None) -> int:
    model = tables.metadata.tables[table]
    query = select(func.count()).select_from(model)
    if org_id is not None:
        query = query.where(model.c.org_id == org_id)
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def org_id(engine: Engine, slug: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(tables.orgs.c.id).where(tables.orgs.c.slug == slug)).scalar_one())


def snapshot(engine: Engine, slug: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything seeded for an org, in a stable order, without the database's own org id."""
    org = org_id(engine, slug)
    c, t, r, p = tables.conversations, tables.transcript_turns, tables.recordings, tables.participants
    with engine.connect() as conn:
        return {
            "conversations": [
                row[1:] for row in conn.execute(select(c).where(c.c.org_id == org).order_by(c.c.id))
            ],
            "turns": [
                row[1:]
                for row in conn.execute(
                    select(t).where(t.c.org_id == org).order_by(t.c.conversation_id, t.c.seq)
                )
            ],
            "recordings": [
                row[1:]
                for row in conn.execute(
                    select(r).where(r.c.org_id == org).order_by(r.c.conversation_id, r.c.seq)
                )
            ],
            "participants": [
                row[1:]
                for row in conn.execute(
                    select(p).where(p.c.org_id == org).order_by(p.c.conversation_id, p.c.address)
                )
            ],
            "agents": [
                row[1:]
                for row in conn.execute(
                    select(tables.agents).where(tables.agents.c.org_id == org).order_by(tables.agents.c.id)
                )
            ],
        }


def test_seed_org_writes_conversations_agents_and_audio(engine: Engine, settings: Settings) -> None:
    progress: list[int] = []
    report = seed_org(
        engine,
        settings,
        "acme",
        600,
        seed=3,
        days=10,
        until=UNTIL,
        on_progress=progress.append,
        batch_size=250,
    )
    assert (report.org, report.conversations) == ("acme", 600)
    assert 6 <= report.agents <= 8 and report.seconds > 0
    # Batches of 250, 250 and 100; on PostgreSQL they may commit in any order.
    assert len(progress) == 3 and progress == sorted(progress) and progress[-1] == 600
    org = org_id(engine, "acme")
    assert count(engine, "conversations", org) == 600
    assert count(engine, "agents", org) == report.agents
    assert report.agents <= count(engine, "agent_versions", org) <= 5 * report.agents
    assert count(engine, "transcript_turns", org) > 600 * 4
    assert count(engine, "recordings", org) > 0 and count(engine, "participants", org) > 0
    with engine.connect() as conn:
        stored = conn.execute(
            select(tables.conversations.c.id, tables.conversations.c.created_at).where(
                tables.conversations.c.org_id == org
            )
        ).all()
        keys = set(conn.execute(select(tables.recordings.c.blob_key)).scalars())
        flagged = conn.execute(
            select(func.count()).where(tables.conversations.c.has_recording.is_(True))
        ).scalar_one()
    assert all(created_millis(row.id) == to_millis(row.created_at) for row in stored)
    assert all(UNTIL - timedelta(days=10) <= row.created_at < UNTIL for row in stored)
    assert flagged == count(engine, "recordings", org)
    assert all((settings.recordings_dir / key).is_file() for key in keys)
    assert len(list((settings.recordings_dir / "seed").glob("*.wav"))) == 12  # a pool, not a file per call


def test_same_arguments_give_the_same_data_on_another_database(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    seed_org(engine, settings, "acme", 300, seed=5, days=30, until=UNTIL)
    other = build_engine(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    try:
        seed_org(other, settings, "acme", 300, seed=5, days=30, until=UNTIL)
        assert snapshot(engine, "acme") == snapshot(other, "acme")
        seed_org(other, settings, "beta", 300, seed=6, days=30, until=UNTIL)
        assert snapshot(other, "beta")["conversations"] != snapshot(other, "acme")["conversations"]
    finally:
        other.dispose()


def test_a_second_run_adds_more_and_reuses_the_agents(engine: Engine, settings: Settings) -> None:
    first = seed_org(engine, settings, "acme", 300, seed=1, days=20, until=UNTIL)
    before = snapshot(engine, "acme")
    second = seed_org(engine, settings, "acme", 300, seed=1, days=20, until=UNTIL)
    after = snapshot(engine, "acme")
    assert second.agents == first.agents and after["agents"] == before["agents"]
    assert len(after["conversations"]) == 600
    assert set(before["conversations"]) < set(after["conversations"])


def test_two_orgs_with_the_same_seed_coexist(engine: Engine, settings: Settings) -> None:
    seed_org(engine, settings, "acme", 200, seed=1, days=5, until=UNTIL)
    seed_org(engine, settings, "globex", 200, seed=1, days=5, until=UNTIL)
    acme, globex = snapshot(engine, "acme"), snapshot(engine, "globex")
    assert {a[0] for a in acme["agents"]}.isdisjoint(a[0] for a in globex["agents"])
    assert {c[0] for c in acme["conversations"]}.isdisjoint(c[0] for c in globex["conversations"])


@pytest.mark.parametrize(
    ("conversations", "days", "message"),
    [(-1, 90, "zero or more"), (10, 0, "at least one day")],
)
def test_invalid_arguments_are_refused_before_writing(
    engine: Engine, settings: Settings, conversations: int, days: int, message: str
) -> None:
    with pytest.raises(BadRequest, match=message):
        seed_org(engine, settings, "acme", conversations, days=days, until=UNTIL)
    assert count(engine, "orgs") == 0
    assert count(engine, "agents") == 0
    assert not settings.recordings_dir.exists()


def test_naive_until_is_refused(engine: Engine, settings: Settings) -> None:
    with pytest.raises(BadRequest, match="timezone"):
        seed_org(engine, settings, "acme", 10, until=datetime(2026, 1, 1))


def test_zero_conversations_with_the_default_window(engine: Engine, settings: Settings) -> None:
    report = seed_org(engine, settings, "acme", 0)
    assert report.conversations == 0 and report.agents >= 6
    assert count(engine, "conversations") == 0


def test_an_id_clash_with_a_stored_row_is_redrawn(engine: Engine, settings: Settings) -> None:
    seed_org(engine, settings, "acme", 0, until=UNTIL)
    org = org_id(engine, "acme")
    with engine.connect() as conn:
        agent_ids = list(
            conn.execute(select(tables.agents.c.id).where(tables.agents.c.org_id == org)).scalars()
        )
    agents = [make_seed_agent(agent_id, "Customer Care", [], "example.com") for agent_id in agent_ids]
    rows = list(generate_conversations(random.Random(2), 20, agents, UNTIL - timedelta(days=1), UNTIL, []))
    rng = random.Random(0)
    run._insert_batch(engine, org, rows[:10], rng)
    clash = replace(rows[10], id=rows[0].id, created_at=rows[0].created_at)
    run._insert_batch(engine, org, [clash, *rows[11:]], rng)
    assert count(engine, "conversations", org) == 20
    with engine.connect() as conn:
        ids = set(conn.execute(select(tables.conversations.c.id)).scalars())
    assert len(ids) == 20 and created_millis(max(ids - {r.id for r in rows})) == to_millis(rows[0].created_at)


def test_an_error_in_on_progress_stops_the_writers(engine: Engine, settings: Settings) -> None:
    def give_up(done: int) -> None:
        raise RuntimeError(f"stop at {done}")

    with pytest.raises(RuntimeError, match="stop at"):
        seed_org(engine, settings, "acme", 2000, days=5, until=UNTIL, on_progress=give_up, batch_size=100)
    # Nothing can write after seed_org returns: every thread it started has ended (waiting a while
    # and counting again would only show that none wrote during the wait).
    assert [t.name for t in threading.enumerate() if t.name.startswith("parley-seed")] == []
    assert 100 <= count(engine, "conversations") < 2000  # batches already in flight may land
