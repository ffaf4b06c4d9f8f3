"""A real ``parley serve`` in a subprocess on a free loopback port, for the simulator's tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parley_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "PARLEY_SECRET_KEY": "test-secret-key-not-for-production",
    }


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_server(
    env: dict[str, str], cwd: Path, *args: str, name: str = "server", port: int | None = None
) -> Iterator[Server]:
    """Start ``parley serve``, wait until /healthz answers, and stop it (SIGTERM) afterwards."""
    port = port or free_port()
    log = cwd / f"{name}.log"
    # A file, not a pipe: the server logs every request, and a full pipe would stall it.
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"http://127.0.0.1:{port}", log, process)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, server.output()
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.1)
        yield server
    except BaseException:
        print(f"--- the end of {log.name} ---\n{server.output()[-4000:]}")  # pytest shows it on failure
        raise
    finally:
        stop(server)


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def simulate(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``parley simulate`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "parley", "simulate", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
