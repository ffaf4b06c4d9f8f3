"""Engines for SQLite and PostgreSQL, set up the way Parley needs them."""

from __future__ import annotations

import math
import select
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from parley.db import scope
from parley.db.scope import ORG_SETTING, SYSTEM, OrgScope

__all__ = [
    "ORG_SETTING",
    "SYSTEM",
    "DatabaseLimits",
    "OrgScope",
    "build_engine",
    "build_export_engine",
    "normalize_url",
    "read_connection",
    "write_connection",
]

# How long SQLite waits for another writer's lock when no statement limit is given.
_SQLITE_BUSY_DEFAULT_SECONDS = 30.0
# Past the statement limit the server cancels the statement itself; only a database that sends
# nothing at all for up to this much longer (or the limit itself, if shorter) is given up on by
# the client.
_ANSWER_GRACE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DatabaseLimits:
    """How long Parley waits on its database before it answers 503 instead.

    ``connect_seconds``: to open a connection. ``statement_seconds``: for one statement (None: no
    limit): PostgreSQL cancels a statement running longer; SQLite has no such cancel, so there it
    bounds only the wait for another writer's lock (the busy timeout). ``pool_seconds``: for a
    free connection of the pool. ``answer_seconds``: for any answer from PostgreSQL, after which
    the client drops the connection (None: no limit): a server that accepts a statement and then
    says nothing sends no cancel either, and would hold a thread for ever."""

    connect_seconds: float = 5.0
    statement_seconds: float | None = None
    pool_seconds: float = 30.0
    answer_seconds: float | None = None

    @classmethod
    def serving(cls, connect: float, statement: float | None, pool: float) -> DatabaseLimits:
        """The limits of a serving process; the answer limit follows from the statement limit."""
        answer = None if statement is None else statement + min(statement, _ANSWER_GRACE_SECONDS)
        return cls(connect, statement, pool, answer)

    def unbounded_statements(self) -> DatabaseLimits:
        """For the CLI's seeds and migrations, whose statements run as long as they need."""
        return replace(self, statement_seconds=None, answer_seconds=None)

    def for_streams(self) -> DatabaseLimits:
        """The limits of the export engine: an export's COPY is one statement that lasts as long
        as its download, so the server must not cancel it; the client still stops waiting on a
        database that sends nothing for ``answer_seconds``."""
        return replace(self, statement_seconds=None)


def normalize_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form and use psycopg 3 for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(
    url: str, *, limits: DatabaseLimits | None = None, system: bool = True, **kwargs: Any
) -> Engine:
    """An engine on ``url``. ``limits`` bound every wait on the database; without them, only
    connecting is bounded (the CLI's seeds and migrations run statements as long as they need).
    ``system``: connections start in the "system" scope, for tools and jobs that work across
    orgs (the CLI, seeding, tests). The server's engine passes False, so a connection there sees
    no org's rows until ``read_connection``/``write_connection`` names the org."""
    url = normalize_url(url)
    limits = limits or DatabaseLimits()
    kwargs.setdefault("pool_timeout", limits.pool_seconds)
    # Hand out the connection used last: its page cache (SQLite) and prepared statements (psycopg
    # prepares a statement on its fifth use on a connection) stay warm, rather than every request
    # landing on the pooled connection that has waited longest.
    if url.startswith("sqlite"):
        if make_url(url).database not in (None, "", ":memory:"):  # in-memory uses a one-connection pool
            kwargs.setdefault("pool_use_lifo", True)
        busy = limits.statement_seconds or _SQLITE_BUSY_DEFAULT_SECONDS
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy}, **kwargs)

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            _sqlite_on_connect(dbapi_connection, math.ceil(busy * 1000))

        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_use_lifo", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it cost a round trip on every checkout, a fifth of a list request. A checkout
    # looks instead, with one poll of the socket, whether the server has closed the connection
    # (a restart, pg_terminate_backend); recycling bounds how stale one can get.
    kwargs.setdefault("pool_recycle", 1800)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "postgresql":
        _postgres_limits(engine, limits)
        scope.install(engine, system=system)  # row-level security: which org's rows it sees
    return engine


