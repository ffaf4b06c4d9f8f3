"""A TCP proxy in front of a database that can be told to fail, and a real server for an app.

``FaultProxy`` forwards 127.0.0.1:<port> to the database and can be switched, at any moment, to

* ``refuse()``: the port is closed, so connecting fails at once (ECONNREFUSED), and every open
  connection is cut, as when the database is down or restarting;
* ``blackhole()``: connections are accepted and bytes taken, but nothing is forwarded either way,
  on new connections and on those already open, as when the server hangs or a firewall drops
  packets: the client hears nothing, not even a reset;
* ``pass_through()``: forwarding again (connections cut while refusing stay cut).

Loopback only. The stress suite (``stress/``) drives the same proxy mid-run.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn

Mode = Literal["pass", "refuse", "blackhole"]
_TICK = 0.05


class FaultProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1") -> None:
        self._upstream = (upstream_host, upstream_port)
        self._mode: Mode = "pass"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._listener = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_forever, name="fault-proxy", daemon=True)
        self._acceptor.start()

    # -- switching --------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self._mode

    def pass_through(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)
            self._mode = "pass"

    def blackhole(self) -> None:
        with self._lock:
            if self._listener is None:
                self._listener = self._listen(self.port)
            self._mode = "blackhole"

    def refuse(self) -> None:
        with self._lock:
            self._mode = "refuse"
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            for sock in list(self._sockets):
                _cut(sock)
            self._sockets.clear()

    def close(self) -> None:
        self._stopped.set()
        self.refuse()
        self._acceptor.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def url_for(self, database_url: str) -> str:
        """``database_url`` (SQLAlchemy form) pointed at this proxy instead of its host."""
        from sqlalchemy.engine import make_url

        return (
            make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )

    # -- plumbing ---------------------------------------------------------------------------
    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        listener.settimeout(_TICK)
        return listener

    def _accept_forever(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(_TICK)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            client.settimeout(None)
            with self._lock:
                self._sockets.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        # A connection accepted while blackholed waits, silent, until the mode changes.
        while self._mode == "blackhole" and not self._stopped.is_set():
            time.sleep(_TICK)
        if self._mode != "pass" or self._stopped.is_set():
            _cut(client)
            return
        try:
            upstream = socket.create_connection(self._upstream, timeout=5)
        except OSError:
            _cut(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.add(upstream)
        self._pump(client, upstream)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while not self._stopped.is_set():
                if self._mode == "blackhole":  # hold both ends open, forward nothing
                    time.sleep(_TICK)
                    continue
                readable, _, _ = select.select(list(peers), [], [], _TICK)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                _cut(sock)
                with self._lock:
                    self._sockets.discard(sock)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@contextmanager
def served(app: Any, send_buffer: int | None = None) -> Iterator[str]:
    """``app`` behind a real uvicorn on a free loopback port, in a thread; yields its base URL.
    A real server (not the in-process test client) so a client timeout can tell a hang.
    ``send_buffer``: the sockets' send buffer, small so that a client that stops reading stalls
    the server soon."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", ws="none", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started, "the server to start")
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """A guard against hanging, not a measurement: fails only if ``condition`` never holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)
