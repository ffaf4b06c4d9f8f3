"""The servers under test, each in its own process: ``parley serve`` and Datasette."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks.client import Client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def processes(self) -> list[int]:
        """The server and its worker processes (``parley serve --workers N`` forks N of them)."""
        found = [self.pid]
        for pid in found:
            for task in Path(f"/proc/{pid}/task").iterdir():
                try:
                    children = (task / "children").read_text().split()
                except FileNotFoundError:  # the thread ended after the folder was listed
                    continue
                found.extend(int(child) for child in children)
        return found

    def memory(self) -> dict[str, int]:
        """Resident set now and its high-water mark, in bytes (Linux /proc), of the process that
        peaked highest: the one serving requests (the only one, or the worker that served)."""
        readings = []
        for pid in self.processes():
            found: dict[str, int] = {}
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0]) * 1024
            readings.append(found)
        return max(readings, key=lambda found: found.get("VmHWM", 0))

    def reset_peak_memory(self) -> bool:
        """Start a new high-water mark (``echo 5 > clear_refs``); False when the kernel refuses."""
        try:
            for pid in self.processes():
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True


def _wait_until_up(server: Server, path: str, timeout: float) -> None:
    client = Client(server.port)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            try:
                status, _ = client.get(path)
                if status < 500:
                    return
            except OSError:
                client.close()
            time.sleep(0.1)
    finally:
        client.close()
    tail = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
    raise RuntimeError(f"the server on port {server.port} did not come up:\n{tail}")


@contextmanager
def _running(command: list[str], env: dict[str, str], log: Path, ready_path: str) -> Iterator[Server]:
    port = int(command[command.index("--port") + 1])
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(process, port, log)
    try:
        _wait_until_up(server, ready_path, timeout=120)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def parley_command() -> list[str]:
    script = Path(sys.executable).parent / "parley"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from parley.cli import main; main()"]


@contextmanager
def parley(
    database_url: str,
    recordings_dir: Path,
    log: Path,
    workers: int = 1,
    settings: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[Server]:
    """``parley serve`` as a user would start it, configured through PARLEY_* variables
    (``settings`` adds some); ``command`` replaces the ``parley`` executable."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")},
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_RECORDINGS_DIR": str(recordings_dir),
        **(settings or {}),
    }
    command = [*(command or parley_command()), "serve", "--host", "127.0.0.1", "--port", str(free_port())]
    command += ["--workers", str(workers)]
    with _running(command, env, log, "/healthz") as server:
        yield server


def datasette_available() -> bool:
    try:
        import datasette  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def datasette(sqlite_file: Path, metadata: Path, log: Path) -> Iterator[Server]:
    """Datasette serving the same SQLite file, with a time limit high enough for deep pages."""
    command = [
        sys.executable,
        "-m",
        "datasette",
        "serve",
        str(sqlite_file),
        "--metadata",
        str(metadata),
        "--host",
        "127.0.0.1",
        "--port",
        str(free_port()),
        "--setting",
        "sql_time_limit_ms",
        "60000",
        "--setting",
        "max_returned_rows",
        "1000",
    ]
    with _running(command, dict(os.environ), log, "/-/versions.json") as server:
        yield server


def wrk_path() -> str | None:
    return shutil.which("wrk")


def sqlite3_shell() -> str | None:
    return shutil.which("sqlite3")
