"""Running the export query and sending its bytes: in chunks of 64 KiB or more, from one
streaming database cursor, on a thread that reads a few chunks ahead of the client.

On PostgreSQL the rows leave the server through ``COPY … TO STDOUT (FORMAT csv)``; on SQLite the
query returns each finished CSV line. The output is what ``csv.writer`` (``QUOTE_MINIMAL``,
``\\r\\n`` line ends) writes for the same cells; a test pins the two together byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Select

from parley.conversations import queries
from parley.conversations.export.line_ends import LineEnds
from parley.conversations.export.quoting import LINE_END
from parley.conversations.export.statement import export_statement, header_line, spans_for
from parley.conversations.filters import ConversationFilters
from parley.conversations.links import Links
from parley.conversations.policy import Access
from parley.db.engine import read_connection
from parley.read_ahead import read_ahead

_CHUNK_BYTES = 64 * 1024
_BATCH_ROWS = 2000
_EXPORT_CACHE_KIB = 2048
_READ_AHEAD_CHUNKS = 4


# Told, once the export has stopped, how many rows it read and whether it read them all.
OnEnd = Callable[[int, bool], None]


class _Rows:
    count = 0


def stream_csv(
    engine: Engine,
    access: Access,
    filters: ConversationFilters,
    links: Links,
    zone: ZoneInfo,
    on_end: OnEnd | None = None,
) -> Generator[bytes, None, None]:
    """The CSV's bytes. The statement is built here, eagerly, so a bad filter fails before the
    response starts; nothing touches the database until the first chunk is asked for, and closing
    the generator closes the cursor and gives the connection back."""
    queries.all_conversations(engine.dialect.name, access.visible, filters)
    chunks = _write_csv(engine, access, filters, links, zone, on_end)
    return read_ahead(chunks, _READ_AHEAD_CHUNKS, name="parley-export")


def _write_csv(
    engine: Engine,
    access: Access,
    filters: ConversationFilters,
    links: Links,
    zone: ZoneInfo,
    on_end: OnEnd | None,
) -> Generator[bytes, None, None]:
    # The first chunk comes once the connection, the zone's spans and the statement are ready:
    # the response asks for it before it sends its status, so a failure here is still an error
    # answer, not a download that stops after its header line.
    rows, complete = _Rows(), False
    try:
        with read_connection(engine, access.org_id) as connection:
            dialect = connection.dialect.name
            spans = spans_for(connection, access.visible, zone)
            statement = export_statement(dialect, access, filters, links, spans)
            yield header_line(access).encode()
            if dialect == "sqlite":
                yield from _sqlite_lines(connection, statement, rows)
            else:
                yield from _copy_csv(connection, statement, rows)
        complete = True
    finally:
        if on_end is not None:
            on_end(rows.count, complete)


def _sqlite_lines(connection: Connection, statement: Select[Any], rows_read: _Rows) -> Iterator[bytes]:
    # SQLite's own page cache would keep up to its full size of pages that a scan reads once;
    # a small one while exporting keeps the server's memory flat.
    cache_size = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{_EXPORT_CACHE_KIB}")
    try:
        result = connection.execute(statement)
        # Each row is one finished line: read them straight off the driver's cursor, which
        # SQLite fills lazily; SQLAlchemy's per-row handling cost more than the rest together.
        cursor = result.cursor
        while rows := cursor.fetchmany(_BATCH_ROWS):
            rows_read.count += len(rows)
            yield (LINE_END.join([row[0] for row in rows]) + LINE_END).encode()
        result.close()
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {cache_size}")


def _copy_csv(connection: Connection, statement: Select[Any], rows_read: _Rows) -> Iterator[bytes]:
    """``COPY (query) TO STDOUT (FORMAT csv)``: PostgreSQL quotes the cells itself.

    COPY takes no server-side parameters, so psycopg binds them on the client, with its own
    escaping."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    sql = f"COPY ({compiled}) TO STDOUT (FORMAT csv)"
    # construct_params() skips the column types' bind processing; UTCDateTime's is to convert to
    # UTC, without which an offset PostgreSQL cannot parse (+16:00 is valid RFC 3339) fails COPY.
    params = {
        name: value.astimezone(UTC) if isinstance(value, datetime) else value
        for name, value in compiled.construct_params().items()
    }
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    line_ends = LineEnds()
    with driver_connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        pending: list[bytes] = []
        size = 0
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= _CHUNK_BYTES:
                chunk = line_ends.convert(b"".join(pending))
                rows_read.count = line_ends.lines
                yield chunk
                pending, size = [], 0
        if pending:
            chunk = line_ends.convert(b"".join(pending))
            rows_read.count = line_ends.lines
            yield chunk
