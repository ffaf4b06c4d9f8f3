"""CSV export of a filtered view, streamed row by row in constant memory.

The columns follow the inbox; the sensitive ones are left out for principals without
read_sensitive. Cells a spreadsheet would run as a formula are neutralised (OWASP's advice:
prefix a single quote).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine, Select

from parley.auth.principal import Principal
from parley.conversations import queries
from parley.conversations.enums import CHANNEL_LABELS, DIRECTION_LABELS, Channel, Direction, status_label
from parley.conversations.filters import ConversationFilters
from parley.conversations.format import format_duration
from parley.conversations.policy import Links
from parley.db import AnyRow
from parley.errors import BadRequest

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK_BYTES = 64 * 1024

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


def _cells(row: AnyRow, links: Links, zone: ZoneInfo, sensitive: bool) -> list[str]:
    local = row.created_at.astimezone(zone)
    cells = [
        str(row.id),
        links.conversation(row.id),
        row.agent_name or "",
        "" if row.agent_version is None else str(row.agent_version),
    ]
    if sensitive:
        cells += [row.user_id or "", row.caller_name or ""]
    cells += [
        row.agent_number or "",
        DIRECTION_LABELS[Direction(row.direction)],
        status_label(row.status),
    ]
    if sensitive:
        cells.append(row.summary or "")
    cells += [
        format_duration(row.duration_seconds) or "",
        "" if row.duration_seconds is None else str(row.duration_seconds),
        local.strftime("%Y-%m-%d"),
        local.strftime("%H:%M:%S"),
        CHANNEL_LABELS[Channel(row.channel)],
    ]
    return [neutralise(cell) for cell in cells]


def stream_csv(
    engine: Engine, principal: Principal, filters: ConversationFilters, links: Links, zone: ZoneInfo
) -> Iterator[bytes]:
    """The CSV in chunks of about 64 KiB, read from one streaming database cursor.

    The statement is built here, eagerly, so a bad filter fails before the response starts."""
    statement = queries.all_conversations(engine.dialect.name, principal.org_id, filters)
    return _write_csv(engine, statement, principal, links, zone)


def _write_csv(
    engine: Engine, statement: Select[Any], principal: Principal, links: Links, zone: ZoneInfo
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers(principal))
    with engine.connect() as connection:
        for row in queries.stream_rows(connection, statement):
            writer.writerow(_cells(row, links, zone, principal.sensitive))
            if buffer.tell() >= _CHUNK_BYTES:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue().encode()
