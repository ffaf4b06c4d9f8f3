"""The benchmark data set: one big org among nine small ones, seeded once and reused.

A data set is identified by its seed and size. A marker (table ``bench_dataset``) is written
only after everything is in place, so an interrupted seed is detected and started again.
SQLite data sets live in their own file under ``benchmarks/data/``; PostgreSQL ones in a
dedicated database per size and seed (``parley_bench_<rows>_<seed>``), dropped and recreated when the marker does not match.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from parley.accounts.service import get_org
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.config import Settings
from parley.conversations.enums import Channel, Direction, Speaker, Status
from parley.conversations.ids import new_conversation_id
from parley.db import tables
from parley.db.engine import build_engine, normalize_url
from parley.db.migrate import upgrade
from parley.ingest.records import NewConversation, Recording, Turn
from parley.ingest.writer import insert_conversations

BIG_ORG = "bench-big"
SMALL_ORGS = tuple(f"bench-small-{n}" for n in range(1, 10))
SMALL_SHARE = 0.01  # each small org holds 1 % of the big one's rows
DAYS = 180
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so a seed always gives the same rows
LONG_TRANSCRIPT_TURNS = 200
FORMAT_VERSION = 1  # bump when the data set's shape changes, so old ones are rebuilt
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_DATABASE_PREFIX = "parley_bench"


@dataclass(frozen=True, slots=True)
class Spec:
    rows: int
    seed: int

    @property
    def small_rows(self) -> int:
        return max(1, round(self.rows * SMALL_SHARE))

    def marker(self) -> dict[str, object]:
        return {
            **asdict(self),
            "small_rows": self.small_rows,
            "days": DAYS,
            "until": UNTIL.isoformat(),
            "version": FORMAT_VERSION,
        }


@dataclass(frozen=True, slots=True)
class Dataset:
    """A ready data set: where it is and what the scenarios need to know about it."""

    url: str
    recordings_dir: Path
    spec: Spec
    long_conversation_id: int
    seconds_to_prepare: float
    reused: bool

    def settings(self) -> Settings:
        return Settings(database_url=self.url, recordings_dir=self.recordings_dir)


def sqlite_url(data_dir: Path, spec: Spec) -> str:
    return f"sqlite:///{(data_dir / f'parley-{spec.rows}-{spec.seed}.db').resolve()}"


def postgres_database(spec: Spec) -> str:
    """One database per size and seed, like the SQLite files, so a 10M set does not replace the 1M one."""
    return f"{POSTGRES_DATABASE_PREFIX}_{spec.rows}_{spec.seed}"


def postgres_url(server_url: str, spec: Spec) -> str:
    database = postgres_database(spec)
    return make_url(normalize_url(server_url)).set(database=database).render_as_string(False)


def prepare(db: str, spec: Spec, data_dir: Path, postgres_server: str = DEFAULT_POSTGRES) -> Dataset:
    """A data set matching ``spec``: reused when its marker matches, otherwise built from scratch."""
    data_dir.mkdir(parents=True, exist_ok=True)
    recordings_dir = (data_dir / "recordings").resolve()
    if db == "sqlite":
        url = sqlite_url(data_dir, spec)
    else:
        url = postgres_url(postgres_server, spec)
        _ensure_postgres_database(postgres_server, postgres_database(spec))
    began = time.perf_counter()
    engine = build_engine(url)
    try:
        upgrade(engine)  # also brings a reused data set up to the current schema
        found = _read_marker(engine)
        if found is not None and found["marker"] == spec.marker():
            return Dataset(url, recordings_dir, spec, int(str(found["long_id"])), 0.0, reused=True)
    finally:
        engine.dispose()
    if db == "sqlite":
        path = Path(make_url(url).database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        _recreate_postgres_database(postgres_server, postgres_database(spec))
    engine = build_engine(url)
    try:
        upgrade(engine)
        long_id = _seed(engine, Settings(database_url=url, recordings_dir=recordings_dir), spec)
        _analyze(engine)
        _write_marker(engine, spec, long_id)
    finally:
        engine.dispose()
    return Dataset(url, recordings_dir, spec, long_id, time.perf_counter() - began, reused=False)


def _seed(engine: Engine, settings: Settings, spec: Spec) -> int:
    from parley.seed.run import seed_org

    plan = [(BIG_ORG, spec.rows), *((slug, spec.small_rows) for slug in SMALL_ORGS)]
    for index, (slug, count) in enumerate(plan):
        began = time.perf_counter()

        def progress(done: int, slug: str = slug, count: int = count, began: float = began) -> None:
            rate = done / max(time.perf_counter() - began, 1e-9)
            print(f"\r  seeding {slug}: {done:,}/{count:,} ({rate:,.0f}/s)", end="", file=sys.stderr)

        seed_org(
            engine,
            settings,
            slug,
            count,
            seed=spec.seed + index,
            days=DAYS,
            until=UNTIL,
            on_progress=progress,
        )
        print(file=sys.stderr)
    return _add_long_conversation(engine, spec)


def _add_long_conversation(engine: Engine, spec: Spec) -> int:
    """A phone call with a 200-turn transcript and a recording, for the detail scenario."""
    rng = random.Random(f"bench-long:{spec.seed}")
    created = UNTIL - timedelta(hours=30)
    r = tables.recordings
    with engine.begin() as connection:
        org = get_org(connection, BIG_ORG)
        clip = connection.execute(
            select(r.c.blob_key, r.c.content_type, r.c.bytes, r.c.duration_seconds)
            .where(r.c.org_id == org.id)
            .limit(1)
        ).first()
        agent = connection.execute(
            select(tables.agents.c.id).where(tables.agents.c.org_id == org.id).limit(1)
        ).scalar_one()
        recordings = (Recording(clip.blob_key, clip.content_type, clip.bytes, clip.duration_seconds),)
        speakers = (Speaker.AGENT, Speaker.CALLER)
        turns = tuple(
            Turn(
                speakers[n % 2],
                f"Turn {n}: could you confirm the delivery address and the invoice number for order {1000 + n}?",
                n * 4000,
            )
            for n in range(LONG_TRANSCRIPT_TURNS)
        )
        conversation = NewConversation(
            id=new_conversation_id(created, rng),
            created_at=created,
            channel=Channel.TELEPHONE,
            direction=Direction.INBOUND,
            status=Status.COMPLETED,
            agent_id=agent,
            agent_version=1,
            user_id="+14155550100",
            caller_name="Long Talker",
            agent_number="+14155550199",
            summary="A very long call used by the detail benchmark.",
            duration_seconds=LONG_TRANSCRIPT_TURNS * 4,
            started_at=created,
            ended_at=created + timedelta(seconds=LONG_TRANSCRIPT_TURNS * 4),
            turns=turns,
            recordings=recordings if clip is not None else (),
        )
        insert_conversations(connection, org.id, [conversation])
    return conversation.id


def _analyze(engine: Engine) -> None:
    """Planner statistics on PostgreSQL, as autovacuum would have gathered by now. SQLite is left
    without them: Parley never runs ANALYZE there, so neither does the benchmark."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def _read_marker(engine: Engine) -> dict[str, object] | None:
    with engine.connect() as connection:
        exists = connection.dialect.has_table(connection, "bench_dataset")
        if not exists:
            return None
        value = connection.execute(text("SELECT value FROM bench_dataset WHERE key = 'dataset'")).scalar()
    return json.loads(value) if value else None


def _write_marker(engine: Engine, spec: Spec, long_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS bench_dataset (key TEXT PRIMARY KEY, value TEXT)")
        )
        connection.execute(text("DELETE FROM bench_dataset"))
        connection.execute(
            text("INSERT INTO bench_dataset (key, value) VALUES ('dataset', :value)"),
            {"value": json.dumps({"marker": spec.marker(), "long_id": str(long_id)})},
        )


def _admin_engine(server_url: str) -> Engine:
    url = make_url(normalize_url(server_url)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _ensure_postgres_database(server_url: str, name: str) -> None:
    admin = _admin_engine(server_url)
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            if not found:
                connection.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        admin.dispose()


def _recreate_postgres_database(server_url: str, name: str) -> None:
    admin = _admin_engine(server_url)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        admin.dispose()


def create_reader_token(engine: Engine) -> str:
    """A fresh org API key for the big org with read and read_sensitive."""
    from parley.accounts.service import create_token

    with engine.begin() as connection:
        org = get_org(connection, BIG_ORG)
        return create_token(
            connection,
            TokenKind.API_KEY,
            frozenset({Scope.READ, Scope.READ_SENSITIVE}),
            org_id=org.id,
            name="benchmarks",
        )
