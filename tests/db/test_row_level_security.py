"""Row-level security on PostgreSQL (migration 0005): connected as the non-owner role parley_app,
a query that forgets its org filter sees only the org the connection was opened for, nothing
with no org, every org in the system scope; and the audit trail refuses changes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from parley.db.engine import SYSTEM, build_engine, read_connection, write_connection
from tests.conftest import owner_url
from tests.factories import BASE_TIME, OrgFixture, conversation, insert_all, make_org

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


@pytest.fixture
def orgs(engine: Engine) -> tuple[OrgFixture, OrgFixture]:
    rng = random.Random(5)
    acme, globex = make_org(engine, "acme", 100), make_org(engine, "globex", 200)
    insert_all(engine, acme, [conversation(rng, BASE_TIME + timedelta(minutes=n), 100) for n in range(3)])
    insert_all(engine, globex, [conversation(rng, BASE_TIME + timedelta(minutes=n), 200) for n in range(2)])
    return acme, globex


@pytest.fixture
def app_engine(database_url: str) -> Iterator[Engine]:
    """The server's engine (no org until a connection names one), connected as parley_app."""
    url = make_url(database_url)
    options = str(url.query.get("options", ""))
    if "-crole=" not in options:
        url = url.update_query_dict({"options": f"{options} -crole=parley_app"})
    engine = build_engine(url.render_as_string(hide_password=False), system=False)
    yield engine
    engine.dispose()


def _org_ids(connection: object) -> list[int]:
    rows = connection.execute(text("SELECT org_id FROM conversations"))  # type: ignore[attr-defined]
    return sorted(row.org_id for row in rows)


def test_a_query_without_an_org_filter_sees_only_the_connection_org(
    app_engine: Engine, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    acme, globex = orgs
    with app_engine.connect() as connection:
        assert connection.execute(text("SELECT current_user")).scalar() == "parley_app"
        assert _org_ids(connection) == []  # no org named: nothing
    with read_connection(app_engine, acme.id) as connection:
        assert _org_ids(connection) == [acme.id] * 3
        assert connection.execute(text("SELECT count(*) FROM transcript_turns")).scalar() == 6
    with read_connection(app_engine, globex.id) as connection:  # the same pooled connection, re-aimed
        assert _org_ids(connection) == [globex.id] * 2
    with write_connection(app_engine, acme.id) as connection:
        assert _org_ids(connection) == [acme.id] * 3
    with read_connection(app_engine, None) as connection:
        assert _org_ids(connection) == []
    with read_connection(app_engine, SYSTEM) as connection:
        assert _org_ids(connection) == sorted([acme.id] * 3 + [globex.id] * 2)


def test_a_write_for_another_org_is_refused(app_engine: Engine, orgs: tuple[OrgFixture, OrgFixture]) -> None:
    acme, globex = orgs
    with pytest.raises(DBAPIError, match="row-level security"), write_connection(app_engine, acme.id) as c:
        c.execute(text("UPDATE agents SET name = 'x' WHERE org_id = :o"), {"o": globex.id})  # sees none
        c.execute(
            text("INSERT INTO agents (org_id, id, name, created_at) VALUES (:o, 999, 'x', now())"),
            {"o": globex.id},
        )
    with read_connection(app_engine, globex.id) as connection:
        names = connection.execute(text("SELECT name FROM agents ORDER BY id")).scalars().all()
    assert names == ["Billing Assistant", "Appointment Scheduler"]


def test_the_audit_trail_is_append_only(
    app_engine: Engine, database_url: str, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    acme, _ = orgs
    owner = build_engine(owner_url(database_url))
    insert = text("INSERT INTO audit_log (at, org_id, action) VALUES (now(), :o, 'export')")
    with write_connection(app_engine, acme.id) as connection:
        connection.execute(insert, {"o": acme.id})
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError), write_connection(app_engine, SYSTEM) as connection:
            connection.execute(text(statement))
        # Even the tables' owner: the trigger holds for every role.
        with pytest.raises(DBAPIError, match="append-only"), write_connection(owner, SYSTEM) as connection:
            connection.execute(text(statement))
    owner.dispose()
    with read_connection(app_engine, acme.id) as connection:
        exports = text("SELECT count(*) FROM audit_log WHERE action = 'export'")
        assert connection.execute(exports).scalar() == 1
