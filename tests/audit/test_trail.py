"""The buffered trail: entries reach the table on a flush and at stop, survive a database that
cannot take them (kept for the next flush), and nothing is recorded when it is off."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, func, select

from parley.audit.trail import Action, Actor, AuditTrail
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade

ACTOR = Actor(7, 3, "ak_0123456789", "10.0.0.1", sensitive=True)


def _count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(tables.audit_log)).scalar_one())


def test_entries_are_written_on_flush_and_at_stop(engine: Engine) -> None:
    trail = AuditTrail(engine, flush_seconds=3600)  # the thread never wakes by itself here
    trail.start()
    trail.record(ACTOR, Action.READ, target="42", rows=1)
    assert _count(engine) == 0  # buffered: the read did not wait for a write
    assert trail.flush() == 1
    trail.record(ACTOR, Action.EXPORT, rows=10, detail={"filters": [], "complete": True})
    trail.stop()
    with engine.connect() as connection:
        rows = connection.execute(select(tables.audit_log).order_by(tables.audit_log.c.id)).all()
    assert [(r.org_id, r.user_id, r.credential, r.client, r.action, r.target, r.rows) for r in rows] == [
        (7, 3, "ak_0123456789", "10.0.0.1", "conversation.read", "42", 1),
        (7, 3, "ak_0123456789", "10.0.0.1", "export", None, 10),
    ]
    assert rows[1].detail == '{"filters":[],"complete":true}'


def test_entries_wait_for_a_database_that_cannot_take_them(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'later.db'}")  # no tables yet: every write fails
    try:
        trail = AuditTrail(engine)
        for n in range(3):
            trail.record(ACTOR, Action.READ, target=str(n))
        assert trail.flush() == 0
        upgrade(engine)
        trail.record(ACTOR, Action.READ, target="3")
        assert trail.flush() == 4
        with engine.connect() as connection:
            targets = connection.execute(select(tables.audit_log.c.target).order_by(tables.audit_log.c.id))
            assert list(targets.scalars()) == ["0", "1", "2", "3"]  # in the order they happened
    finally:
        engine.dispose()


def test_a_trail_turned_off_records_nothing(engine: Engine) -> None:
    trail = AuditTrail(engine, enabled=False)
    trail.record(ACTOR, Action.LOGIN)
    with engine.begin() as connection:
        trail.record_in(connection, ACTOR, Action.CREATE, target="1")
    assert trail.flush() == 0 and _count(engine) == 0
