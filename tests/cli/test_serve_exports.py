"""A few dozen clients ask a running `parley serve` for an export and stop reading: another org's
list and /healthz keep answering, and once the clients go, exports work again."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine

from tests.api.conftest import bearer
from tests.cli.test_serve import free_port
from tests.factories import BASE_TIME, OrgFixture, conversation, insert_all, make_org, varied_conversations

EXPORT = "/core/conversations/export.csv"
STALLED = 24
PER_PROCESS = 4
# Each row's summary is about 4 kB (the read_sensitive columns carry it): 10 MB of CSV, more than
# the kernel buffers for a client that does not read (up to 4 MB on Linux by default).
LARGE_ROWS = 2500


@contextmanager
def parley_serve(env: dict[str, str], cwd: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port)],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        yield base_url
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr


def stall(base_url: str, token: str) -> tuple[socket.socket, int]:
    """Request the export, read its status line and nothing more."""
    port = int(base_url.rsplit(":", 1)[1])
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.settimeout(30)
    client.connect(("127.0.0.1", port))
    client.sendall(f"GET {EXPORT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    head = b""
    while len(head) < 12:
        chunk = client.recv(12 - len(head))
        assert chunk, "the server hung up before its status line"
        head += chunk
    return client, int(head.split()[1])


def large_org(engine: Engine) -> OrgFixture:
    org = make_org(engine, "large", agent_base=3000)
    rng = random.Random(5)
    summary = "The caller asked about a refund for a damaged parcel and a replacement. " * 55
    insert_all(
        engine,
        org,
        [
            conversation(rng, BASE_TIME - timedelta(seconds=n), org.agent_ids[0], turns=(), summary=summary)
            for n in range(LARGE_ROWS)
        ],
    )
    return org


@pytest.mark.slow
def test_stalled_exporters_do_not_starve_other_orgs(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    large = large_org(engine)
    quiet = make_org(engine, "quiet", agent_base=4000)
    insert_all(engine, quiet, varied_conversations(quiet, 10))
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_RECORDINGS_DIR": str(tmp_path / "rec"),
        # Every stalled export is let in up to the process's budget, which is what is tested here.
        "PARLEY_EXPORTS_PER_ORG": str(STALLED),
        "PARLEY_EXPORTS_PER_PROCESS": str(PER_PROCESS),
        "PARLEY_EXPORT_SEND_TIMEOUT_SECONDS": "600",
    }
    with parley_serve(env, tmp_path) as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        with ExitStack() as sockets:
            stalled = [stall(base_url, large.tokens["sensitive"]) for _ in range(STALLED)]
            for client, _ in stalled:
                sockets.callback(client.close)
            statuses = sorted(status for _, status in stalled)
            assert statuses == [200] * PER_PROCESS + [429] * (STALLED - PER_PROCESS)

            reads = [http.get("/core/conversations", headers=bearer(quiet.tokens["read"])) for _ in range(40)]
            assert [r.status_code for r in reads] == [200] * 40
            assert all(len(r.json()["data"]) > 0 for r in reads)
            assert http.get("/readyz").status_code == 200
            # The budget is still full: the stalled exports held it through every read above.
            refused = http.get(EXPORT, headers=bearer(quiet.tokens["read"]))
            assert refused.status_code == 429
            assert "retry-after" in refused.headers

        # The stalled clients are gone: their slots and connections come back.
        deadline = time.monotonic() + 30
        while (export := http.get(EXPORT, headers=bearer(quiet.tokens["read"]))).status_code == 429:
            assert time.monotonic() < deadline, "the stalled exports never gave their slots back"
            time.sleep(0.2)
        listed = http.get("/core/conversations?limit=200", headers=bearer(quiet.tokens["read"])).json()[
            "data"
        ]
        assert export.text.count("\r\n") == len(listed) + 1
        full = http.get(EXPORT, headers=bearer(large.tokens["sensitive"]))
        assert full.status_code == 200
        assert full.text.count("\r\n") == LARGE_ROWS + 1
