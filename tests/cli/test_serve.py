"""`parley serve --demo` on an empty SQLite file: migrates, seeds a demo, serves the API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_demo_starts_a_working_inbox(tmp_path: Path, workers: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "PARLEY_RECORDINGS_DIR": str(tmp_path / "rec"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--demo", "--port", str(port), "--workers", workers],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        token = subprocess.run(
            [sys.executable, "-m", "parley", "token", "create", "--org", "demo", "--scope", "conversations:read"],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        response = httpx.get(
            f"http://127.0.0.1:{port}/core/conversations?limit=5",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200
        assert len(response.json()["data"]) == 5
        # Any worker accepts the cursor any other worker issued.
        cursor = response.json()["next_cursor"]
        for _ in range(4):
            page = httpx.get(
                f"http://127.0.0.1:{port}/core/conversations?limit=5&cursor={cursor}",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert page.status_code == 200
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "admin@demo.parley.local" in stderr  # it told us how to log in
