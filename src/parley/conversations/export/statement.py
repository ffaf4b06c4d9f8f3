"""The export query: the visible, filtered conversations with the principal's CSV columns as SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, func, select

from parley.conversations import queries
from parley.conversations.export.cells import Cells
from parley.conversations.export.quoting import line, sql_neutralised, sql_quoted, sql_text
from parley.conversations.export.zones import UTC_SPANS, ZoneSpan, zone_spans
from parley.conversations.filters import ConversationFilters
from parley.conversations.links import Links
from parley.conversations.policy import Access
from parley.conversations.rows import c
from parley.conversations.visible import Visible


def header_line(access: Access) -> str:
    return line([column.header for column in access.csv_columns()])


def spans_for(connection: Connection, visible: Visible, zone: ZoneInfo) -> tuple[ZoneSpan, ...]:
    """The zone's offsets from the org's oldest conversation to its newest or now, whichever is
    later (rows may arrive while the export runs). Each end is one probe of the time index."""
    ends = [
        connection.execute(select(c.c.created_at).where(visible.where).order_by(order).limit(1)).scalar()
        for order in (c.c.created_at.asc(), c.c.created_at.desc())
    ]
    oldest, newest = ends
    if oldest is None or newest is None:
        return UTC_SPANS
    return tuple(zone_spans(zone, oldest, max(newest, datetime.now(UTC))))


def export_statement(
    dialect: str, access: Access, filters: ConversationFilters, links: Links, spans: tuple[ZoneSpan, ...]
) -> Select[Any]:
    """On SQLite one finished CSV line per row; elsewhere one column per cell for COPY (empty
    cells as NULL, which COPY writes unquoted, as csv.writer writes '')."""
    listing = queries.all_conversations(dialect, access.visible, filters)
    context = Cells(dialect, spans, links)
    built = [column.cell(context) for column in access.csv_columns()]
    if dialect == "sqlite":
        parts = [sql_quoted(cell.sql) if cell.entered else cell.sql for cell in built]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + sql_text(",") + part
        return listing.with_only_columns(joined.label("line"))
    return listing.with_only_columns(
        *(
            func.nullif(sql_neutralised(cell.sql, dialect) if cell.entered else cell.sql, "").label(f"c{n}")
            for n, cell in enumerate(built)
        )
    )
