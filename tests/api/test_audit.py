"""The audit trail through the API: each audited read and write is recorded with who, which
credential, which org, what and how many rows; ``GET /core/audit`` shows an org its own entries
only, to conversations:manage only, newest first, filtered and paged."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from parley.auth.tokens import prefix_of
from parley.db import tables
from tests.api.conftest import World, bearer

LIST = "/core/conversations"
AUDIT = "/core/audit"


def _flush(client: TestClient) -> None:
    client.app.state.audit.flush()  # type: ignore[attr-defined]


def _entries(client: TestClient, token: str, query: str = "", org: str | None = None) -> list[dict[str, Any]]:
    _flush(client)
    response = client.get(f"{AUDIT}?limit=200{'&' + query if query else ''}", headers=bearer(token, org))
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["data"]
    return entries


def _recorded(client: TestClient, token: str) -> str:
    """The id of a conversation of the token's org that has a recording."""
    listed = client.get(f"{LIST}?has_recording=true&limit=1", headers=bearer(token)).json()["data"]
    return str(listed[0]["id"])


def test_sensitive_reads_are_recorded_with_who_what_and_how_many(client: TestClient, world: World) -> None:
    token = world.acme.tokens["sensitive"]
    headers = bearer(token)
    recorded = _recorded(client, token)
    assert client.get(f"{LIST}/{recorded}", headers=headers).status_code == 200
    assert client.get(f"{LIST}/{recorded}/recording", headers=headers).status_code == 200
    # Seeking within the same playback is not a new look.
    seek = client.get(f"{LIST}/{recorded}/recording", headers={**headers, "Range": "bytes=10-"})
    assert seek.status_code == 206
    found = client.get(f"{LIST}?q=refund&limit=200", headers=headers).json()["data"]
    export = client.get(f"{LIST}/export.csv?channel=telephone", headers=headers)
    exported = list(csv.reader(io.StringIO(export.text)))[1:]
    assert found and exported

    entries = _entries(client, world.acme.tokens["manage"])
    mine = [e for e in entries if e["credential"] == prefix_of(token)]
    by_action = {e["action"]: e for e in mine}
    assert [e["action"] for e in mine] == ["export", "search", "recording.play", "conversation.read"]
    assert by_action["conversation.read"]["target"] == recorded
    assert by_action["conversation.read"]["rows"] == 1
    assert by_action["recording.play"]["target"] == recorded
    assert by_action["search"]["rows"] == len(found)
    # The manage-only reader may not read sensitive data: the search's text is not shown to it.
    assert by_action["search"]["detail"] == {"filters": ["q"]}
    assert by_action["export"]["rows"] == len(exported)
    assert by_action["export"]["detail"] == {"filters": ["channel"], "complete": True}
    assert all(e["client"] == "testclient" and e["user_id"] is None for e in mine)


def test_reads_without_sensitive_data_are_not_recorded(client: TestClient, world: World) -> None:
    token = world.acme.tokens["read"]
    some = client.get(f"{LIST}?limit=3", headers=bearer(token)).json()["data"]
    for item in some:
        assert client.get(f"{LIST}/{item['id']}", headers=bearer(token)).status_code == 200
    entries = _entries(client, world.acme.tokens["manage"])
    assert not [e for e in entries if e["credential"] == prefix_of(token)]


def test_a_search_text_is_shown_only_to_readers_who_may_read_it(client: TestClient, world: World) -> None:
    """max is an admin of globex (every scope there): a reader with read_sensitive sees the text."""
    assert client.get(f"{LIST}?q=parcel", headers=bearer(world.globex.tokens["sensitive"])).status_code == 200
    searches = _entries(client, world.multi_pat, "action=search", org="globex")
    assert [e["detail"] for e in searches] == [{"filters": ["q"], "q": "parcel"}]
    hidden = _entries(client, world.globex.tokens["manage"], "action=search")
    assert [e["detail"] for e in hidden] == [{"filters": ["q"]}]


