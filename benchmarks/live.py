"""``python -m benchmarks live [--db sqlite|postgres] [--writes N] [--bus notify|redis|nats]``: how long
a change takes to reach a live viewer of another server process.

Two ``parley serve`` processes share a fresh database; a viewer streams ``/core/conversations/live``
from the second while the first answers PATCHes; each latency runs from the PATCH's answer to the
event's arrival. The second process is woken by the bus (NOTIFY on PostgreSQL unless ``--bus``
names Redis or NATS); on SQLite without a bus only by its poll.
"""

from __future__ import annotations

import json
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.dataset import DEFAULT_POSTGRES
from benchmarks.servers import parley
from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.db.engine import build_engine, normalize_url
from parley.db.migrate import upgrade

DATABASE = "parley_bench_live"


def fresh_database(db: str, folder: Path, server: str, name: str = DATABASE) -> str:
    if db == "sqlite":
        return f"sqlite:///{folder / 'live.db'}"
    admin = build_engine(
        make_url(server).set(database="postgres").render_as_string(False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    url = normalize_url(make_url(server).set(database=name).render_as_string(False))
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    engine.dispose()
    return url


def run_live(db: str, writes: int, server: str = DEFAULT_POSTGRES, bus: str = "notify") -> str:
    from benchmarks.viewers import BUS_URLS

    settings = {"PARLEY_BUS_URL": BUS_URLS[bus], "PARLEY_BUS_CHANNEL": f"bench_{secrets.token_hex(4)}"}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = fresh_database(db, folder, server)
        engine = build_engine(url)
        upgrade(engine)
        with engine.begin() as connection:
            org = service.create_org(connection, "live")
            token = service.create_token(
                connection, TokenKind.API_KEY, frozenset({Scope.READ, Scope.MANAGE}), org_id=org.id
            )
        engine.dispose()
        headers = {"Authorization": f"Bearer {token}"}
        with (
            parley(url, folder / "rec", folder / "writer.log", settings=settings) as writer,
            parley(url, folder / "rec", folder / "reader.log", settings=settings) as reader,
        ):
            base_w, base_r = f"http://127.0.0.1:{writer.port}", f"http://127.0.0.1:{reader.port}"
            made = httpx.post(
                f"{base_w}/core/conversations",
                json={"channel": "text", "direction": "inbound"},
                headers=headers,
            ).json()
            arrived: dict[int, float] = {}
            watching = threading.Event()

            def view() -> None:
                with (
                    httpx.Client(timeout=httpx.Timeout(60.0)) as client,
                    client.stream("GET", f"{base_r}/core/conversations/live", headers=headers) as response,
                ):
                    for line in response.iter_lines():
                        if line.startswith("event: snapshot"):
                            watching.set()
                        if line.startswith("data:"):
                            changes = json.loads(line[5:]).get("changes", {})
                            if "duration_seconds" in changes:
                                arrived[changes["duration_seconds"]] = time.perf_counter()
                                if len(arrived) == writes:
                                    return

            viewer = threading.Thread(target=view, daemon=True)
            viewer.start()
            watching.wait(30)
            sent: dict[int, float] = {}
            for n in range(writes):
                httpx.patch(
                    f"{base_w}/core/conversations/{made['id']}", json={"duration_seconds": n}, headers=headers
                )
                sent[n] = time.perf_counter()
                time.sleep(0.1)  # one change at a time: this measures delivery, not a queue
            viewer.join(30)
    latencies = sorted((arrived[n] - sent[n]) * 1000 for n in sent if n in arrived)
    if not latencies:
        return f"{db}: no event arrived"
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return (
        f"{db}, bus {bus}: {len(latencies)}/{writes} events reached the other process; "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms"
    )
