"""What the database itself can do with the same rows: its own bulk CSV export, and the csv
module fed straight from the driver. These are the practical limits an export is held to."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from parley.conversations import queries
from parley.conversations.filters import ConversationFilters
from parley.conversations.visible import Visible


@dataclass(frozen=True, slots=True)
class BulkRun:
    rows: int
    bytes: int
    seconds: float


def export_sql(engine: Engine, org_id: int) -> str:
    """The export's own statement (same rows, same order) with its values inlined."""
    statement = queries.all_conversations(engine.dialect.name, Visible(org_id), ConversationFilters())
    return str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


class _CountingSink:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text)
        return len(text)


def sqlite_shell_export(shell: str, database: Path, sql: str) -> BulkRun:
    """``sqlite3 -csv`` writing the rows to a pipe that is read and dropped."""
    began = time.perf_counter()
    total = lines = 0
    with subprocess.Popen(
        [shell, "-readonly", "-csv", str(database), sql], stdout=subprocess.PIPE
    ) as process:
        assert process.stdout is not None
        while block := process.stdout.read1(256 * 1024):
            total += len(block)
            lines += block.count(b"\n")
    if process.returncode != 0:
        raise RuntimeError(f"sqlite3 -csv failed with status {process.returncode}")
    return BulkRun(lines, total, time.perf_counter() - began)


def sqlite_csv_module_export(database: Path, sql: str) -> BulkRun:
    """``csv.writer`` over a plain ``sqlite3`` cursor: the csv module alone, no transformation."""
    began = time.perf_counter()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        sink = _CountingSink()
        writer = csv.writer(sink, lineterminator="\r\n")
        cursor = connection.execute(sql)
        rows = 0
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            rows += len(batch)
    finally:
        connection.close()
    return BulkRun(rows, sink.bytes, time.perf_counter() - began)


def _psycopg_conninfo(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def postgres_copy_export(url: str, sql: str) -> BulkRun:
    """``COPY (SELECT …) TO STDOUT WITH CSV`` read through psycopg."""
    import psycopg

    began = time.perf_counter()
    total = lines = 0
    with (
        psycopg.connect(_psycopg_conninfo(url)) as connection,
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy,
    ):
        for block in copy:
            total += len(block)
            lines += 1
    return BulkRun(lines, total, time.perf_counter() - began)


def postgres_csv_module_export(url: str, sql: str) -> BulkRun:
    """``csv.writer`` over a psycopg server-side cursor."""
    import psycopg

    began = time.perf_counter()
    sink = _CountingSink()
    writer = csv.writer(sink, lineterminator="\r\n")
    rows = 0
    with psycopg.connect(_psycopg_conninfo(url)) as connection, connection.cursor(name="bench") as cursor:
        cursor.itersize = 2000
        cursor.execute(sql)
        while batch := cursor.fetchmany(2000):
            writer.writerows(batch)
            rows += len(batch)
    return BulkRun(rows, sink.bytes, time.perf_counter() - began)
