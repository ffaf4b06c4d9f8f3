"""Shared fixtures: a fresh, migrated database per test on SQLite, and on PostgreSQL too when
``PARLEY_TEST_POSTGRES_URL`` is set (each test gets its own schema, dropped afterwards)."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from parley.auth.passwords import Passwords
from parley.config import Settings
from parley.db.engine import build_engine, normalize_url
from parley.db.migrate import upgrade

POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL")
# Set (to parley_app, the role migration 0005 makes) to run the tests as that non-owner role,
# under row-level security: migrations still run as the URL's own user, who owns the tables.
POSTGRES_ROLE = os.environ.get("PARLEY_TEST_POSTGRES_ROLE")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
# Argon2 at production cost takes ~0.1 s a hash and tests create many users: the same algorithm at
# its lowest cost. Hashes record their cost, so verifying is unaffected. Every Settings a test builds
# passes these.
CHEAP_PASSWORDS = {"password_time_cost": 1, "password_memory_kib": 32}


# The live bus's servers, for the tests that use them (``@pytest.mark.needs("redis")``); a test
# that starts its own server names the program instead (``needs("redis-server")``).
REDIS_URL = os.environ.get("PARLEY_TEST_REDIS_URL")
NATS_URL = os.environ.get("PARLEY_TEST_NATS_URL")
_SERVICES = {"redis": ("PARLEY_TEST_REDIS_URL", REDIS_URL), "nats": ("PARLEY_TEST_NATS_URL", NATS_URL)}
_LEFT_OUT = pytest.StashKey[list[str]]()


def _missing(need: str) -> str | None:
    """Why a test that needs ``need`` cannot run here, or None when it can."""
    if need in _SERVICES:
        variable, url = _SERVICES[need]
        return None if url else f"set {variable}"
    return None if shutil.which(need) else f"install {need}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a server this machine lacks are deselected: PostgreSQL (postgres_only)
    without its URL, Redis or NATS without theirs, a program not installed. They cannot run, and
    a skip in every SQLite-only run would teach people to overlook skips; one line at the end says
    what was left out and how to enable it (.ci/run sets everything, and checks it is reachable)."""
    reasons: dict[str, int] = {}
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        why = (
            []
            if POSTGRES_URL or not item.get_closest_marker("postgres_only")
            else ["set PARLEY_TEST_POSTGRES_URL"]
        )
        for marker in item.iter_markers("needs"):
            why += [reason for need in marker.args if (reason := _missing(need))]
        (dropped if why else kept).append(item)
        for reason in why:
            reasons[reason] = reasons.get(reason, 0) + 1
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
        config.stash[_LEFT_OUT] = [f"{reason} ({count} tests)" for reason, count in sorted(reasons.items())]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if _LEFT_OUT in config.stash:
        terminalreporter.write_line(
            "left out, to run them: " + "; ".join(config.stash[_LEFT_OUT]), yellow=True
        )


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine | None]:
    if not POSTGRES_URL:
        yield None
        return
    engine = create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # Extensions are database-wide; create it in public once so per-test schemas can share it.
        # Under a lock: test processes running side by side (pytest -n) would race to create it.
        conn.execute(text("SELECT pg_advisory_lock(7301)"))
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(7301)"))
    yield engine
    engine.dispose()


def _postgres_schema_url(admin: Engine, schema: str) -> str:
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    assert POSTGRES_URL
    # A lock wait past two minutes is a test stuck behind a session it abandoned: an error that
    # names the statement, not a run that never ends (the served processes have their own limits).
    options = f"-csearch_path={schema},public -clock_timeout=120s" + (
        f" -crole={POSTGRES_ROLE}" if POSTGRES_ROLE else ""
    )
    url = make_url(normalize_url(POSTGRES_URL)).update_query_dict({"options": options})
    return url.render_as_string(hide_password=False)


def owner_url(url: str) -> str:
    """The database URL as the tables' owner: without the role PARLEY_TEST_POSTGRES_ROLE adds."""
    if not POSTGRES_ROLE or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    options = str(parsed.query.get("options", "")).replace(f" -crole={POSTGRES_ROLE}", "")
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine | None
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'parley.db'}"
        return
    assert postgres_admin is not None
    schema = f"t_{secrets.token_hex(6)}"
    yield _postgres_schema_url(postgres_admin, schema)
    _drop_schema(postgres_admin, schema)


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema even when something the test abandoned (a server it killed, a thread
    it gave up on) still holds a lock in it: DROP would wait for that session forever. Such a
    session is ended first; none may outlive its test's schema."""
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(l.pid) FROM pg_locks l"
                " JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = :schema AND l.pid <> pg_backend_pid()"
            ),
            {"schema": schema},
        )
        conn.execute(text("SET lock_timeout = '60s'"))  # a failure with a reason, never a hang
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-not-for-production",
        recordings_dir=tmp_path / "recordings",
        **CHEAP_PASSWORDS,
        workers_enabled=False,  # tests run background passes themselves, when they mean to
    )


@pytest.fixture
def passwords(settings: Settings) -> Passwords:
    return Passwords.from_settings(settings)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    if POSTGRES_ROLE and settings.database_url.startswith("postgresql"):
        owner = build_engine(owner_url(settings.database_url))
        upgrade(owner)
        owner.dispose()
        engine = build_engine(settings.database_url)
    else:
        engine = build_engine(settings.database_url)
        upgrade(engine)
    yield engine
    engine.dispose()
