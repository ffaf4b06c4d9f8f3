"""Each exported cell as a SQL expression, per dialect: the database writes them, Python never
touches a row. Formatting a million rows in Python took about ten times longer than the
database took to read them.

A cell builder takes the ``Cells`` of one export and returns a ``Cell``: the SQL text (None
becomes '') and whether it is text people entered, which alone can hold a comma, a quote or a
line break, or start like a formula (it is neutralised and quoted later, by the statement).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, case, cast, func, literal, null
from sqlalchemy import literal_column as sql_literal

from parley.conversations.enums import CHANNEL_LABELS, DIRECTION_LABELS, Status, status_label
from parley.conversations.export.quoting import neutralise, quote, sql_text
from parley.conversations.export.zones import ZoneSpan
from parley.conversations.links import Links
from parley.conversations.rows import a, c


class Cell(NamedTuple):
    sql: ColumnElement[str]
    entered: bool  # text people entered: neutralised and quoted by the statement


@dataclass(frozen=True, slots=True)
class Cells:
    """What the cells of one export depend on besides the row."""

    dialect: str
    spans: tuple[ZoneSpan, ...]
    links: Links


CellBuilder = Callable[[Cells], Cell]


def _integer_text(column: ColumnElement[int]) -> ColumnElement[str]:
    return cast(column, String)


def _labels(column: ColumnElement[str], labels: Iterable[tuple[str, str]]) -> ColumnElement[str]:
    """A label per stored value; an unknown value shows as itself."""
    return case({value: sql_text(label) for value, label in labels}, value=column, else_=column)


def _entered(column: ColumnElement[str]) -> Cell:
    return Cell(func.coalesce(column, ""), True)


def _fixed(cell: ColumnElement[str]) -> Cell:
    return Cell(cell, False)


def conversation_id(_cells: Cells) -> Cell:
    return _fixed(_integer_text(c.c.id))


def link(cells: Cells) -> Cell:
    prefix = neutralise(cells.links.conversation(0)[:-1])  # the cell starts with it: neutralise it whole
    # Quoted only if the base URL holds a comma or a quote: then treat it like entered text.
    return Cell(sql_text(prefix) + _integer_text(c.c.id), quote(prefix) != prefix)


def agent_name(_cells: Cells) -> Cell:
    return _entered(a.c.name)


def agent_version(_cells: Cells) -> Cell:
    return _fixed(func.coalesce(_integer_text(c.c.agent_version), ""))


def user_id(_cells: Cells) -> Cell:
    return _entered(c.c.user_id)


def caller_name(_cells: Cells) -> Cell:
    return _entered(c.c.caller_name)


def agent_number(_cells: Cells) -> Cell:
    return _entered(c.c.agent_number)


def summary(_cells: Cells) -> Cell:
    return _entered(c.c.summary)


def direction(_cells: Cells) -> Cell:
    return _fixed(_labels(c.c.direction, ((d.value, label) for d, label in DIRECTION_LABELS.items())))


def status(_cells: Cells) -> Cell:
    return _fixed(_labels(c.c.status, ((s.value, status_label(s.value)) for s in Status)))


def channel(_cells: Cells) -> Cell:
    return _fixed(_labels(c.c.channel, ((ch.value, label) for ch, label in CHANNEL_LABELS.items())))


def duration(cells: Cells) -> Cell:
    """``1h 02m 05s``, ``3m 07s``, ``42s``, as ``format.format_duration`` writes it."""
    d = c.c.duration_seconds
    if cells.dialect == "sqlite":
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
    text = case((d.is_(None), null()), (d >= 3600, hours), (d >= 60, minutes), else_=seconds)
    return _fixed(func.coalesce(text, ""))


def duration_seconds(_cells: Cells) -> Cell:
    return _fixed(func.coalesce(_integer_text(c.c.duration_seconds), ""))


def _offset_seconds(spans: tuple[ZoneSpan, ...]) -> ColumnElement[int] | int:
    if len(spans) == 1:
        return spans[0].offset
    whens = [(c.c.created_at < later.start, literal(span.offset)) for span, later in pairwise(spans)]
    return case(*whens, else_=literal(spans[-1].offset))


def _local(cells: Cells, sqlite_part: tuple[int, int], postgres_format: str) -> ColumnElement[str]:
    """Part of ``created_at`` in the export's zone: characters ``sqlite_part`` (start, length)
    of SQLite's 'YYYY-MM-DD HH:MM:SS', or PostgreSQL's to_char() of ``postgres_format``."""
    offset = _offset_seconds(cells.spans)
    if cells.dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC text: cut to the second, then shift.
        utc = func.substr(c.c.created_at, 1, 19)
        if offset == 0:
            local = utc
        elif isinstance(offset, int):
            local = func.datetime(utc, sql_text(f"{offset:+d} seconds"))
        else:
            local = func.datetime(utc, _integer_text(offset) + sql_text(" seconds"))
        return func.substr(local, *sqlite_part)
    shifted: ColumnElement[Any] = func.timezone("UTC", c.c.created_at)
    if offset != 0:
        shifted = shifted + offset * sql_literal("interval '1 second'")
    return func.to_char(shifted, postgres_format)


def date(cells: Cells) -> Cell:
    return _fixed(_local(cells, (1, 10), "YYYY-MM-DD"))


def time(cells: Cells) -> Cell:
    return _fixed(_local(cells, (12, 8), "HH24:MI:SS"))
