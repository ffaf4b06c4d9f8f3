"""Many live viewers in one asyncio process, on raw sockets: an HTTP client's own parsing per
message would cost more than the server's sending, on the same two cores.

Each viewer sends the GET, then only looks for probe markers (``probe-<n>-x``, the text of a
turn the benchmark writes) in what arrives, noting the first time it sees each.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

PROBE = re.compile(rb"probe-(\d+)-x")


def probe_text(n: int) -> str:
    return f"probe-{n}-x"


@dataclass
class Viewers:
    """``count`` open streams of ``path`` on ``port``; ``arrivals[n]`` the times probe n came."""

    port: int
    path: str
    token: str
    count: int
    arrivals: dict[int, list[float]] = field(default_factory=dict)
    ready: int = 0
    _all_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def open(self, timeout: float = 180.0) -> None:
        for _ in range(self.count):
            self._tasks.append(asyncio.create_task(self._view()))
            await asyncio.sleep(0)  # connect gradually: the server's backlog is finite
        await asyncio.wait_for(self._all_ready.wait(), timeout)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        self._tasks.clear()
        self._writers.clear()

    def clear(self) -> None:
        self.arrivals.clear()

    async def _view(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._writers.append(writer)
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Authorization: Bearer {self.token}\r\n\r\n"
        )
        writer.write(request.encode())
        seen: set[int] = set()
        tail = b""
        started = False
        while chunk := await reader.read(65536):
            now = time.perf_counter()
            data = tail + chunk
            if not started and b"event: snapshot" in data:
                started = True
                self.ready += 1
                if self.ready == self.count:
                    self._all_ready.set()
            for match in PROBE.finditer(data):
                n = int(match.group(1))
                if n not in seen:
                    seen.add(n)
                    self.arrivals.setdefault(n, []).append(now)
            tail = data[-24:]  # a marker split between two reads
