"""A running ``parley serve`` over the test database: streams need a real server and sockets."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest

from parley.config import Settings
from tests.api.conftest import World, world  # noqa: F401  (the fixture, for the tests here)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    env: dict[str, str]
    port: int

    def stop(self) -> str:
        """Stop it; what it wrote to stderr (its log) is the answer."""
        if self.process.returncode is not None:
            return ""
        self.process.terminate()
        _, err = self.process.communicate(timeout=30)
        return err or ""


def start_server(
    settings: Settings, tmp_path: Path, port: int | None = None, extra: dict[str, str] | None = None
) -> Server:
    """``parley serve`` on the test's database; ``extra`` adds PARLEY_* settings."""
    port = port or free_port()
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": settings.database_url,
        "PARLEY_RECORDINGS_DIR": str(settings.recordings_dir),
        "PARLEY_SECRET_KEY": settings.secret_key or "",
        "PARLEY_PASSWORD_TIME_COST": "1",
        "PARLEY_PASSWORD_MEMORY_KIB": "64",
        "PARLEY_LIVE_RECHECK_SECONDS": "1",
        **(extra or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return Server(url, process, env, port)
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.2)


@pytest.fixture
def server(settings: Settings, tmp_path: Path, world: World) -> Iterator[Server]:  # noqa: F811
    running = start_server(settings, tmp_path)
    yield running
    running.stop()


@dataclass
class Message:
    event: str
    id: str | None
    data: dict[str, object]
    raw: str = ""


@dataclass
class Stream:
    """An open SSE connection, read message by message."""

    response: httpx.Response
    lines: Iterator[str]
    raw: list[str] = field(default_factory=list)

    def next(self, seconds: float = 60.0) -> Message:
        """The next message; heartbeats alone for ``seconds`` fail (they would keep it open for ever)."""
        deadline = time.monotonic() + seconds
        event, ident, data = "message", None, []
        for line in self.lines:
            self.raw.append(line)
            if line == "":
                if data:
                    return Message(event, ident, json.loads("\n".join(data)), "\n".join(data))
                event, ident = "message", None  # a heartbeat comment, or an empty block
                assert time.monotonic() < deadline, f"no message within {seconds:g} s, only heartbeats"
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "id":
                ident = value
            elif name == "data":
                data.append(value)
        raise AssertionError("the stream ended")

    def until(self, kind: str, limit: int = 50) -> Message:
        for _ in range(limit):
            message = self.next()
            if message.event == kind:
                return message
        raise AssertionError(f"no {kind} event")


def open_stream(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[Stream, object]:
    context = client.stream("GET", url, headers=headers, timeout=httpx.Timeout(20.0))
    response = context.__enter__()
    assert response.status_code == 200, response.read()
    assert response.headers["content-type"].startswith("text/event-stream")
    return Stream(response, response.iter_lines()), context


class Watcher:
    """A viewer reading its stream in a thread, so the test can wait for a message with a limit."""

    def __init__(
        self, server: Server, headers: dict[str, str], path: str = "/core/conversations/live"
    ) -> None:
        self.messages: queue.Queue[Message | BaseException] = queue.Queue()
        self._client = httpx.Client(base_url=server.url)
        self._stream, self._context = open_stream(self._client, path, headers)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                self.messages.put(self._stream.next())
        except BaseException as exc:  # the stream ended or was closed: the test sees it
            self.messages.put(exc)

    def next(self, seconds: float = 20.0) -> Message:
        found = self.messages.get(timeout=seconds)
        if isinstance(found, BaseException):
            raise AssertionError("the stream ended") from found
        return found

    def close(self) -> None:
        self._client.close()

    @property
    def raw(self) -> list[str]:
        return self._stream.raw
