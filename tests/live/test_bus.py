"""The live bus across processes, on each wire: PostgreSQL's NOTIFY, Redis and NATS.

The feeds' poll is set to an hour here, so an event that crosses from one ``parley serve`` to
another within the test can only have come by the bus. Every test run uses a channel of its own,
so parallel runs on the same Redis, NATS or PostgreSQL never wake each other.
"""

from __future__ import annotations

import queue
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from pydantic import ValidationError

from parley.config import Settings
from tests.api.conftest import World, bearer
from tests.conftest import NATS_URL, REDIS_URL
from tests.live.conftest import Server, Watcher, free_port, start_server

LIVE = "/core/conversations/live"
REDIS = pytest.param("redis", marks=pytest.mark.needs("redis"))
NATS = pytest.param("nats", marks=pytest.mark.needs("nats"))
NO_POLL = {"PARLEY_LIVE_POLL_SECONDS": "3600"}
UNREACHABLE = "is unreachable"


def bus_settings(bus: str, url: str | None = None) -> dict[str, str]:
    """PARLEY_* settings for a bus, on a channel no other test run uses."""
    found = {"notify": "", "redis": REDIS_URL or "", "nats": NATS_URL or ""}[bus]
    return {**NO_POLL, "PARLEY_BUS_URL": url or found, "PARLEY_BUS_CHANNEL": f"t_{secrets.token_hex(6)}"}


def write(server: Server, world: World, conversation_id: str, summary: str) -> None:
    response = httpx.patch(
        f"{server.url}/core/conversations/{conversation_id}",
        json={"summary": summary},
        headers=bearer(world.acme.tokens["manage"]),
    )
    assert response.status_code == 200, response.text


