"""What one client may send before the app sees its request, so a slow or huge client costs
bounded memory and time: ``parley serve`` runs uvicorn with this HTTP protocol.

uvicorn's httptools protocol (its default, and the fast one) has no limit of its own: it keeps a
request line and headers of any size, and a client that sends its headers a byte at a time, or
nothing at all after connecting, holds the connection for ever. This one answers

* 414 (problem+json) to a request target longer than ``max_url_bytes``;
* 431 to more than ``max_headers`` header lines or ``max_header_bytes`` of names and values, and
  to a request head that grows past both limits together before the parser has split it (so a
  single endless header line is cut off too, not buffered);
* 408, and closes, when the request line and headers have not all arrived ``header_timeout``
  seconds after the connection opened or the request's first byte came.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley.config import Settings
from parley.errors import HEADERS_TOO_LARGE, REQUEST_TIMEOUT, URI_TOO_LONG, ProblemKind

# How long a refused client's further bytes are read and thrown away before the connection closes.
_LINGER_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ClientLimits:
    header_timeout: float
    max_url_bytes: int
    max_header_bytes: int
    max_headers: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientLimits:
        return cls(
            settings.header_timeout_seconds,
            settings.max_url_bytes,
            settings.max_header_bytes,
            settings.max_headers,
        )

    @property
    def max_head_bytes(self) -> int:
        """The most a request head may take on the wire: both limits, the line ends and separators
        of every header, and the method and version."""
        return self.max_url_bytes + self.max_header_bytes + 4 * self.max_headers + 64


def protocol_factory(limits: ClientLimits) -> Any:
    """What uvicorn's ``http=`` takes; picklable, so ``--workers N`` passes it to each process."""
    return functools.partial(LimitedHttpToolsProtocol, limits=limits)


class _Refused(Exception):
    def __init__(self, kind: ProblemKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, limits: ClientLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = limits
        self._head_timer: asyncio.TimerHandle | None = None
        self._reading_head = True  # until the first request's headers are complete
        self._head_bytes = 0
        self._header_bytes = 0
        self._header_count = 0
        self._refused = False

    # -- the connection ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()  # a client that connects and says nothing is timed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, with the refusals: a parser callback that raises ends feed_data.
        if self._refused:
            return
        self._unset_keepalive_if_required()
        if self._reading_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except _Refused as refusal:
            self._refuse(refusal)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as error:
            cause = error.__context__ or error.__cause__
            if isinstance(cause, _Refused):  # httptools may wrap what a callback raised
                self._refuse(cause)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if self._reading_head and self._head_bytes > self._limits.max_head_bytes:
            self._refuse(_too_large_headers(self._limits))

    # -- parser callbacks -------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True
        self._header_bytes = 0
        self._header_count = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self._limits.max_url_bytes:
            raise _Refused(
                URI_TOO_LONG,
                f"The request target is longer than {self._limits.max_url_bytes} bytes; "
                "send fewer or shorter parameters.",
            )
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._header_bytes += len(name) + len(value)
        if (
            self._header_count > self._limits.max_headers
            or self._header_bytes > self._limits.max_header_bytes
        ):
            raise _too_large_headers(self._limits)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        self._disarm_head_timer()
        super().on_headers_complete()

    # -- refusing ---------------------------------------------------------------------------
    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self._limits.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        self._refuse(
            _Refused(
                REQUEST_TIMEOUT,
                f"The request's headers did not arrive within {self._limits.header_timeout:g} s.",
            )
        )

    def _refuse(self, refusal: _Refused) -> None:
        self._refused = True
        self._disarm_head_timer()
        kind = refusal.kind
        self.logger.warning("refused a request before reading it: %s %s", kind.status, kind.slug)
        body = orjson.dumps(
            {"type": kind.type_uri, "title": kind.title, "status": kind.status, "detail": refusal.detail}
        )
        head = [f"HTTP/1.1 {kind.status} {kind.title}".encode()]
        head += [name + b": " + value for name, value in self.server_state.default_headers]
        head += [
            b"content-type: application/problem+json",
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        # Closing a socket with unread bytes sends a reset, which can destroy the answer before
        # the client reads it: say we are done (FIN), discard what still comes for a moment, then close.
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(_LINGER_SECONDS, self.transport.close)


def _too_large_headers(limits: ClientLimits) -> _Refused:
    return _Refused(
        HEADERS_TOO_LARGE,
        f"The request's headers are too large: at most {limits.max_headers} header lines and "
        f"{limits.max_header_bytes} bytes of names and values are read.",
    )
