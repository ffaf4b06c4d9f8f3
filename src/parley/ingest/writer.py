"""Bulk writes of conversations with everything that hangs off them, search documents included.

Rows go to the driver as plain tuples rather than through SQLAlchemy's per-row parameter
handling, which cost more than the database itself did: on SQLite they are sent with one
``executemany`` per table, on PostgreSQL with ``COPY``, many times faster than multi-row INSERTs.
Values are converted by the columns' own bind processors, so what is stored is exactly what an
``insert()`` would have stored, and driver errors surface as the usual SQLAlchemy exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from parley.db import tables
from parley.db.search_tables import create_org_tables, idents_table, words_table
from parley.ingest.documents import identifiers, transcript_text
from parley.ingest.records import NewConversation

_Row = tuple[Any, ...]

_CONVERSATION_COLUMNS = (
    "org_id",
    "id",
    "created_at",
    "channel",
    "direction",
    "status",
    "agent_id",
    "agent_version",
    "user_id",
    "caller_name",
    "agent_number",
    "summary",
    "duration_seconds",
    "started_at",
    "ended_at",
    "has_recording",
    "participant_count",
    "external_id",
    "ended_reason",
    "sentiment",
    "successful",
)
_TURN_COLUMNS = ("org_id", "conversation_id", "seq", "speaker", "text", "offset_ms")
_PARTICIPANT_COLUMNS = ("org_id", "conversation_id", "address", "role")
_RECORDING_COLUMNS = (
    "org_id",
    "conversation_id",
    "seq",
    "blob_key",
    "content_type",
    "bytes",
    "duration_seconds",
    "created_at",
)


def search_identifiers(conversation: NewConversation) -> str:
    return identifiers(
        conversation.id,
        conversation.user_id,
        conversation.agent_number,
        (p.address for p in conversation.participants),
    )


def _transcript(conversation: NewConversation) -> str:
    return transcript_text(turn.text for turn in conversation.turns)


def insert_conversations(connection: Connection, org_id: int, batch: Sequence[NewConversation]) -> None:
    """Insert a batch with one bulk statement per table, inside the caller's transaction."""
    if not batch:
        return
    dialect = connection.dialect
    moment = _bind(tables.conversations.c.created_at, connection)
    flag = _bind(tables.conversations.c.has_recording, connection)
    rows: dict[str, tuple[tuple[str, ...], list[_Row]]] = {
        "conversations": (
            _CONVERSATION_COLUMNS,
            [
                (
                    org_id,
                    c.id,
                    moment(c.created_at),
                    c.channel,
                    c.direction,
                    c.status,
                    c.agent_id,
                    c.agent_version,
                    c.user_id,
                    c.caller_name,
                    c.agent_number,
                    c.summary,
                    c.duration_seconds,
                    moment(c.started_at),
                    moment(c.ended_at),
                    flag(bool(c.recordings)),
                    len(c.participants),
                    c.external_id,
                    c.ended_reason,
                    c.sentiment,
                    None if c.successful is None else flag(c.successful),
                )
                for c in batch
            ],
        ),
        "transcript_turns": (
            _TURN_COLUMNS,
            [
                (org_id, c.id, seq, t.speaker, t.text, t.offset_ms)
                for c in batch
                for seq, t in enumerate(c.turns)
            ],
        ),
        "conversation_tags": (
            ("org_id", "conversation_id", "tag"),
            [(org_id, c.id, tag) for c in batch for tag in c.tags],
        ),
        "participants": (
            _PARTICIPANT_COLUMNS,
            [(org_id, c.id, p.address, p.role) for c in batch for p in c.participants],
        ),
        "recordings": (
            _RECORDING_COLUMNS,
            [
                (
                    org_id,
                    c.id,
                    seq,
                    r.blob_key,
                    r.content_type,
                    r.bytes,
                    r.duration_seconds,
                    moment(c.ended_at or c.created_at),
                )
                for c in batch
                for seq, r in enumerate(c.recordings)
            ],
        ),
    }
    if dialect.name != "sqlite":
        # PostgreSQL's one search table, keyed like the conversation (see db/search_tables.py).
        rows["conversation_text"] = (
            ("org_id", "conversation_id", "summary", "caller_name", "transcript", "idents"),
            [(org_id, c.id, c.summary, c.caller_name, _transcript(c), search_identifiers(c)) for c in batch],
        )
    copies = dialect.name == "postgresql" and dialect.driver == "psycopg" and not _row_security(connection)
    bulk = _copy if copies else _insert_many
    for table, (columns, values) in rows.items():
        if values:
            bulk(connection, table, columns, values)
    if dialect.name == "sqlite":
        # The org's FTS5 tables, whose rowid is the conversation id (see db/search_tables.py).
        create_org_tables(connection, org_id)
        _insert_many(
            connection,
            words_table(org_id),
            ("rowid", "summary", "caller_name", "transcript"),
            [(c.id, c.summary, c.caller_name, _transcript(c)) for c in batch],
        )
        _insert_many(
            connection,
            idents_table(org_id),
            ("rowid", "idents"),
            [(c.id, search_identifiers(c)) for c in batch],
        )


def _row_security(connection: Connection) -> bool:
    """Whether row-level security (migration 0005) holds this connection's role: PostgreSQL
    refuses COPY FROM then, so rows go in as INSERTs. Asked once per pooled connection, as the
    role does not change; a superuser or a BYPASSRLS role keeps COPY."""
    active = connection.info.get("parley_row_security")
    if active is None:
        active = bool(connection.exec_driver_sql("SELECT row_security_active('conversations')").scalar())
        connection.info["parley_row_security"] = active
    return bool(active)


def _bind(column: Any, connection: Connection) -> Callable[[Any], Any]:
    """The conversion SQLAlchemy applies to a value of ``column`` before the driver sees it."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor if processor is not None else _unchanged


def _unchanged(value: Any) -> Any:
    return value


def _insert_many(connection: Connection, table: str, columns: Sequence[str], values: list[_Row]) -> None:
    # sqlite3 takes "?"; the PostgreSQL drivers a URL may name besides psycopg (which COPYs) take "%s".
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    marks = ", ".join(mark for _ in columns)
    connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)


def _copy(connection: Connection, table: str, columns: Sequence[str], values: list[_Row]) -> None:
    """Stream rows with psycopg's COPY on the connection's own transaction."""
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    dbapi = connection.dialect.loaded_dbapi
    try:
        with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except dbapi.Error as exc:
        # Raised as SQLAlchemy would have (IntegrityError for a duplicate, ...), so callers can
        # handle conflicts the same way on every database.
        raise DBAPIError.instance(statement, None, exc, dbapi.Error, dialect=connection.dialect) from exc