def build_export_engine(engine: Engine, size: int, limits: DatabaseLimits | None = None) -> Engine | None:
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
        limits=(limits or DatabaseLimits()).for_streams(),
        system=False,
        pool_size=size,
        max_overflow=0,
        pool_timeout=5,
    )


WRITE_OPTION = "parley_write"


# Orgs whose events a write transaction appended (``ingest.events``), and the engine's listener
# told of them once that transaction has committed: the live feeds (``app.py`` sets it).
CHANGED_ORGS = "parley_changed_orgs"
ON_COMMIT = "parley_on_commit"
# Work a write transaction leaves to its very end (``connection.info``, a list of callables run
# just before the commit, in order): the event log's appends, so that the org's counter row is
# locked from there to the commit only (``ingest.events``).
BEFORE_COMMIT = "parley_before_commit"


@contextmanager
def write_connection(engine: Engine, org: OrgScope) -> Iterator[Connection]:
    """A connection in a transaction for one write: committed when the block ends, rolled back
    if it raises. On SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE).
    Every write path goes through here, so here is where live viewers learn of a commit.
    ``org``: whose rows the transaction may see and write on PostgreSQL (``SYSTEM``: every org's)."""
    with scope.checkout(engine) as connection:
        connection = connection.execution_options(**{WRITE_OPTION: True})
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    scope.aim_transaction(connection, org)
                yield connection
                for last in connection.info.pop(BEFORE_COMMIT, []):
                    last(connection)
        except BaseException:
            connection.info.pop(CHANGED_ORGS, None)
            connection.info.pop(BEFORE_COMMIT, None)
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


def _sqlite_on_connect(dbapi_connection: Any, busy_ms: int) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _sqlite_on_begin), the documented way to get real
    # transactions from the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets the inbox read while a seed or an ingest writes; NORMAL sync is safe with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    # 4 MiB of page cache per connection: a list page touches a few dozen pages, and the
    # operating system caches the file for every connection at once. At 64 MiB, a pool of
    # connections could hold most of a gigabyte of copies; 4 and 16 MiB measured the same
    # list and search times at a million rows.
    cursor.execute("PRAGMA cache_size=-4096")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _postgres_limits(engine: Engine, limits: DatabaseLimits) -> None:
    """Connect with ``limits``: a connect timeout, the statement timeout set on each new session,
    a client-side wait for answers, and a checkout that discards connections the server closed."""
    from parley.db.answering import answering_connection_class  # psycopg: the postgres extra

    connection_class = answering_connection_class(limits.answer_seconds)
    statement_ms = 0 if limits.statement_seconds is None else math.ceil(limits.statement_seconds * 1000)

    @event.listens_for(engine, "do_connect")
    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        # libpq takes whole seconds (and treats less than 2 as 2).
        cparams.setdefault("connect_timeout", max(2, math.ceil(limits.connect_seconds)))
        return connection_class.connect(*cargs, **cparams)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Parley's queries walk an index and stop after a page; starting parallel workers costs
        # more (several ms) than the queries take, and on a small machine they compete with the
        # other requests for the same cores. One statement: one round trip.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', '0', false),"
                " set_config('statement_timeout', %s, false)",
                (f"{statement_ms}ms",),
            )
        dbapi_connection.commit()

    event.listen(engine, "checkout", _discard_if_closed_by_server)


def _discard_if_closed_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """An idle connection has nothing to read: if its socket is readable, the server has sent its
    goodbye (a terminated backend, a restart) or closed it. Raising DisconnectionError makes the
    pool throw it away and hand out a fresh one, so the request never sees it."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise exc.DisconnectionError("the connection was closed")
    # poll, not select: select cannot watch a descriptor above 1023, which a process with many
    # open streams reaches.
    poller = select.poll()
    try:
        poller.register(dbapi_connection.pgconn.socket, select.POLLIN)
    except Exception as error:  # psycopg: "the connection is lost"
        raise exc.DisconnectionError("the connection's socket is gone") from error
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed the connection")


def _sqlite_on_begin(conn: Any) -> None:
    # A write transaction takes SQLite's write lock when it begins: one that read first and
    # then asked for it would fail at once ("database is locked") whenever another writer got
    # there in between, without waiting for the busy timeout.
    immediate = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
