"""CSV export of a filtered view, streamed in constant memory, with the database writing the cells.

The columns follow the inbox; the sensitive ones are left out for principals without
read_sensitive. Cells a spreadsheet would run as a formula are neutralised (OWASP's advice:
prefix a single quote).

Every cell (labels, durations, local dates and times, neutralising) is computed in SQL, so
Python never touches a row: on PostgreSQL the rows leave the server through ``COPY … TO STDOUT
(FORMAT csv)``, on SQLite the query returns each finished CSV line. Formatting a million rows
in Python took about ten times longer than the database took to read them. The output is what
``csv.writer`` (``QUOTE_MINIMAL``, ``\\r\\n`` line ends) writes for the same cells.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy import literal_column as sql_literal

from parley.auth.principal import Principal
from parley.conversations import queries
from parley.conversations.enums import CHANNEL_LABELS, DIRECTION_LABELS, Status, status_label
from parley.conversations.filters import ConversationFilters
from parley.conversations.policy import Links
from parley.errors import BadRequest

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CSV_SPECIAL = (",", '"', "\r", "\n")  # what makes csv.writer quote a field (QUOTE_MINIMAL, \r\n)
_LINE_END = "\r\n"
_CHUNK_BYTES = 64 * 1024
_BATCH_ROWS = 2000
_EXPORT_CACHE_KIB = 2048
# Zone offsets are read at this step, then each change is narrowed down to the second.
_ZONE_PROBE = timedelta(hours=6)

# (header, is_sensitive)
COLUMNS: tuple[tuple[str, bool], ...] = (
    ("Conversation ID", False),
    ("Link", False),
    ("Agent", False),
    ("Agent Version", False),
    ("Caller ID", True),
    ("Caller Name", True),
    ("Agent Number", False),
    ("Direction", False),
    ("Status", False),
    ("Summary", True),
    ("Duration", False),
    ("Duration Seconds", False),
    ("Date", False),
    ("Time", False),
    ("Type", False),
)

c = queries.c
a = queries.a


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(
            f"tz {name!r} is not an IANA time zone name such as Europe/Paris.", parameter="tz"
        ) from None


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def headers(principal: Principal) -> list[str]:
    return [name for name, sensitive in COLUMNS if principal.sensitive or not sensitive]


def _csv_field(value: str) -> str:
    if any(ch in value for ch in _CSV_SPECIAL):
        return '"' + value.replace('"', '""') + '"'
    return value


def header_line(principal: Principal) -> str:
    return ",".join(_csv_field(h) for h in headers(principal)) + _LINE_END


# --- time zones --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """From ``start`` (inclusive; None: since ever) the zone is ``offset`` seconds ahead of UTC."""

    start: datetime | None
    offset: int


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    delta = moment.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def zone_spans(zone: ZoneInfo, first: datetime, last: datetime) -> list[ZoneSpan]:
    """The zone's UTC offsets between two instants, with the exact second each one starts."""
    spans = [ZoneSpan(None, _offset(zone, first))]
    probe = first
    while probe < last:
        following = min(probe + _ZONE_PROBE, last)
        if _offset(zone, following) != spans[-1].offset:
            low, high = probe, following  # the offset changes in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(zone, middle) == spans[-1].offset:
                    low = middle
                else:
                    high = middle
            start = high.replace(microsecond=0)
            if _offset(zone, start) == spans[-1].offset:
                start += timedelta(seconds=1)
            spans.append(ZoneSpan(start, _offset(zone, start)))
        probe = following
    return spans


def _org_time_range(connection: Connection, org_id: int) -> tuple[datetime, datetime] | None:
    """The oldest and newest conversation of the org: two index probes (min and max apart, as
    SQLite only optimises a lone min() or max())."""
    where = c.c.org_id == org_id
    oldest = connection.execute(select(func.min(c.c.created_at)).where(where)).scalar()
    newest = connection.execute(select(func.max(c.c.created_at)).where(where)).scalar()
    if oldest is None or newest is None:
        return None
    return oldest, newest


