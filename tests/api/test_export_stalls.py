"""Clients that request an export and stop reading, over real sockets against a running server:
other orgs' reads keep being answered, and a stalled export lets go of its slot and connection.

The server listens on a socket with a small send buffer (accepted sockets inherit it), so the
kernel holds little for a client that does not read (at its defaults, megabytes). The large org
has enough rows that its export outlasts that and the chunks read ahead: a stalled export is
still holding its cursor and connection.
"""

from __future__ import annotations

import random
import socket
from contextlib import AbstractContextManager, ExitStack
from datetime import timedelta

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from parley.api.export_gate import ExportGate
from parley.app import create_app
from parley.config import Settings
from parley.db.engine import build_engine
from tests.api.conftest import bearer
from tests.factories import BASE_TIME, OrgFixture, conversation, insert_all, make_org, varied_conversations
from tests.faults import served, wait_until

EXPORT = "/core/conversations/export.csv"
# About 100 bytes of CSV a row. SQLite's export hands over 2,000 rows at a time and PostgreSQL's 64 kB:
# either way several more chunks than are read ahead, so inserting no more than that keeps it quick.
ROWS = {"sqlite": 20_000, "postgresql": 8_000}


def serve(app: FastAPI) -> AbstractContextManager[str]:
    return served(app, send_buffer=8192)


def stalled_export(base_url: str, token: str) -> tuple[socket.socket, int]:
    """Ask for the export and read its status line, then nothing more. Returns the socket (to
    hold open) and the status."""
    host, port = base_url.removeprefix("http://").split(":")
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.settimeout(30)
    client.connect((host, int(port)))
    client.sendall(f"GET {EXPORT} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    status_line = b""
    while len(status_line) < len(b"HTTP/1.1 200"):
        chunk = client.recv(len(b"HTTP/1.1 200") - len(status_line))
        assert chunk, "the server hung up before its status line"
        status_line += chunk
    return client, int(status_line.split()[1])


def large_org(engine: Engine, slug: str) -> OrgFixture:
    org = make_org(engine, slug, agent_base=3000)
    rng = random.Random(5)
    rows = [
        conversation(rng, BASE_TIME - timedelta(seconds=n), org.agent_ids[0], turns=())
        for n in range(ROWS[engine.dialect.name])
    ]
    insert_all(engine, org, rows)
    return org


@pytest.fixture
def orgs(engine: Engine) -> tuple[OrgFixture, OrgFixture]:
    """An org with a large export, and a quiet one whose reads must keep working."""
    quiet = make_org(engine, "quiet", agent_base=4000)
    insert_all(engine, quiet, varied_conversations(quiet, 10))
    return large_org(engine, "large"), quiet


def test_stalled_exports_leave_other_orgs_reads_answered(
    settings: Settings, engine: Engine, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    large, quiet = orgs
    # The requests' pool has two connections: were the exports on it, the two stalled ones would
    # take both and every read below would wait for the pool to give up, then answer 500.
    requests_engine = build_engine(settings.database_url, pool_size=2, max_overflow=0, pool_timeout=3)
    app = create_app(
        settings.model_copy(update={"threads": 1, "exports_per_org": 2, "export_send_timeout_seconds": 120}),
        requests_engine,
    )
    gate: ExportGate = app.state.exports.gate
    try:
        with serve(app) as base_url, ExitStack() as sockets:
            stalled = [stalled_export(base_url, large.tokens["read"]) for _ in range(8)]
            for client, _ in stalled:
                sockets.callback(client.close)
            assert sorted(status for _, status in stalled) == [200, 200] + [429] * 6

            with httpx.Client(base_url=base_url, timeout=30) as http:
                lists = [
                    http.get("/core/conversations", headers=bearer(quiet.tokens["read"])).status_code
                    for _ in range(20)
                ]
                assert lists == [200] * 20
                assert http.get("/readyz").status_code == 200
                assert http.get(EXPORT, headers=bearer(quiet.tokens["read"])).status_code == 200
                assert gate.running(large.id) == 2  # still stalled all along

                sockets.close()  # the stalled clients go away: their slots come back
                wait_until(lambda: gate.running() == 0, "the stalled exports' slots")
                export = http.get(EXPORT, headers=bearer(large.tokens["read"]))
                assert export.status_code == 200
                assert export.text.count("\r\n") == ROWS[engine.dialect.name] + 1
    finally:
        requests_engine.dispose()


def test_a_stalled_export_is_dropped_after_the_send_timeout(
    settings: Settings, engine: Engine, orgs: tuple[OrgFixture, OrgFixture]
) -> None:
    large, _ = orgs
    app = create_app(
        settings.model_copy(update={"exports_per_org": 1, "export_send_timeout_seconds": 1}), engine
    )
    gate: ExportGate = app.state.exports.gate
    export_engine: Engine = app.state.exports.engine
    with serve(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        client, status = stalled_export(base_url, large.tokens["read"])
        with client:
            assert status == 200
            assert http.get(EXPORT, headers=bearer(large.tokens["read"])).status_code == 429
            wait_until(lambda: gate.running() == 0, "the send timeout to free the slot")
            assert export_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            assert http.get(EXPORT, headers=bearer(large.tokens["read"])).status_code == 200

            # What the stalled client finally reads is cut off before the chunked body's end,
            # so it cannot be taken for a whole file.
            received = b""
            while data := client.recv(1 << 16):
                received += data
            assert b"text/csv" in received
            assert not received.endswith(b"0\r\n\r\n")
