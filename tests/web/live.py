"""A real HTTP server for browser tests and screenshots, and the data it serves.

The app runs under uvicorn in a background thread on a free port of 127.0.0.1, over its own
SQLite file, so Chromium talks to it exactly as it would to a deployment. ``ServerProcess`` runs
``parley serve`` in a child process instead, for tests that stop and restart the server.
"""

from __future__ import annotations

import math
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import uvicorn
from sqlalchemy import Engine, func, select

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.config import Settings
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from parley.ingest.records import NewConversation, Participant, Recording, Turn
from tests.factories import (
    BASE_TIME,
    OrgFixture,
    add_member,
    conversation,
    insert_all,
    make_org,
    varied_conversations,
)

ANALYST = "ana@acme.test"  # analyst in acme only
VIEWER = "vic@acme.test"  # viewer in acme only
MULTI = "max@acme.test"  # viewer in acme (first by name), admin in globex
RECORDING_SECONDS = 4
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_VARIABLE = "PARLEY_TEST_CHROMIUM"
REQUIRE_VARIABLE = "PARLEY_TEST_REQUIRE_BROWSER"  # .ci/run sets it: there a missing browser fails
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    """The Chromium the browser tests drive: ``PARLEY_TEST_CHROMIUM``, else Debian's."""
    return os.environ.get(CHROMIUM_VARIABLE) or DEFAULT_CHROMIUM


def missing_browser() -> str | None:
    """Why the browser tests cannot run here (one line that says how to enable them), or None."""
    path = chromium_path()
    if Path(path).is_file() and os.access(path, os.X_OK):
        return None
    return (
        f"no Chromium at {path}; install Debian's chromium "
        f"(apt-get install chromium) or set {CHROMIUM_VARIABLE}=/path/to/chromium to run them"
    )


def browser_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


@contextmanager
def live_server(settings: Settings, engine: Engine) -> Iterator[str]:
    """Serve ``create_app(settings, engine)`` until the block ends; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(settings, engine), log_level="warning", ws="none", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``parley serve`` over ``settings`` in a child process, on one port across restarts, so a
    test can drop every connection the browser has and bring the server back where it was."""

    settings: Settings
    cwd: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PARLEY_DATABASE_URL": self.settings.database_url,
            "PARLEY_RECORDINGS_DIR": str(self.settings.recordings_dir),
            "PARLEY_SECRET_KEY": self.settings.secret_key or "",
            "PARLEY_PASSWORD_TIME_COST": str(self.settings.password_time_cost),
            "PARLEY_PASSWORD_MEMORY_KIB": str(self.settings.password_memory_kib),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--port", str(self.port)],
            env=env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"parley serve exited: {self.process.stderr.read() if self.process.stderr else ''}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("parley serve did not come up")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as a deployment stops it: uvicorn ends the open streams and exits."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
        self.process = None


