from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.app import create_app
from parley.config import Settings
from tests.factories import OrgFixture, make_org
from tests.hooks.senders import Sender, make_hooks


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def acme(engine: Engine) -> OrgFixture:
    return make_org(engine, "acme", agent_base=1000)


@pytest.fixture
def hooks(engine: Engine, settings: Settings, acme: OrgFixture) -> dict[str, str]:
    assert settings.secret_key
    return make_hooks(engine, acme.id, settings.secret_key)


@pytest.fixture
def sender(client: TestClient, hooks: dict[str, str]) -> Sender:
    return Sender(client, hooks)


@dataclass
class AudioServer:
    """A real HTTP server on loopback serving recordings: path -> (status, content type, body)."""

    base: str
    files: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    unsized: set[str] = field(default_factory=set)  # paths served without Content-Length

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


@pytest.fixture
def audio_server() -> Iterator[AudioServer]:
    holder: list[AudioServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server = holder[0]
            server.hits.append(self.path)
            status, content_type, payload = server.files.get(self.path, (404, "text/plain", b"not here"))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if self.path not in server.unsized:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:  # keep test output quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(AudioServer(f"http://127.0.0.1:{httpd.server_address[1]}"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    httpd.shutdown()
    httpd.server_close()
    thread.join()
