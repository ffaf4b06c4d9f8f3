"""What the stress run stands on: a fresh database, a fault proxy in front of PostgreSQL, and a
``parley serve`` that can be SIGKILLed and started again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.faults import FaultProxy

ORG = "stress"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def parley(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "parley", *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


@dataclass
class Deployment:
    db: str
    folder: Path
    database_url: str  # what the checks connect to: the database itself
    served_url: str  # what the server connects to: through the proxy on PostgreSQL
    workers: int
    proxy: FaultProxy | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    read_token: str = ""
    write_token: str = ""
    _log: IO[bytes] | None = None
    restarts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, url: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
        return env | {
            "PARLEY_DATABASE_URL": url or self.database_url,
            "PARLEY_RECORDINGS_DIR": str(self.folder / "recordings"),
            "PARLEY_SECRET_KEY": "stress-suite-key-not-for-production",
            "PARLEY_PASSWORD_TIME_COST": "1",
            "PARLEY_PASSWORD_MEMORY_KIB": "32",
            # Short enough that a fault shows within the run; the defaults are 5 and 30 s.
            "PARLEY_DB_CONNECT_TIMEOUT_SECONDS": "2",
            "PARLEY_DB_STATEMENT_TIMEOUT_SECONDS": "3",
            "PARLEY_DB_POOL_TIMEOUT_SECONDS": "5",
        }

    def prepare(self) -> None:
        env = self.env()
        parley(env, "db", "upgrade")
        parley(env, "org", "create", ORG)
        parley(env, "seed", "--org", ORG, "--conversations", "300", "--seed", "13")
        self.read_token = parley(env, "token", "create", "--org", ORG, "--scope", "conversations:read")
        self.write_token = parley(env, "token", "create", "--org", ORG, "--scope", "conversations:manage")

    def start(self) -> None:
        """Start ``parley serve`` and wait until it answers."""
        self._log = (self.folder / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parley",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.env(self.served_url),
            cwd=self.folder,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,  # its own process group: a SIGKILL reaches every worker
        )
        deadline = time.monotonic() + 120
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"parley serve exited; see {self.folder / 'server.log'}")
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("parley serve did not become ready in 120 s")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the server and all its workers: no shutdown, no cleanup, mid-whatever."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def restart(self) -> None:
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None


@contextmanager
def deployment(db: str, folder: Path, postgres_url: str) -> Iterator[Deployment]:
    folder.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        url = f"sqlite:///{folder / 'stress.db'}"
        running = Deployment(db, folder, url, url, workers=1)
        try:
            running.prepare()
            yield running
        finally:
            running.stop()
        return
    name = f"parley_stress_{os.getpid()}"
    admin = create_engine(
        make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name)
    with FaultProxy(url.port or 5432, url.host or "127.0.0.1") as proxy:
        served = url.set(host="127.0.0.1", port=proxy.port)
        running = Deployment(
            db,
            folder,
            url.render_as_string(hide_password=False),
            served.render_as_string(hide_password=False),
            workers=2,
            proxy=proxy,
        )
        try:
            running.prepare()
            yield running
        finally:
            running.stop()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
