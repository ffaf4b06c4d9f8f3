"""``parley simulate`` against a real ``parley serve``: conversations of every kind arrive through
the HTTP API, calls ring before they are answered, words arrive as growing partial turns, and
every conversation the simulator reports ends with its analysis and a transcript in order."""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, select

from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.config import Settings
from parley.conversations.enums import FINISHED_STATUSES, Status
from parley.db import tables
from parley.db.engine import SYSTEM, write_connection
from parley.ingest.transitions import is_forward
from parley.seed.run import seed_org
from tests.simulate.servers import parley_env, running_server, simulate

pytestmark = pytest.mark.slow


def reader_token(engine: Engine, slug: str) -> str:
    scopes = frozenset({Scope.READ, Scope.READ_SENSITIVE})
    with write_connection(engine, SYSTEM) as conn:  # BEGIN IMMEDIATE: the server writes meanwhile
        org = service.get_org(conn, slug)
        return service.create_token(conn, TokenKind.API_KEY, scopes, org_id=org.id)


def status_paths(engine: Engine, org_id: int) -> dict[str, list[str]]:
    """Each conversation's statuses in the order they were set, from the event log."""
    e = tables.events
    paths: dict[str, list[str]] = defaultdict(list)
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.conversation_id, e.c.kind, e.c.body).where(e.c.org_id == org_id).order_by(e.c.seq)
        )
        for row in rows:
            body = json.loads(row.body)
            if row.kind in ("created", "status_changed"):
                paths[str(row.conversation_id)].append(body["status"])
            if row.kind == "turns" and any(not t["final"] for t in body["transcript"]):
                paths[str(row.conversation_id) + ":partial"].append("yes")
    return paths


def test_simulated_conversations_arrive_live_and_end(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    report = seed_org(engine, settings, "acme", 0)  # the org and its agents, no conversations
    env = parley_env(settings.database_url, tmp_path)
    with running_server(env, tmp_path) as server:
        # At 40x, a four-minute call takes six seconds; at 150 a minute, about ten start.
        run = simulate(
            env, tmp_path, "--org", "acme", "--url", server.url,
            "--rate", "150", "--duration", "4", "--speed", "40", "--seed", "5",
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        ids = run.stdout.split()
        reported = re.search(r"Simulated (\d+) conversation", run.stderr)
        assert reported and int(reported.group(1)) == len(ids) >= 5, run.stderr

        headers = {"Authorization": f"Bearer {reader_token(engine, 'acme')}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            listed = client.get("/core/conversations", params={"limit": 200}).json()["data"]
            details = {row["id"]: client.get(f"/core/conversations/{row['id']}").json() for row in listed}
            recorded = [i for i, d in details.items() if d["has_recording"]]
            audio = [client.get(f"/core/conversations/{i}/recording") for i in recorded]

    assert sorted(row["id"] for row in listed) == sorted(ids)  # every one reported, nothing else
    assert len({row["channel"] for row in listed}) >= 3
    agent_ids = {str(a.id) for a in _agents(engine)}
    assert report.agents == len(agent_ids)
    for detail in details.values():
        _check_finished(detail, agent_ids)
    assert all(r.status_code == 200 and r.content[:4] == b"RIFF" for r in audio)

    with engine.connect() as conn:
        org_id = service.get_org(conn, "acme").id
    paths = status_paths(engine, org_id)
    answered_calls = 0
    for conversation_id, detail in details.items():
        path = paths[conversation_id]
        assert all(is_forward(Status(a), Status(b)) for a, b in itertools.pairwise(path)), path
        assert path[-1] == detail["status"]
        if detail["channel"] == "telephone":
            assert path[0] in ("ringing", "queued") and "ringing" in path, path
            if detail["transcript"]:
                answered_calls += 1
                assert "in_progress" in path
    assert answered_calls >= 1
    assert any(key.endswith(":partial") for key in paths)  # words arrived before they were final


def _check_finished(detail: dict[str, Any], agent_ids: set[str]) -> None:
    assert Status(detail["status"]) in FINISHED_STATUSES, detail["status"]
    assert detail["tags"] == ["simulated"] and detail["ended_reason"] and detail["ended_at"]
    assert detail["agent"] is None or detail["agent"]["id"] in agent_ids
    turns = detail["transcript"]
    assert [t["seq"] for t in turns] == list(range(len(turns)))
    assert all(t["final"] for t in turns)  # no partial left among finished conversations
    offsets = [t["offset_ms"] for t in turns]
    assert offsets == sorted(set(offsets))
    if turns:
        assert detail["started_at"] and detail["duration_seconds"] is not None
        assert offsets[-1] <= (detail["duration_seconds"] + 1) * 1000
        assert detail["sentiment"] in ("positive", "neutral", "negative")
    if detail["status"] in ("completed", "transferred"):
        assert detail["summary"]


def _agents(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(tables.agents.c.id)))


def test_ctrl_c_plays_what_is_in_progress_to_its_end(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    seed_org(engine, settings, "acme", 0)
    env = parley_env(settings.database_url, tmp_path)
    with running_server(env, tmp_path) as server:
        # Real time and no duration: it runs until interrupted, with every call still going.
        process = subprocess.Popen(
            [sys.executable, "-m", "parley", "simulate", "--org", "acme", "--url", server.url,
             "--rate", "120", "--seed", "8"],
            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(3)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "Winding down" in stderr and "played to their end at once" in stderr
        headers = {"Authorization": f"Bearer {reader_token(engine, 'acme')}"}
        with httpx.Client(base_url=server.url, headers=headers) as client:
            details = [client.get(f"/core/conversations/{i}").json() for i in stdout.split()]
    assert details
    agent_ids = {str(a.id) for a in _agents(engine)}
    for detail in details:
        _check_finished(detail, agent_ids)
        if detail["channel"] == "telephone" and detail["transcript"]:
            # Played to the end at once, yet as long as the call would have been.
            assert detail["duration_seconds"] >= 5, detail