def create(server: Server, world: World) -> str:
    response = httpx.post(
        f"{server.url}/core/conversations",
        json={"channel": "text", "direction": "inbound"},
        headers=bearer(world.acme.tokens["manage"]),
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("bus", ["notify", REDIS, NATS])
def test_events_cross_processes_and_survive_a_restart(
    settings: Settings, tmp_path: Path, world: World, database_url: str, bus: str
) -> None:
    """Two servers on one PostgreSQL: a change written through one reaches a viewer of the
    other by the bus; that one restarts, and the viewer resumes with Last-Event-ID without a gap
    or a duplicate."""
    extra = bus_settings(bus)
    writer, reader = (
        start_server(settings, tmp_path, extra=extra),
        start_server(settings, tmp_path, extra=extra),
    )
    watcher: Watcher | None = None
    try:
        headers = bearer(world.acme.tokens["sensitive"])
        made = create(writer, world)
        watcher = Watcher(reader, headers)
        assert watcher.next().event == "snapshot"
        write(writer, world, made, "first")
        last = watcher.next()
        assert last.event == "updated" and last.data["changes"] == {"summary": "first"}
        watcher.close()
        port = reader.port
        reader.stop()
        for n in range(3):
            write(writer, world, made, f"during restart {n}")
        reader = start_server(settings, tmp_path, port, extra=extra)
        watcher = Watcher(reader, {**headers, "Last-Event-ID": str(last.id)})
        ids = [int(watcher.next().id or 0) for _ in range(3)]
        write(writer, world, made, "after")
        after = watcher.next()
        assert after.data["changes"] == {"summary": "after"}
        ids.append(int(after.id or 0))
        assert ids == list(range(int(last.id or 0) + 1, int(last.id or 0) + 5))
    finally:
        if watcher is not None:
            watcher.close()
        writer.stop()
        reader.stop()


def _port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Broker:
    """A Redis or NATS server of the test's own, to stop and start again."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind, self.port, self.folder = kind, free_port(), folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{self.kind}://127.0.0.1:{self.port}"

    def start(self) -> None:
        if self.kind == "redis":
            command = [shutil.which("redis-server") or "redis-server", "--port", str(self.port)]
            command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        else:
            command = [shutil.which("nats-server") or "nats-server", "-a", "127.0.0.1", "-p", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not _port_open(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, f"{self.kind} did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture(
    params=[
        pytest.param("redis", marks=pytest.mark.needs("redis-server")),
        pytest.param("nats", marks=pytest.mark.needs("nats-server")),
    ]
)
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    running = Broker(request.param, tmp_path)
    running.start()
    yield running
    running.stop()


def _first_after(watcher: Watcher, server: Server, world: World, made: str, limit: int = 40) -> list[int]:
    """Write until one change arrives by the bus again; the ids of what arrived."""
    for n in range(limit):
        write(server, world, made, f"probe {n}")
        try:
            first = watcher.next(seconds=1.0)
        except queue.Empty:
            continue
        ids = [int(first.id or 0)]
        while True:  # the probes before it come in the same read
            try:
                ids.append(int(watcher.next(seconds=0.5).id or 0))
            except queue.Empty:
                return ids
    raise AssertionError("the bus never came back")


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_bus_that_goes_down_breaks_no_write_and_comes_back(
    settings: Settings, tmp_path: Path, world: World, database_url: str, broker: Broker
) -> None:
    """While the bus is down, writes are answered as ever; when it is back, both processes
    reconnect by themselves, the viewer gets every change in order, and the outage was logged
    once, not at every retry."""
    extra = bus_settings(broker.kind, broker.url)
    writer, reader = (
        start_server(settings, tmp_path, extra=extra),
        start_server(settings, tmp_path, extra=extra),
    )
    logs: list[str] = []
    watcher = None
    try:
        made = create(writer, world)
        watcher = Watcher(reader, bearer(world.acme.tokens["sensitive"]))
        assert watcher.next().event == "snapshot"
        write(writer, world, made, "before")
        before = int(watcher.next().id or 0)
        broker.stop()
        write(writer, world, made, "while the bus is down")
        time.sleep(4.5)  # longer than two reconnect attempts
        broker.start()
        ids = _first_after(watcher, writer, world, made)
        assert ids == list(range(before + 1, before + 1 + len(ids))) and len(ids) >= 2
    finally:
        if watcher is not None:
            watcher.close()
        logs = [writer.stop(), reader.stop()]
    for log in logs:
        assert log.count(UNREACHABLE) == 1, log


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("bus", ["redis", "nats"])
def test_with_its_bus_unreachable_a_server_still_writes_and_streams(
    settings: Settings, tmp_path: Path, world: World, database_url: str, bus: str
) -> None:
    """A bus that is not there at all: the server starts, answers writes, and its own viewers get
    them (woken in the process, or by the poll)."""
    extra = {"PARLEY_BUS_URL": f"{bus}://127.0.0.1:{free_port()}"}
    server = start_server(settings, tmp_path, extra=extra)
    watcher = None
    try:
        made = create(server, world)
        watcher = Watcher(server, bearer(world.acme.tokens["sensitive"]))
        assert watcher.next().event == "snapshot"
        for n in range(3):
            write(server, world, made, f"change {n}")
        changes: list[Any] = [watcher.next().data["changes"] for _ in range(3)]
        assert changes == [{"summary": f"change {n}"} for n in range(3)]
    finally:
        if watcher is not None:
            watcher.close()
        log = server.stop()
    assert UNREACHABLE in log and f"{bus}://" in log


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("bus_url", "http://127.0.0.1:6379", "must start with redis://"),
        ("bus_url", "kafka://broker:9092", "must start with redis://"),
        ("bus_channel", "parley events; DROP", "should match pattern"),
    ],
)
def test_a_bus_setting_it_cannot_use_is_refused_with_a_sentence(setting: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(**{setting: value})  # type: ignore[arg-type]


def test_the_bus_urls_it_knows_are_accepted() -> None:
    for url in (
        "redis://127.0.0.1:6379/0",
        "rediss://cache:6380",
        "nats://127.0.0.1:4222",
        "tls://nats:4222",
    ):
        assert Settings(bus_url=url).bus_url == url
