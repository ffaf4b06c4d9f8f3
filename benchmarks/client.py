"""A minimal keep-alive HTTP client, so the client's own cost stays small next to the server's."""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Streamed:
    status: int
    bytes: int
    lines: int
    seconds: float


class Client:
    def __init__(self, port: int, headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.headers = headers or {}
        self._connection: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        connection = self._open()
        try:
            connection.request("GET", path, headers={**self.headers, **(headers or {})})
            response = connection.getresponse()
            body = response.read()
        except (ConnectionError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        return response.status, body

    def get_ok(self, path: str, headers: dict[str, str] | None = None, expect: int = 200) -> bytes:
        status, body = self.get(path, headers)
        if status != expect:
            raise RuntimeError(f"GET {path} answered {status}, not {expect}: {body[:300]!r}")
        return body

    def stream(self, path: str, max_lines: int | None = None, chunk: int = 256 * 1024) -> Streamed:
        """Read a response body in chunks, counting lines; stop (and drop the connection) after
        ``max_lines`` lines when given."""
        began = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=600)
        try:
            connection.request("GET", path, headers=self.headers)
            response = connection.getresponse()
            total = lines = 0
            while block := response.read1(chunk):
                total += len(block)
                lines += block.count(b"\n")
                if max_lines is not None and lines >= max_lines:
                    break
            return Streamed(response.status, total, lines, time.perf_counter() - began)
        finally:
            connection.close()