def write_tone(path: Path, seconds: int = RECORDING_SECONDS, rate: int = 8000) -> int:
    """A quiet 440 Hz tone: long enough that a test can watch it play. Returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 440 * n / rate))) for n in range(seconds * rate)
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    return path.stat().st_size


@dataclass
class BrowserWorld:
    """What the browser tests know about the data they look at."""

    base_url: str
    engine: Engine
    acme: OrgFixture
    globex: OrgFixture
    special: dict[str, int] = field(default_factory=dict)  # label -> conversation id, newest first
    listed: int = 0  # how many acme conversations the inbox lists (pending web sessions are hidden)

    def url(self, path: str) -> str:
        return self.base_url + path


def special_conversations(org: OrgFixture, recording_bytes: int) -> dict[str, NewConversation]:
    """Rows newer than the factory's, one per formatting rule the tests check, and a pending web
    session (never listed)."""
    rng = random.Random(99)
    billing, scheduler = org.agent_ids
    return {
        "long": conversation(
            rng,
            BASE_TIME + timedelta(minutes=10),
            billing,
            user_id="+14155550123",
            caller_name="Grace Hopper",
            summary="Asked to reschedule the plumber visit to Thursday morning and confirmed the address.",
            duration_seconds=3725,
            turns=(
                Turn("agent", "Hello, thanks for calling Acme. How can I help?", 0),
                Turn("caller", "I need to move the plumber visit to Thursday.", 4_200),
                Turn("agent", "Done: Thursday at 9am. Anything else?", 65_000),
            ),
            recordings=(Recording("calls/tone.wav", "audio/wav", recording_bytes, RECORDING_SECONDS),),
        ),
        "guest": conversation(
            rng,
            BASE_TIME + timedelta(minutes=9),
            scheduler,
            channel="webrtc",
            status="in_progress",
            user_id="guest_7f3a9c2e",
            caller_name=None,
            summary=None,
            duration_seconds=None,
            ended_at=None,
        ),
        "email": conversation(
            rng,
            BASE_TIME + timedelta(minutes=8),
            billing,
            channel="email",
            direction="outbound",
            status="failed",
            user_id="jane@example.com",
            caller_name="Jane Doe",
            agent_number="support@acme.test",
            duration_seconds=42,
            # The agent's own mailbox is on the thread too: the +N leaves it out.
            participants=(
                Participant("ops@example.com", "cc"),
                Participant("lead@example.com", "to"),
                Participant("support@acme.test", "cc"),
            ),
            turns=(),
        ),
        "text": conversation(
            rng,
            BASE_TIME + timedelta(minutes=7),
            None,
            channel="text",
            status="no_answer",
            user_id="+15555550100",
            caller_name=None,
            agent_number=None,
            summary=None,
            duration_seconds=187,
        ),
        "pending": conversation(
            rng,
            BASE_TIME + timedelta(minutes=11),
            scheduler,
            channel="webrtc",
            status="token_created",
            user_id="guest_0pending",
            duration_seconds=None,
        ),
    }


def analysed(items: list[NewConversation]) -> list[NewConversation]:
    """The same conversations with what an analysis says of them, varied independently of the
    factory's channel and status cycles, and some on the agents' first version."""
    sentiments = ["positive", "neutral", "negative", None]
    reasons = ["customer-ended-call", None, "agent-ended-call"]
    tags = [(), ("vip",), (), ("billing", "vip"), ("billing",)]
    return [
        replace(
            item,
            sentiment=sentiments[(n // 3) % 4],
            successful=[True, False, None][(n // 2) % 3],
            ended_reason=reasons[(n // 5) % 3],
            tags=tags[n % 5],
            agent_version=1 if item.agent_id is not None and n % 3 == 0 else item.agent_version,
        )
        for n, item in enumerate(items)
    ]


def build_browser_world(settings: Settings, base_url: str = "") -> tuple[Engine, BrowserWorld]:
    engine = build_engine(settings.database_url)
    upgrade(engine)
    acme = make_org(engine, "acme", agent_base=1000)
    globex = make_org(engine, "globex", agent_base=2000)
    size = write_tone(settings.recordings_dir / "calls" / "tone.wav")
    write_tone(settings.recordings_dir / "calls" / "sample.wav", seconds=1)
    special = special_conversations(acme, size)
    insert_all(engine, acme, list(special.values()))
    insert_all(engine, acme, analysed(varied_conversations(acme, 180, seed=1)))
    insert_all(engine, globex, varied_conversations(globex, 6, seed=2))
    everything = {Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}
    passwords = Passwords.from_settings(settings)
    add_member(engine, passwords, acme, ANALYST, Role.ANALYST, everything)
    add_member(engine, passwords, acme, VIEWER, Role.VIEWER, everything)
    add_member(engine, passwords, acme, MULTI, Role.VIEWER, everything)
    add_member(engine, passwords, globex, MULTI, Role.ADMIN, everything)
    c = tables.conversations
    with engine.connect() as conn:
        listed = conn.execute(
            select(func.count()).where(c.c.org_id == acme.id, c.c.status != "token_created")
        ).scalar_one()
    world = BrowserWorld(
        base_url,
        engine,
        acme,
        globex,
        special={label: item.id for label, item in special.items()},
        listed=listed,
    )
    return engine, world
