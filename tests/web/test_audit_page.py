"""The audit trail of the web inbox: logins, failed and refused logins, pages that show sensitive
data; and the /audit page, for the admins of the org only."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from parley.db import tables
from tests.web.conftest import ANALYST, MULTI, WebWorld, log_in

WRONG = "not the password"


def _rows(client: TestClient, engine: Engine, action: str) -> list[Any]:
    client.app.state.audit.flush()  # type: ignore[attr-defined]
    a = tables.audit_log
    with engine.connect() as connection:
        return connection.execute(select(a).where(a.c.action == action).order_by(a.c.id)).all()


def _user_id(engine: Engine, email: str) -> int:
    with engine.connect() as connection:
        found = connection.execute(select(tables.users.c.id).where(tables.users.c.email == email)).scalar()
    assert found is not None
    return int(found)


def test_logins_are_recorded_in_each_org_of_the_account(
    client: TestClient, engine: Engine, web_world: WebWorld
) -> None:
    assert log_in(client, MULTI, WRONG).status_code == 400
    assert log_in(client, MULTI).status_code == 303
    user = _user_id(engine, MULTI)
    orgs = {web_world.acme.id, web_world.globex.id}
    failed = _rows(client, engine, "login.failed")
    assert {(r.org_id, r.user_id, r.client) for r in failed} == {(o, user, "testclient") for o in orgs}
    assert all(orjson.loads(r.detail) == {"account": "m…@acme.test"} for r in failed)
    logins = _rows(client, engine, "login")
    assert {(r.org_id, r.user_id) for r in logins} == {(o, user) for o in orgs}
    session = client.cookies["parley_session"]
    assert all(r.credential.startswith("session:") and session not in r.credential for r in logins)


def test_a_failure_for_an_unknown_email_and_a_refusal_belong_to_no_org(
    client: TestClient, engine: Engine, web_world: WebWorld
) -> None:
    assert log_in(client, "nobody@nowhere.test", WRONG).status_code == 400
    [unknown] = _rows(client, engine, "login.failed")
    assert (unknown.org_id, unknown.user_id) == (None, None)
    statuses = [log_in(client, ANALYST, WRONG).status_code for _ in range(12)]
    assert 429 in statuses
    refused = _rows(client, engine, "login.throttled")
    assert len(refused) == statuses.count(429)
    assert {(r.org_id, orjson.loads(r.detail)["account"]) for r in refused} == {(None, "a…@acme.test")}


def test_a_detail_page_with_the_transcript_is_recorded(
    client: TestClient, engine: Engine, web_world: WebWorld
) -> None:
    log_in(client, ANALYST)
    target = web_world.acme.conversation_ids[0]
    assert client.get(f"/conversations/{target}").status_code == 200
    [read] = _rows(client, engine, "conversation.read")
    assert (read.org_id, read.user_id, read.target) == (
        web_world.acme.id,
        _user_id(engine, ANALYST),
        str(target),
    )
    assert read.credential.startswith("session:")


def test_the_audit_page_is_for_admins_and_linked_only_for_them(
    client: TestClient, engine: Engine, web_world: WebWorld
) -> None:
    log_in(client, ANALYST)
    assert 'href="/audit' not in client.get("/").text
    refused = client.get("/audit")
    assert refused.status_code == 403
    assert "admins" in refused.text
    client.cookies.clear()
    log_in(client, MULTI)
    assert 'href="/audit?org=globex"' in client.get("/?org=globex").text
    page = client.get("/audit?org=globex")
    assert page.status_code == 200
    assert "<table" in page.text and ">login<" in page.text
    expired = client.get("/audit?org=globex&cursor=zzz")
    assert expired.status_code == 400 and "expired" in expired.text
    only = client.get("/audit?org=globex&action=login.failed")
    assert only.status_code == 200 and "Nothing recorded yet." in only.text
