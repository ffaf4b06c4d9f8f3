"""The database fails: every route answers 503 with Retry-After (a page: a 503 page), liveness
still answers, readiness says the database is down, nothing hangs past the timeouts, and the
service recovers by itself once the database is back.

On PostgreSQL the app reaches its database through ``tests.faults.FaultProxy``, which refuses
connections or swallows every byte on demand. On SQLite the file goes missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from parley.app import create_app
from parley.config import Settings
from parley.db.engine import SYSTEM, write_connection
from tests.api.conftest import bearer
from tests.factories import OrgFixture, insert_all, make_org, varied_conversations
from tests.faults import FaultProxy, served, wait_until

LIST = "/core/conversations?limit=5"
# Generous: a hang is what fails, not a slow answer (the app's own limits are a few seconds).
CLIENT_TIMEOUT = 30.0


def fast_failing(settings: Settings, **changes: object) -> Settings:
    """The test's settings with limits short enough to keep the tests quick."""
    return settings.model_copy(
        update={
            "db_connect_timeout_seconds": 2,
            "db_statement_timeout_seconds": 1,
            "db_pool_timeout_seconds": 2,
            **changes,
        }
    )


@pytest.fixture
def acme(engine: Engine) -> OrgFixture:
    org = make_org(engine, "acme", agent_base=1000)
    insert_all(engine, org, varied_conversations(org, 12, seed=3))
    return org


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with FaultProxy(5432) as running:
        yield running


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["type"] == "https://parley.dev/problems/service-unavailable"
    assert "database" in body["detail"]


def check_every_kind_of_route(base: str, acme: OrgFixture) -> None:
    """While the database is away: reads, writes, auth, pages, health."""
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        assert_unavailable(http.get(LIST, headers=bearer(acme.tokens["read"])))
        assert_unavailable(http.get("/core/conversations/123", headers=bearer(acme.tokens["read"])))
        assert_unavailable(
            http.post(
                "/core/conversations",
                headers=bearer(acme.tokens["manage"]),
                json={"channel": "telephone", "direction": "inbound"},
            )
        )
        # A browser asking for a page is shown one.
        for path in ("/login", "/conversations/123"):
            page = http.get(
                path,
                headers={
                    "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                    "Cookie": "parley_session=whatever",
                },
            )
            assert page.status_code == 503
            assert page.headers["content-type"].startswith("text/html")
            assert "Parley is unavailable" in page.text
            assert int(page.headers["retry-after"]) > 0
        # Liveness answers; readiness says what is down.
        assert http.get("/healthz").json() == {"status": "ok"}
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["ok"] is False
        assert int(ready.headers["retry-after"]) > 0


def check_recovered(base: str, acme: OrgFixture) -> None:
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        response = http.get(LIST, headers=bearer(acme.tokens["read"]))
        assert response.status_code == 200
        assert len(response.json()["data"]) == 5
        # Readiness follows within a probe or two (one still running from the outage may
        # finish first).
        wait_until(lambda: http.get("/readyz").status_code == 200, "readiness to come back")
        assert http.get("/readyz").json()["checks"]["database"] == {"ok": True, "detail": "answering"}


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
def test_a_database_that_refuses_or_never_answers_gets_503_and_the_app_recovers_alone(
    settings: Settings, engine: Engine, acme: OrgFixture, proxy: FaultProxy, fault: str
) -> None:
    app = create_app(fast_failing(settings, database_url=proxy.url_for(settings.database_url)))
    with served(app) as base:
        check_recovered(base, acme)  # the pool now holds open connections: they fail too
        getattr(proxy, fault)()
        check_every_kind_of_route(base, acme)
        proxy.pass_through()
        check_recovered(base, acme)


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_statement_running_past_the_limit_is_cancelled_with_503(
    settings: Settings, engine: Engine, acme: OrgFixture
) -> None:
    app = create_app(fast_failing(settings))
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        with engine.connect() as blocker:
            # Held until the block ends: the list waits for it past the statement limit.
            blocker.execute(text("LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE"))
            assert_unavailable(http.get(LIST, headers=bearer(acme.tokens["read"])))
            blocker.rollback()
        assert http.get(LIST, headers=bearer(acme.tokens["read"])).status_code == 200


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_terminated_backends_cost_no_request_that_starts_after(
    settings: Settings, engine: Engine, acme: OrgFixture
) -> None:
    name = f"parley-test-{os.getpid()}-{id(engine)}"
    url = make_url(settings.database_url).update_query_dict({"application_name": name})
    app = create_app(fast_failing(settings, database_url=url.render_as_string(hide_password=False)))
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        # Several connections in the pool: concurrent requests open more than one.
        for _ in range(3):
            assert http.get(LIST, headers=bearer(acme.tokens["read"])).status_code == 200
        with engine.connect() as admin:
            # The app's backends first, then each terminated: in one WHERE clause PostgreSQL may
            # call pg_terminate_backend before it filters by name.
            pids = (
                admin.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"), {"name": name}
                )
                .scalars()
                .all()
            )
            killed = sum(
                bool(admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar())
                for pid in pids
            )
        assert killed >= 1
        statuses = [http.get(LIST, headers=bearer(acme.tokens["read"])).status_code for _ in range(10)]
        statuses.append(
            http.post(
                "/core/conversations",
                headers=bearer(acme.tokens["manage"]),
                json={"channel": "email", "direction": "inbound"},
            ).status_code
        )
    assert statuses == [200] * 10 + [201]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_missing_sqlite_file_is_not_ready_and_answers_503(
    settings: Settings, engine: Engine, acme: OrgFixture, tmp_path: Path
) -> None:
    path = Path(make_url(settings.database_url).database or "")
    app = create_app(fast_failing(settings))
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        assert http.get("/readyz").status_code == 200
        # Closed first, so SQLite folds its WAL into the file; then the file goes away.
        engine.dispose()
        app.state.engine.dispose()
        moved = tmp_path / "elsewhere.db"
        path.rename(moved)
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert "does not exist" in ready.json()["checks"]["database"]["detail"]
        assert_unavailable(http.get(LIST, headers=bearer(acme.tokens["read"])))
        assert http.get("/healthz").status_code == 200
        # Put back (over the empty file that connecting left): served again without a restart.
        app.state.engine.dispose()
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        moved.rename(path)
        check_recovered(base, acme)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_write_waiting_past_the_sqlite_busy_timeout_gets_503(
    settings: Settings, engine: Engine, acme: OrgFixture
) -> None:
    app = create_app(fast_failing(settings))
    body = {"channel": "telephone", "direction": "inbound", "external_id": "waited"}
    with served(app) as base, httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as http:
        with write_connection(engine, SYSTEM):  # another writer holds SQLite's write lock (BEGIN IMMEDIATE)
            assert_unavailable(
                http.post("/core/conversations", headers=bearer(acme.tokens["manage"]), json=body)
            )
        # Nothing was written: the same write now goes through.
        again = http.post("/core/conversations", headers=bearer(acme.tokens["manage"]), json=body)
        assert again.status_code == 201, again.text
