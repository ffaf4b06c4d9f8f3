"""Invariants checked over many generated requests (hypothesis).

- Walking every page with any filter set yields exactly the rows a direct query yields, in order.
- A search (``q``, with any other filters) finds exactly the rows an independent reading of the
  texts finds, through every search path: the page walk, PostgreSQL's index-first way, and the
  export.
- A token of one org never sees a row, a count, an error difference or an export line of another.
- Without read_sensitive no sensitive value appears in any response body.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import patch
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from parley.db import tables
from parley.ingest.records import Turn
from tests.api.conftest import World, bearer
from tests.factories import BASE_TIME, conversation, insert_all

LIST = "/core/conversations"
PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

CHANNELS = ["telephone", "webrtc", "email", "text"]
STATUSES = ["completed", "transferred", "failed", "no_answer", "busy", "canceled", "voicemail", "in_progress"]


@st.composite
def filter_sets(draw: st.DrawFn, agent_ids: list[int], user_ids: Sequence[str] = ()) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if user_ids and draw(st.integers(0, 3)) == 0:
        params["user_id"] = draw(st.sampled_from([*user_ids, "+10000000000"]))
    if draw(st.booleans()):
        params["channel"] = draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        params["status"] = draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        params["direction"] = draw(st.sampled_from(["inbound", "outbound"]))
    if draw(st.booleans()):
        params["agent_id"] = draw(st.lists(st.sampled_from(agent_ids), min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 3)) == 0:
            params["agent_version"] = draw(st.sampled_from([1, 2]))
    if draw(st.booleans()):
        low = draw(st.integers(0, 300))
        params["min_duration"] = low
        if draw(st.booleans()):
            params["max_duration"] = low + draw(st.integers(0, 200))
    after = BASE_TIME - timedelta(minutes=draw(st.integers(0, 25)))
    before = after + timedelta(minutes=draw(st.integers(1, 30)))
    if draw(st.booleans()):
        params["created_after"] = after.isoformat()
    if draw(st.booleans()):
        params["created_before"] = before.isoformat()
    if draw(st.booleans()):
        params["has_recording"] = draw(st.sampled_from(["true", "false"]))
    return params


def matches(row: Any, params: dict[str, Any]) -> bool:
    """The filter semantics, written independently of the query layer."""
    if row.status == "token_created":
        return False
    if "user_id" in params and row.user_id != params["user_id"]:
        return False
    if "channel" in params and row.channel not in params["channel"]:
        return False
    if "status" in params and row.status not in params["status"]:
        return False
    if "direction" in params and row.direction != params["direction"]:
        return False
    if "agent_id" in params and row.agent_id not in params["agent_id"]:
        return False
    if "agent_version" in params and row.agent_version != params["agent_version"]:
        return False
    duration = row.duration_seconds
    if "min_duration" in params and (duration is None or duration < params["min_duration"]):
        return False
    if "max_duration" in params and (duration is None or duration > params["max_duration"]):
        return False
    created = row.created_at
    if "created_after" in params and created < datetime.fromisoformat(params["created_after"]):
        return False
    if "created_before" in params and created >= datetime.fromisoformat(params["created_before"]):
        return False
    return not ("has_recording" in params and bool(row.has_recording) != (params["has_recording"] == "true"))


def walk(client: TestClient, headers: dict[str, str], params: dict[str, Any], limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        query = dict(params, limit=limit, **({"cursor": cursor} if cursor else {}))
        response = client.get(f"{LIST}?{urlencode(query, doseq=True)}", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        ids.extend(item["id"] for item in body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return ids


def newest_first(engine: Engine, org_id: int) -> list[Any]:
    c = tables.conversations
    with engine.connect() as conn:
        return list(
            conn.execute(select(c).where(c.c.org_id == org_id).order_by(c.c.created_at.desc(), c.c.id.desc()))
        )


def test_pages_equal_a_direct_query(client: TestClient, world: World, engine: Engine) -> None:
    all_rows = newest_first(engine, world.acme.id)
    user_ids = sorted({row.user_id for row in all_rows})[:6]
    headers = bearer(world.acme.tokens["sensitive"])

    @PROPERTY_SETTINGS
    @given(params=filter_sets(world.acme.agent_ids, user_ids), limit=st.integers(1, 12))
    def check(params: dict[str, Any], limit: int) -> None:
        expected = [str(row.id) for row in all_rows if matches(row, params)]
        assert walk(client, headers, params, limit) == expected

    check()


# Words whose every occurrence in the test data is this exact word, so that stemming (SQLite's
# porter, PostgreSQL's english) matches a row exactly when the word occurs in it.
SEARCH_WORDS = ["invoice", "password", "upgrade", "warranty", "router", "refund", "parcel", "caller"]


def _words(*texts: str | None) -> set[str]:
    return {w for text in texts if text for w in re.findall(r"\w+", text.lower())}


def search_matches(row: Any, texts: set[str], identifiers: list[str], q: str) -> bool:
    """The search semantics, read off the texts: every word occurs, or the whole query occurs
    inside an identifier."""
    words = re.findall(r"\w+", q.lower())
    fragment = q.strip().lower()
    return bool(words and all(w in texts for w in words)) or (
        len(fragment) >= 3 and any(fragment in ident.lower() for ident in identifiers)
    )


def test_search_finds_what_the_texts_say_on_every_path(
    client: TestClient, world: World, engine: Engine
) -> None:
    rng = random.Random(7)
    extra = [
        conversation(
            rng,
            BASE_TIME - timedelta(minutes=n, seconds=30),
            world.acme.agent_ids[n % 2],
            channel=["telephone", "email", "text"][n % 3],
            summary=" ".join(rng.sample(SEARCH_WORDS[:5], 2)) + " discussed.",
            turns=(Turn("caller", f"About my {rng.choice(SEARCH_WORDS[:5])}, please.", 0),),
            duration_seconds=30 * n,
        )
        for n in range(24)
    ]
    insert_all(engine, world.acme, extra)
    all_rows = newest_first(engine, world.acme.id)
    t, p = tables.transcript_turns, tables.participants
    with engine.connect() as conn:
        turns = conn.execute(select(t.c.conversation_id, t.c.text).where(t.c.org_id == world.acme.id)).all()
        people = conn.execute(
            select(p.c.conversation_id, p.c.address).where(p.c.org_id == world.acme.id)
        ).all()
    texts = {row.id: _words(row.summary, row.caller_name) for row in all_rows}
    identifiers = {row.id: [str(row.id), row.user_id or "", row.agent_number or ""] for row in all_rows}
    for conversation_id, text in turns:
        texts[conversation_id] |= _words(text)
    for conversation_id, address in people:
        identifiers[conversation_id].append(address)
    fragments = [all_rows[3].user_id[-5:], all_rows[10].user_id[2:9], "cc1", "5550100", "xyz"]
    headers = bearer(world.acme.tokens["sensitive"])

    @PROPERTY_SETTINGS
    @given(
        q=st.one_of(
            st.lists(st.sampled_from([*SEARCH_WORDS, "zebrafish"]), min_size=1, max_size=2).map(" ".join),
            st.sampled_from(fragments),
            st.sampled_from(SEARCH_WORDS).map(str.upper),
        ),
        params=filter_sets(world.acme.agent_ids),
        limit=st.integers(1, 9),
        walk_common=st.booleans(),
    )
    def check(q: str, params: dict[str, Any], limit: int, walk_common: bool) -> None:
        expected = [
            str(row.id)
            for row in all_rows
            if matches(row, params) and search_matches(row, texts[row.id], identifiers[row.id], q)
        ]
        query = dict(params, q=q)
        # On PostgreSQL a search walks the newest rows or reads the index first, as the column
        # statistics say; both ways are taken here, whatever the statistics of this tiny set.
        with patch("parley.conversations.search.common_words", return_value=walk_common):
            assert walk(client, headers, query, limit) == expected
        export = client.get(f"{LIST}/export.csv?{urlencode(query, doseq=True)}", headers=headers).text
        assert [line.split(",", 1)[0] for line in export.splitlines()[1:]] == expected

    check()


def test_no_org_ever_sees_another(client: TestClient, world: World) -> None:
    theirs = {str(i) for i in world.globex.conversation_ids}
    headers = bearer(world.acme.tokens["sensitive"])
    missing = client.get(f"{LIST}/1", headers=headers)

    @PROPERTY_SETTINGS
    @given(
        params=filter_sets(world.acme.agent_ids + world.globex.agent_ids),
        foreign=st.sampled_from(sorted(world.globex.conversation_ids)),
    )
    def check(params: dict[str, Any], foreign: int) -> None:
        listed = set(walk(client, headers, params, 50))
        assert not listed & theirs
        counted = client.get(f"{LIST}/count?{urlencode(params, doseq=True)}", headers=headers).json()
        assert counted == {"count": len(listed), "exact": True}  # never one of theirs counted
        export = client.get(f"{LIST}/export.csv?{urlencode(params, doseq=True)}", headers=headers).text
        assert not any(conversation_id in export for conversation_id in theirs)
        for suffix in ("", "/recording"):
            response = client.get(f"{LIST}/{foreign}{suffix}", headers=headers)
            assert response.status_code == 404
            assert response.headers["content-type"] == missing.headers["content-type"]
        detail = client.get(f"{LIST}/{foreign}", headers=headers).json()
        assert detail["detail"].replace(str(foreign), "1") == missing.json()["detail"]

    check()
    # Nor in the audit trail: all those reads are acme's, and globex's admins see none of them.
    client.app.state.audit.flush()  # type: ignore[attr-defined]
    for org, other in ((world.globex, world.acme), (world.acme, world.globex)):
        trail = client.get("/core/audit?limit=200", headers=bearer(org.tokens["manage"])).json()["data"]
        assert not {e["credential"] for e in trail} & {t[:12] for t in other.tokens.values()}
        assert not {e["target"] for e in trail} & {str(i) for i in other.conversation_ids}


def _sensitive_values(engine: Engine, org_id: int) -> set[str]:
    c, t, p = tables.conversations, tables.transcript_turns, tables.participants
    values: set[str] = set()
    with engine.connect() as conn:
        for row in conn.execute(
            select(c.c.user_id, c.c.caller_name, c.c.summary).where(c.c.org_id == org_id)
        ):
            values.update(v for v in row if v)
        values.update(conn.execute(select(t.c.text).where(t.c.org_id == org_id)).scalars())
        values.update(conn.execute(select(p.c.address).where(p.c.org_id == org_id)).scalars())
    return values


def test_without_read_sensitive_nothing_sensitive_leaks(
    client: TestClient, world: World, engine: Engine
) -> None:
    secrets = _sensitive_values(engine, world.acme.id)
    assert len(secrets) > 50
    ids = sorted(world.acme.conversation_ids)

    @PROPERTY_SETTINGS
    @given(
        token=st.sampled_from(["read", "manage"]),
        params=filter_sets(world.acme.agent_ids),
        conversation_id=st.sampled_from(ids),
        tz=st.sampled_from(["UTC", "Europe/Paris"]),
    )
    def check(token: str, params: dict[str, Any], conversation_id: int, tz: str) -> None:
        headers = bearer(world.acme.tokens[token])
        query = urlencode(params, doseq=True)
        bodies = [
            client.get(f"{LIST}?{query}&limit=200", headers=headers).text,
            client.get(f"{LIST}/{conversation_id}", headers=headers).text,
            client.get(f"{LIST}/{conversation_id}/recording", headers=headers).text,
            client.get(f"{LIST}/export.csv?{query}&tz={tz}", headers=headers).text,
        ]
        for body in bodies:
            leaked = [value for value in secrets if value in body]
            assert not leaked, leaked[:3]

    check()
    # What the audit trail kept of all those requests holds no sensitive value either.
    client.app.state.audit.flush()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        trail = "\n".join(str(tuple(row)) for row in conn.execute(select(tables.audit_log)))
    assert "export" in trail
    assert not [value for value in secrets if value in trail]
