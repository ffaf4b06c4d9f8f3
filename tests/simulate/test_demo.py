"""``parley serve --demo`` plays conversations into the demo inbox while it runs (so two reads a
few seconds apart differ), winds them down to their end when stopped, and ``--no-simulate``
keeps the inbox still."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, select

from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.conversations.enums import FINISHED_STATUSES
from parley.db import tables
from parley.db.engine import SYSTEM, build_engine, write_connection
from tests.simulate.servers import parley_env, running_server

pytestmark = pytest.mark.slow


def first_page(url: str, token: str) -> list[tuple[str, str, int | None, int]]:
    """The newest conversations as a person sees them: status, duration and how much was said."""
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.get(f"{url}/core/conversations", params={"limit": 10}, headers=headers)
    assert response.status_code == 200, response.text
    seen = []
    for row in response.json()["data"]:
        said = 0
        if row["status"] in ("in_progress", "ringing", "queued"):  # a live one: its words arrive
            detail = httpx.get(f"{url}/core/conversations/{row['id']}", headers=headers).json()
            said = sum(len(turn["text"]) for turn in detail["transcript"])
        seen.append((row["id"], row["status"], row["duration_seconds"], said))
    return seen


def reader(engine: Engine) -> str:
    with write_connection(engine, SYSTEM) as conn:  # BEGIN IMMEDIATE: the server writes meanwhile
        org = service.get_org(conn, "demo")
        return service.create_token(
            conn, TokenKind.API_KEY, frozenset({Scope.READ, Scope.READ_SENSITIVE}), org_id=org.id
        )


def wait_for_a_change(url: str, token: str) -> None:
    before = first_page(url, token)
    deadline = time.monotonic() + 30  # the first arrives at once, and a live call's words every second
    while first_page(url, token) == before:
        assert time.monotonic() < deadline, "the demo inbox did not move"
        time.sleep(1)


def test_the_demo_inbox_moves_until_no_simulate(database_url: str, tmp_path: Path) -> None:
    env = parley_env(database_url, tmp_path)
    with running_server(env, tmp_path, "--demo") as server:
        engine = build_engine(database_url)
        token = reader(engine)
        wait_for_a_change(server.url, token)
    assert "Demo: new conversations arrive" in server.output()
    # A second start on the same database plays new conversations, not the first run's again.
    with running_server(env, tmp_path, "--demo", name="again") as again:
        wait_for_a_change(again.url, token)
    for log in (server.output(), again.output()):
        assert "stopped" not in log and " 409 " not in log and " 422 " not in log, log[-2000:]

    # Stopped with SIGTERM: what was in play was played to its end, and the run's key revoked.
    c, g, t = tables.conversations, tables.conversation_tags, tables.api_tokens
    with engine.connect() as conn:
        simulated = conn.execute(
            select(c.c.status).join(g, (g.c.org_id == c.c.org_id) & (g.c.conversation_id == c.c.id))
            .where(g.c.tag == "simulated")
        ).scalars().all()  # fmt: skip
        keys = conn.execute(select(t.c.revoked_at).where(t.c.name.like("parley simulate%"))).scalars().all()
    assert simulated and all(status in FINISHED_STATUSES for status in simulated), simulated
    assert keys and all(revoked is not None for revoked in keys)

    with running_server(env, tmp_path, "--demo", "--no-simulate", name="still") as server:
        before = first_page(server.url, token)
        time.sleep(3)
        assert first_page(server.url, token) == before
    assert "new conversations arrive" not in server.output()
    engine.dispose()
