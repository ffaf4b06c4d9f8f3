"""What a client may send to `parley serve` before the app sees its request: a slow client is
cut off, a huge head is refused with the right status, and ordinary requests are untouched."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.cli.test_serve import free_port
from tests.faults import wait_until

HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp_path: Path = tmp_path_factory.mktemp("limits")
    port = free_port()
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "PARLEY_RECORDINGS_DIR": str(tmp_path / "rec"),
        "PARLEY_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "PARLEY_MAX_URL_BYTES": "2048",
        "PARLEY_MAX_HEADER_BYTES": "4096",
        "PARLEY_MAX_HEADERS": "20",
        "PARLEY_WORKERS_ENABLED": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        assert process.poll() is None, "parley serve exited"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(up, "parley serve to answer", 60)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def exchange(port: int, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` on a fresh connection; the status, headers and body of the answer, read
    until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, body = rest.partition(b"\r\n\r\n")
    headers = dict(
        line.decode().lower().split(": ", 1) for line in header_block.split(b"\r\n") if b": " in line
    )
    return int(status_line.split()[1]), headers, body


@pytest.mark.slow
def test_an_ordinary_request_is_answered(server: int) -> None:
    status, _, body = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (status, body) == (200, b'{"status":"ok"}')


@pytest.mark.slow
def test_a_long_url_is_answered_414(server: int) -> None:
    head = b"GET /healthz?q=" + b"a" * 3000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    status, headers, body = exchange(server, head)
    assert status == 414
    assert headers["content-type"] == "application/problem+json"
    assert b"uri-too-long" in body


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        b"X-Big: " + b"b" * 5000 + b"\r\n",  # one header too large
        b"".join(b"X-H%d: v\r\n" % n for n in range(30)),  # too many headers
        b"X-Endless: " + b"c" * 200_000,  # a header line that never ends, sent at once
    ],
    ids=["one-large-header", "too-many-headers", "endless-header"],
)
def test_oversized_headers_are_answered_431(server: int, headers: bytes) -> None:
    status, answer_headers, body = exchange(
        server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    )
    assert status == 431
    assert answer_headers["connection"] == "close"
    assert b"request-header-fields-too-large" in body


@pytest.mark.slow
def test_a_client_sending_headers_byte_by_byte_is_disconnected(server: int) -> None:
    # Far more bytes, at this pace, than the header timeout lets through: the server must hang up
    # (with a 408) while the client is still sending.
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        try:
            for byte in head:
                sock.sendall(bytes([byte]))
                sent += 1
                time.sleep(HEADER_TIMEOUT / 20)
                if _readable(sock):  # the server answered (and hung up)
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert sent < len(head), "the server let a slow client send its headers for ever"
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]


@pytest.mark.slow
def test_a_client_that_connects_and_says_nothing_is_disconnected(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        answer = sock.recv(65536)  # blocks until the server speaks or hangs up
    assert answer.startswith(b"HTTP/1.1 408 ")


def _readable(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)