# --- cells in SQL -------------------------------------------------------------------------------


def _text(value: Any) -> ColumnElement[str]:
    return literal(value, String)


def _formula_prefix(cell: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    """ "'" before a cell a spreadsheet would run as a formula, else ''. Compares the first
    character's code point (unicode() on SQLite, ascii() on PostgreSQL): cheaper than substr()."""
    first = func.unicode(cell) if dialect == "sqlite" else func.ascii(cell)
    return case((first.in_([ord(s) for s in _FORMULA_STARTS]), _text("'")), else_=_text(""))


def _neutralised(cell: ColumnElement[str], dialect: str) -> ColumnElement[str]:
    return _formula_prefix(cell, dialect) + cell


def _labels(column: ColumnElement[str], labels: Iterable[tuple[str, str]]) -> ColumnElement[str]:
    """A label per stored value; an unknown value shows as itself."""
    return case({value: _text(label) for value, label in labels}, value=column, else_=column)


def _integer_text(column: ColumnElement[int]) -> ColumnElement[str]:
    return cast(column, String)


class _Cells:
    """The export's cells as SQL expressions, for one dialect."""

    def __init__(self, dialect: str, spans: list[ZoneSpan]) -> None:
        self.dialect = dialect
        self.spans = spans

    def duration(self) -> ColumnElement[str]:
        d = c.c.duration_seconds
        if self.dialect == "sqlite":
            hours = func.printf("%dh %02dm %02ds", d // 3600, (d % 3600) // 60, d % 60)
            minutes = func.printf("%dm %02ds", d // 60, d % 60)
            seconds = func.printf("%ds", d)
        else:

            def two(value: ColumnElement[int]) -> ColumnElement[str]:
                return func.lpad(_integer_text(value), 2, "0")

            hours = func.concat(d // 3600, "h ", two((d % 3600) // 60), "m ", two(d % 60), "s")
            minutes = func.concat(d // 60, "m ", two(d % 60), "s")
            seconds = func.concat(d, "s")
        # printf() and concat() would read NULL as 0 or ''; an unknown duration stays NULL.
        return case((d.is_(None), null()), (d >= 3600, hours), (d >= 60, minutes), else_=seconds)

    def _offset_seconds(self) -> ColumnElement[int] | int:
        if len(self.spans) == 1:
            return self.spans[0].offset
        whens = [
            (c.c.created_at < later.start, literal(span.offset))
            for span, later in zip(self.spans, self.spans[1:], strict=False)
        ]
        return case(*whens, else_=literal(self.spans[-1].offset))

    def date_and_time(self) -> tuple[ColumnElement[str], ColumnElement[str]]:
        offset = self._offset_seconds()
        if self.dialect == "sqlite":
            # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text: cut to the second, then shift.
            utc = func.substr(c.c.created_at, 1, 19)
            if offset == 0:
                local = utc
            elif isinstance(offset, int):
                local = func.datetime(utc, _text(f"{offset:+d} seconds"))
            else:
                local = func.datetime(utc, _integer_text(offset) + _text(" seconds"))
            return func.substr(local, 1, 10), func.substr(local, 12, 8)
        shifted: ColumnElement[Any] = func.timezone("UTC", c.c.created_at)
        if offset != 0:
            shifted = shifted + offset * sql_literal("interval '1 second'")
        return func.to_char(shifted, "YYYY-MM-DD"), func.to_char(shifted, "HH24:MI:SS")


def _cell_expressions(
    dialect: str, principal: Principal, links: Links, spans: list[ZoneSpan]
) -> list[tuple[ColumnElement[str], bool]]:
    """Each exported column as SQL text, in header order, with whether it is text people entered:
    only that can hold a comma, a quote or a line break, or start like a formula, and it is left
    un-neutralised here. None becomes ''."""
    cells = _Cells(dialect, spans)

    def entered(column: ColumnElement[str]) -> tuple[ColumnElement[str], bool]:
        # Left raw here: neutralised when quoted (SQLite) or in export_statement (PostgreSQL).
        return func.coalesce(column, ""), True

    def fixed(cell: ColumnElement[str]) -> tuple[ColumnElement[str], bool]:
        return cell, False

    link_prefix = neutralise(links.conversation(0)[:-1])  # the cell starts with it: neutralise it whole
    date, time = cells.date_and_time()
    columns = [
        fixed(_integer_text(c.c.id)),
        # Quoted only if the base URL holds a comma or a quote: then treat it like entered text.
        (_text(link_prefix) + _integer_text(c.c.id), _csv_field(link_prefix) != link_prefix),
        entered(a.c.name),
        fixed(func.coalesce(_integer_text(c.c.agent_version), "")),
    ]
    if principal.sensitive:
        columns += [entered(c.c.user_id), entered(c.c.caller_name)]
    columns += [
        entered(c.c.agent_number),
        fixed(_labels(c.c.direction, ((d.value, label) for d, label in DIRECTION_LABELS.items()))),
        fixed(_labels(c.c.status, ((s.value, status_label(s.value)) for s in Status))),
    ]
    if principal.sensitive:
        columns.append(entered(c.c.summary))
    columns += [
        fixed(func.coalesce(cells.duration(), "")),
        fixed(func.coalesce(_integer_text(c.c.duration_seconds), "")),
        fixed(date),
        fixed(time),
        fixed(_labels(c.c.channel, ((ch.value, label) for ch, label in CHANNEL_LABELS.items()))),
    ]
    return columns


def _sqlite_field(cell: ColumnElement[str]) -> ColumnElement[str]:
    """A user-entered cell as csv.writer writes it once neutralised: quoted when it holds a comma,
    a quote or a line break. The quote prefix holds none of those, so it can go inside the quotes;
    instr() is about twice as fast here as one GLOB with a character class."""
    special = or_(*(func.instr(cell, _text(ch)) > 0 for ch in _CSV_SPECIAL))
    prefix = _formula_prefix(cell, "sqlite")
    return case(
        (special, _text('"') + prefix + func.replace(cell, '"', '""') + _text('"')),
        else_=prefix + cell,
    )


def export_statement(
    dialect: str, principal: Principal, filters: ConversationFilters, links: Links, spans: list[ZoneSpan]
) -> Select[Any]:
    """The export query: on SQLite one finished CSV line per row, elsewhere one column per cell
    (empty cells as NULL, which COPY writes unquoted, as csv.writer writes '')."""
    listing = queries.all_conversations(dialect, principal.org_id, filters)
    cells = _cell_expressions(dialect, principal, links, spans)
    if dialect == "sqlite":
        parts = [_sqlite_field(cell) if entered else cell for cell, entered in cells]
        line = parts[0]
        for part in parts[1:]:
            line = line + _text(",") + part
        return listing.with_only_columns(line.label("line"))
    return listing.with_only_columns(
        *(
            func.nullif(_neutralised(cell, dialect) if entered else cell, "").label(f"c{n}")
            for n, (cell, entered) in enumerate(cells)
        )
    )


# --- streaming ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Export:
    engine: Engine
    principal: Principal
    filters: ConversationFilters
    links: Links
    zone: ZoneInfo


def stream_csv(
    engine: Engine, principal: Principal, filters: ConversationFilters, links: Links, zone: ZoneInfo
) -> Iterator[bytes]:
    """The CSV in chunks of 64 KiB or more, read from one streaming database cursor.

    The statement is built here, eagerly, so a bad filter fails before the response starts."""
    queries.all_conversations(engine.dialect.name, principal.org_id, filters)
    return _read_ahead(_write_csv(_Export(engine, principal, filters, links, zone)))


_DONE = object()
_READ_AHEAD_CHUNKS = 4
_POLL_SECONDS = 0.1


def _read_ahead(chunks: Generator[bytes, None, None]) -> Iterator[bytes]:
    """``chunks``, produced by a thread of their own a few chunks ahead of the reader.

    The database does most of the work (it writes the cells) and releases the GIL while it does,
    so reading the next rows can overlap with sending the last ones. At most
    ``_READ_AHEAD_CHUNKS`` wait in memory. When the reader stops early (the client went away),
    the producer stops too and closes the database cursor."""
    ready: queue.Queue[object] = queue.Queue(maxsize=_READ_AHEAD_CHUNKS)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the reader, which raises it
            offer(exc)
        finally:
            chunks.close()

    producer = threading.Thread(target=produce, name="parley-export", daemon=True)
    producer.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        producer.join()


def _write_csv(export: _Export) -> Generator[bytes, None, None]:
    yield header_line(export.principal).encode()
    with export.engine.connect() as connection:
        span = _org_time_range(connection, export.principal.org_id)
        # Up to now, not just the newest row: rows may arrive while the export runs.
        spans = (
            zone_spans(export.zone, span[0], max(span[1], datetime.now(UTC))) if span else [ZoneSpan(None, 0)]
        )
        dialect = connection.dialect.name
        statement = export_statement(dialect, export.principal, export.filters, export.links, spans)
        if dialect == "postgresql" and connection.dialect.driver == "psycopg":
            yield from _copy_csv(connection, statement)
        else:
            yield from _line_csv(connection, statement, dialect)


def _line_csv(connection: Connection, statement: Select[Any], dialect: str) -> Iterator[bytes]:
    if dialect != "sqlite":  # a PostgreSQL driver without COPY: build the lines in Python
        yield from _rows_csv(connection, statement)
        return
    # SQLite's own page cache would keep up to its full size (64 MiB) of pages that a scan
    # reads once; a small one while exporting keeps the server's memory flat.
    cache_size = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size = -{_EXPORT_CACHE_KIB}")
    try:
        result = connection.execute(statement)
        # Each row is one finished line: read them straight off the driver's cursor, which
        # SQLite fills lazily; SQLAlchemy's per-row handling cost more than the rest together.
        cursor = result.cursor
        while rows := cursor.fetchmany(_BATCH_ROWS):
            yield (_LINE_END.join([row[0] for row in rows]) + _LINE_END).encode()
        result.close()
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {cache_size}")


def _rows_csv(connection: Connection, statement: Select[Any]) -> Iterator[bytes]:
    result = connection.execution_options(stream_results=True, yield_per=_BATCH_ROWS).execute(statement)
    for rows in result.partitions():
        text = "".join(",".join(_csv_field(cell or "") for cell in row) + _LINE_END for row in rows)
        yield text.encode()


def _copy_csv(connection: Connection, statement: Select[Any]) -> Iterator[bytes]:
    """``COPY (query) TO STDOUT (FORMAT csv)``: PostgreSQL quotes the cells itself.

    COPY takes no server-side parameters, so psycopg binds them on the client, with its own
    escaping. COPY ends lines with \\n; they become \\r\\n outside quoted cells (a line break
    inside a cell is kept as it is, as csv.writer keeps it)."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    sql = f"COPY ({compiled}) TO STDOUT (FORMAT csv)"
    params = compiled.construct_params()
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    line_ends = _LineEnds()
    with driver_connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        pending: list[bytes] = []
        size = 0
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= _CHUNK_BYTES:
                yield line_ends.convert(b"".join(pending))
                pending, size = [], 0
        if pending:
            yield line_ends.convert(b"".join(pending))


class _LineEnds:
    """Turns \\n into \\r\\n outside quoted CSV cells, across chunk boundaries."""

    def __init__(self) -> None:
        self.quoted = False

    def convert(self, chunk: bytes) -> bytes:
        if b'"' not in chunk:
            return chunk if self.quoted else chunk.replace(b"\n", b"\r\n")
        parts = chunk.split(b'"')
        for n, part in enumerate(parts):
            if n:
                self.quoted = not self.quoted
            if not self.quoted:
                parts[n] = part.replace(b"\n", b"\r\n")
        return b'"'.join(parts)
