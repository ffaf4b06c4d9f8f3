"""Engines for SQLite and PostgreSQL, set up the way Parley needs them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from parley.db import scope
from parley.db.scope import ORG_SETTING, SYSTEM, OrgScope

__all__ = ["ORG_SETTING", "SYSTEM", "OrgScope", "build_engine", "read_connection", "write_connection"]


def normalize_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, *, system: bool = True, **kwargs: Any) -> Engine:
    """``system``: connections start in the "system" scope, for tools and jobs that work across
    orgs (the CLI, seeding, tests). The server's engine passes False, so a connection there sees
    no org's rows until ``read_connection``/``write_connection`` names the org."""
    url = normalize_url(url)
    # Hand out the connection used last: its page cache (SQLite) and prepared statements (psycopg
    # prepares a statement on its fifth use on a connection) stay warm, rather than every request
    # landing on the pooled connection that has waited longest.
    if url.startswith("sqlite"):
        if make_url(url).database not in (None, "", ":memory:"):  # in-memory uses a one-connection pool
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it cost a round trip on every checkout, a fifth of a list request. A connection
    # the server dropped fails its request once; SQLAlchemy then sees the disconnect and
    # replaces every pooled connection, and recycling bounds how stale one can get.
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_on_connect)
        scope.install(engine, system=system)  # row-level security: which org's rows it sees
    return engine


def build_export_engine(engine: Engine, size: int) -> Engine | None:
    """A second engine on ``engine``'s database for long streams (CSV exports): a pool of exactly
    ``size`` connections and no overflow, so however long streams hold theirs, the requests' pool
    is untouched. None for an in-memory SQLite database, which a second engine would not see."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    # The caller hands out at most ``size`` streams at once, so a checkout never waits; the short
    # timeout turns a miscount into an error rather than a hang.
    return build_engine(
        url.render_as_string(hide_password=False),
        system=False,
        pool_size=size,
        max_overflow=0,
        pool_timeout=5,
    )


_WRITE_OPTION = "parley_write"


# Orgs whose events a write transaction appended (``ingest.events``), and the engine's listener
# told of them once that transaction has committed: the live feeds (``app.py`` sets it).
CHANGED_ORGS = "parley_changed_orgs"
ON_COMMIT = "parley_on_commit"


@contextmanager
def write_connection(engine: Engine, org: OrgScope) -> Iterator[Connection]:
    """A connection in a transaction for one write: committed when the block ends, rolled back
    if it raises. On SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE).
    Every write path goes through here, so here is where live viewers learn of a commit.
    ``org``: whose rows the transaction may see and write on PostgreSQL (``SYSTEM``: every org's)."""
    with scope.checkout(engine) as connection:
        connection = connection.execution_options(**{_WRITE_OPTION: True})
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    scope.aim_transaction(connection, org)
                yield connection
        except BaseException:
            connection.info.pop(CHANGED_ORGS, None)
            raise
        changed: set[int] = connection.info.pop(CHANGED_ORGS, set())
        listener = engine.get_execution_options().get(ON_COMMIT)
        if listener is not None:
            for org_id in changed:
                listener(org_id)


@contextmanager
def read_connection(engine: Engine, org: OrgScope) -> Iterator[Connection]:
    """A connection for work that only reads, given back to the pool when the block ends.
    ``org``: whose rows it may see on PostgreSQL (``SYSTEM``: every org's; None: no org's).

    On PostgreSQL it runs in autocommit: BEGIN and COMMIT would each cost a round trip, and a
    list page reads one snapshot per statement just as well. On SQLite a transaction is local
    and cheap, and keeps the WAL snapshot steady across the request's queries."""
    with scope.checkout(engine) as connection:
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        with connection.begin():
            if postgres:
                scope.aim_session(connection, org)
            yield connection


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin), the documented way to get real
    # transactions from the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the inbox read while a seed or an ingest writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 4 MiB of page cache per connection: a list page touches a few dozen pages, and the
    # operating system caches the file for every connection at once. At 64 MiB, a pool of
    # connections could hold most of a gigabyte of copies; 4 and 16 MiB measured the same
    # list and search times at a million rows.
    cursor.execute("PRAGMA cache_size=-4096")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _postgres_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Parley's queries walk an index and stop after a page; starting parallel workers costs
    # more (several ms) than the queries take, and on a small machine they compete with the
    # other requests for the same cores.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET max_parallel_workers_per_gather = 0")
    dbapi_connection.commit()


def _sqlite_on_begin(conn: Any) -> None:
    # A write transaction takes SQLite's write lock when it begins: one that read first and
    # then asked for it would fail at once ("database is locked") whenever another writer got
    # there in between, without waiting for the busy timeout.
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