def test_every_write_has_its_entry_when_it_is_acknowledged(client: TestClient, world: World) -> None:
    token = world.acme.tokens["manage"]
    headers = bearer(token)
    made = client.post(LIST, json={"channel": "text", "direction": "inbound"}, headers=headers).json()
    target = made["id"]
    turns = {"turns": [{"seq": n, "speaker": "agent", "text": f"line {n}"} for n in range(3)]}
    assert client.post(f"{LIST}/{target}/turns", json=turns, headers=headers).status_code == 200
    assert client.patch(f"{LIST}/{target}", json={"summary": "x"}, headers=headers).status_code == 200
    assert client.delete(f"{LIST}/{target}", headers=headers).status_code == 204
    # No flush: a write's entry commits with the write itself.
    response = client.get(f"{AUDIT}?limit=10", headers=headers).json()["data"]
    writes = [(e["action"], e["target"], e["rows"]) for e in response if e["credential"] == prefix_of(token)]
    assert writes[:4] == [
        ("conversation.delete", target, 1),
        ("conversation.update", target, 1),
        ("turns.write", target, 3),
        ("conversation.create", target, 1),
    ]


def test_a_refused_write_records_nothing(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["manage"])
    before = _entries(client, world.acme.tokens["manage"])
    assert client.patch(f"{LIST}/42", json={"summary": "x"}, headers=headers).status_code == 404
    assert _entries(client, world.acme.tokens["manage"]) == before


def test_an_org_sees_only_its_own_entries(client: TestClient, world: World) -> None:
    for org in (world.acme, world.globex):
        token = org.tokens["sensitive"]
        item = client.get(f"{LIST}?limit=1", headers=bearer(token)).json()["data"][0]
        client.get(f"{LIST}/{item['id']}", headers=bearer(token))
    acme = _entries(client, world.acme.tokens["manage"])
    globex = _entries(client, world.globex.tokens["manage"])
    acme_credentials = {prefix_of(t) for t in world.acme.tokens.values()}
    globex_credentials = {prefix_of(t) for t in world.globex.tokens.values()}
    assert {e["credential"] for e in acme} & acme_credentials
    assert not {e["credential"] for e in acme} & globex_credentials
    assert not {e["credential"] for e in globex} & acme_credentials
    assert not {e["target"] for e in acme} & {str(i) for i in world.globex.conversation_ids}


def test_the_trail_needs_manage(client: TestClient, world: World) -> None:
    for label in ("read", "sensitive"):
        response = client.get(AUDIT, headers=bearer(world.acme.tokens[label]))
        assert response.status_code == 403
        assert "conversations:manage" in response.json()["detail"]
    assert client.get(AUDIT, headers=bearer(world.analyst_pat, "acme")).status_code == 403


def test_filters_and_pages_walk_the_trail_newest_first(client: TestClient, world: World) -> None:
    token = world.acme.tokens["sensitive"]
    for item in client.get(f"{LIST}?limit=5", headers=bearer(token)).json()["data"]:
        client.get(f"{LIST}/{item['id']}", headers=bearer(token))
    manage = bearer(world.acme.tokens["manage"])
    _flush(client)
    everything = client.get(f"{AUDIT}?limit=200", headers=manage).json()["data"]
    pages: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = client.get(f"{AUDIT}?limit=2&action=conversation.read{cursor}", headers=manage).json()
        pages.extend(page["data"])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    reads = [e for e in everything if e["action"] == "conversation.read"]
    assert len(reads) == 5 and pages == reads
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    since = reads[2]["at"]
    assert client.get(f"{AUDIT}?action=conversation.read&since={since}", headers=manage).json()["data"] == [
        e for e in reads if e["at"] >= since
    ]
    assert client.get(f"{AUDIT}?until={everything[-1]['at']}", headers=manage).json()["data"] == [
        e for e in everything if e["at"] < everything[-1]["at"]
    ]
    # A cursor is bound to its filters.
    mismatched = client.get(f"{AUDIT}?limit=2{cursor}", headers=manage)
    assert cursor == "" or mismatched.status_code == 400


def test_no_secret_is_ever_stored(client: TestClient, world: World, engine: Engine) -> None:
    for label in ("read", "sensitive", "manage"):
        token = world.acme.tokens[label]
        client.get(f"{LIST}?limit=2", headers=bearer(token))
        client.get(f"{LIST}/export.csv", headers=bearer(token))
    client.get(f"{LIST}?q=refund", headers=bearer(world.analyst_pat, "acme"))
    _flush(client)
    with engine.connect() as connection:
        rows = connection.execute(select(tables.audit_log)).all()
    stored = "\n".join(str(tuple(row)) for row in rows)
    secrets = [*world.acme.tokens.values(), *world.globex.tokens.values(), world.analyst_pat, world.multi_pat]
    assert rows and not [s for s in secrets if s in stored or s[12:24] in stored]
