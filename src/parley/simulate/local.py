"""What a simulation without ``--token`` takes from the configured database: the org, its agents,
and an org API key minted for the run (scope conversations:manage only) and revoked when it
ends, so no secret outlives it. Conversations themselves still go through the HTTP API.

The database must be the one the server uses; it is opened as it is, never created or migrated,
because a simulator pointed at the wrong place must not leave a new database behind.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind, prefix_of
from parley.db import tables
from parley.db.engine import SYSTEM, build_engine, normalize_url, write_connection
from parley.db.migrate import pending_revisions
from parley.errors import NotFound
from parley.simulate.api import SimulationError
from parley.simulate.source import KnownAgent

KEY_NAME = "parley simulate"


def open_existing(database_url: str) -> Engine:
    url = make_url(normalize_url(database_url))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database or "")
        if not path.exists():
            raise SimulationError(
                f"There is no database at {path}: set PARLEY_DATABASE_URL to the server's database, "
                "or pass --token with an org API key."
            )
    engine = build_engine(database_url)
    try:
        if pending_revisions(engine):
            raise SimulationError(
                "The database in PARLEY_DATABASE_URL is not up to date for this Parley (is it the "
                "server's database?); run parley db upgrade or pass --token."
            )
    except BaseException:
        engine.dispose()
        raise
    return engine


def org_id(engine: Engine, slug: str) -> int:
    """The org's id; an unknown org is a NotFound that names it."""
    with engine.connect() as connection:
        return service.get_org(connection, slug).id


def mint(engine: Engine, org: int, label: str = KEY_NAME) -> str:
    # write_connection: the server writes to the same database meanwhile, and on SQLite only a
    # transaction that takes the write lock at BEGIN waits its turn instead of failing.
    with write_connection(engine, org) as connection:
        return service.create_token(
            connection, TokenKind.API_KEY, frozenset({Scope.MANAGE}), org_id=org, name=label, by="simulate"
        )


def revoke(engine: Engine, secret: str) -> None:
    with write_connection(engine, SYSTEM) as connection, suppress(NotFound):  # someone revoked it already
        service.revoke_token(connection, prefix_of(secret), by="simulate")


def agents(engine: Engine, org: int) -> list[KnownAgent]:
    """Every agent of the org with its versions, in id order (the API lists none of this)."""
    a, v = tables.agents, tables.agent_versions
    with engine.connect() as connection:
        versions: dict[int, list[int]] = {}
        for row in connection.execute(select(v.c.agent_id, v.c.version).where(v.c.org_id == org)):
            versions.setdefault(row.agent_id, []).append(row.version)
        rows = connection.execute(select(a.c.id, a.c.name).where(a.c.org_id == org).order_by(a.c.id)).all()
    return [KnownAgent(str(r.id), r.name, tuple(sorted(versions.get(r.id, ())))) for r in rows]
