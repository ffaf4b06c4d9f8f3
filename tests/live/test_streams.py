"""Live streams through a running server: snapshot, every change after it, the field policy on
raw bytes, filters, one conversation, resume with Last-Event-ID, and reset past the window."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, select

from parley.config import Settings
from parley.db import tables
from tests.api.conftest import World, bearer
from tests.live.conftest import Server, Stream, open_stream, start_server

LIVE = "/core/conversations/live"


@contextmanager
def watching(server: Server, path: str, headers: dict[str, str]) -> Iterator[Stream]:
    with httpx.Client(base_url=server.url) as client:
        stream, context = open_stream(client, path, headers)
        try:
            yield stream
        finally:
            context.__exit__(None, None, None)  # type: ignore[attr-defined]


def write(server: Server, world: World, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.request(
        method, server.url + path, json=body, headers=bearer(world.acme.tokens["manage"])
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def test_the_org_stream_sends_a_snapshot_then_each_change(server: Server, world: World) -> None:
    with watching(server, LIVE, bearer(world.acme.tokens["sensitive"])) as stream:
        snapshot = stream.until("snapshot")
        open_ids = {item["id"] for item in snapshot.data["conversations"]}  # type: ignore[union-attr]
        assert open_ids and all(item["status"] == "in_progress" for item in snapshot.data["conversations"])  # type: ignore[union-attr]
        made = write(
            server,
            world,
            "POST",
            "/core/conversations",
            {
                "channel": "telephone",
                "direction": "inbound",
                "status": "ringing",
                "caller_name": "Live Larry",
            },
        )
        created = stream.until("created")
        assert created.data["conversation_id"] == made["id"]
        assert created.data["conversation"]["caller_name"] == "Live Larry"  # type: ignore[index]
        assert int(created.id or 0) > int(snapshot.id or 0)
        write(server, world, "PATCH", f"/core/conversations/{made['id']}", {"status": "in_progress"})
        changed = stream.until("status_changed")
        assert changed.data["changes"] == {"status": "in_progress"}
        write(
            server,
            world,
            "POST",
            f"/core/conversations/{made['id']}/turns",
            {"turns": [{"seq": 0, "speaker": "user", "text": "partial wo", "final": False}]},
        )
        write(
            server,
            world,
            "POST",
            f"/core/conversations/{made['id']}/turns",
            {"turns": [{"seq": 0, "speaker": "user", "text": "partial words, final", "final": True}]},
        )
        first, second = stream.until("turns"), stream.until("turns")
        assert first.data["changes"]["transcript"][0]["final"] is False  # type: ignore[index]
        assert second.data["changes"]["transcript"][0]["text"] == "partial words, final"  # type: ignore[index]
        assert int(second.id or 0) == int(first.id or 0) + 1


def test_without_read_sensitive_nothing_sensitive_is_streamed(server: Server, world: World) -> None:
    with watching(server, LIVE, bearer(world.acme.tokens["read"])) as stream:
        stream.until("snapshot")
        made = write(
            server,
            world,
            "POST",
            "/core/conversations",
            {
                "channel": "email",
                "direction": "inbound",
                "user_id": "secret.person@example.com",
                "caller_name": "Secret Person",
                "summary": "Top secret summary.",
            },
        )
        write(
            server,
            world,
            "POST",
            f"/core/conversations/{made['id']}/turns",
            {"turns": [{"seq": 0, "speaker": "user", "text": "my card number is 4111-1111-1111-1111"}]},
        )
        created = stream.until("created")
        assert "caller_name" not in created.data["conversation"]  # type: ignore[operator]
        turns = stream.until("turns")
        assert turns.data["changes"] == {}
        raw = "\n".join(stream.raw)
        for secret in ("secret.person@example.com", "Secret Person", "Top secret summary", "4111-1111"):
            assert secret not in raw


def test_a_filtered_stream_sends_only_what_the_filters_match(server: Server, world: World) -> None:
    with watching(server, f"{LIVE}?channel=email", bearer(world.acme.tokens["read"])) as stream:
        snapshot = stream.until("snapshot")
        assert all(item["channel"] == "email" for item in snapshot.data["conversations"])  # type: ignore[union-attr]
        write(server, world, "POST", "/core/conversations", {"channel": "telephone", "direction": "inbound"})
        email = write(
            server, world, "POST", "/core/conversations", {"channel": "email", "direction": "inbound"}
        )
        assert stream.until("created").data["conversation_id"] == email["id"]


def test_another_orgs_changes_never_reach_a_stream(server: Server, world: World) -> None:
    with watching(server, LIVE, bearer(world.acme.tokens["sensitive"])) as stream:
        stream.until("snapshot")
        theirs = httpx.post(
            server.url + "/core/conversations",
            json={"channel": "text", "direction": "inbound"},
            headers=bearer(world.globex.tokens["manage"]),
        ).json()
        ours = write(
            server, world, "POST", "/core/conversations", {"channel": "text", "direction": "inbound"}
        )
        assert stream.until("created").data["conversation_id"] == ours["id"]
        assert theirs["id"] not in "\n".join(stream.raw)


def test_one_conversations_stream_grows_turn_by_turn(server: Server, world: World) -> None:
    made = write(
        server,
        world,
        "POST",
        "/core/conversations",
        {"channel": "webrtc", "direction": "inbound", "user_id": "guest_1"},
    )
    other = write(
        server,
        world,
        "POST",
        "/core/conversations",
        {"channel": "webrtc", "direction": "inbound", "user_id": "guest_2"},
    )
    with watching(
        server, f"/core/conversations/{made['id']}/live", bearer(world.acme.tokens["sensitive"])
    ) as stream:
        snapshot = stream.until("snapshot")
        assert (
            snapshot.data["conversation"]["id"] == made["id"]
            and snapshot.data["conversation"]["transcript"] == []
        )  # type: ignore[index]
        write(
            server,
            world,
            "POST",
            f"/core/conversations/{other['id']}/turns",
            {"turns": [{"seq": 0, "speaker": "agent", "text": "elsewhere"}]},
        )
        for n in range(3):
            write(
                server,
                world,
                "POST",
                f"/core/conversations/{made['id']}/turns",
                {"turns": [{"seq": n, "speaker": "agent", "text": f"turn {n}"}]},
            )
        texts = [stream.until("turns").data["changes"]["transcript"][0]["text"] for _ in range(3)]  # type: ignore[index]
        assert texts == ["turn 0", "turn 1", "turn 2"]


def test_resuming_with_last_event_id_misses_and_repeats_nothing(server: Server, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    made = write(server, world, "POST", "/core/conversations", {"channel": "text", "direction": "inbound"})
    with watching(server, LIVE, headers) as stream:
        stream.until("snapshot")
        write(server, world, "PATCH", f"/core/conversations/{made['id']}", {"summary": "one"})
        last = stream.until("updated")
    # Disconnected: these happen while nobody watches.
    for n in range(5):
        write(server, world, "PATCH", f"/core/conversations/{made['id']}", {"summary": f"while away {n}"})
    for header in ({"Last-Event-ID": str(last.id)}, None):
        path = LIVE if header else f"{LIVE}?last_event_id={last.id}"
        with watching(server, path, {**headers, **(header or {})}) as stream:
            ids = [int(stream.until("updated").id or 0) for _ in range(5)]
        assert ids == list(range(int(last.id or 0) + 1, int(last.id or 0) + 6))


def test_an_id_outside_the_window_gets_a_reset(server: Server, world: World) -> None:
    with watching(server, LIVE, {**bearer(world.acme.tokens["read"]), "Last-Event-ID": "999999"}) as stream:
        assert "reload" in str(stream.until("reset").data["reason"])


def test_bad_stream_requests_are_refused(server: Server, world: World) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    assert httpx.get(f"{server.url}{LIVE}?q=refund", headers=headers).status_code == 400
    assert httpx.get(f"{server.url}{LIVE}?channel=fax", headers=headers).status_code == 400
    assert httpx.get(f"{server.url}{LIVE}", headers={**headers, "Last-Event-ID": "abc"}).status_code == 400
    assert (
        httpx.get(f"{server.url}{LIVE}?user_id=x", headers=bearer(world.acme.tokens["read"])).status_code
        == 403
    )
    assert httpx.get(f"{server.url}/core/conversations/42/live", headers=headers).status_code == 404
    assert httpx.get(f"{server.url}{LIVE}").status_code == 401


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_events_cross_processes_and_survive_a_restart(
    settings: Settings, tmp_path: Path, world: World, database_url: str
) -> None:
    """Two servers on one PostgreSQL: a change written through one reaches a viewer of the
    other; that one restarts, and the viewer resumes with Last-Event-ID without a gap."""
    writer, reader = start_server(settings, tmp_path), start_server(settings, tmp_path)
    try:
        headers = bearer(world.acme.tokens["read"])
        made = write(
            writer, world, "POST", "/core/conversations", {"channel": "text", "direction": "inbound"}
        )
        with watching(reader, LIVE, headers) as stream:
            stream.until("snapshot")
            write(writer, world, "PATCH", f"/core/conversations/{made['id']}", {"summary": "first"})
            last = stream.until("updated")
        port = reader.port
        reader.stop()
        for n in range(3):
            write(
                writer,
                world,
                "PATCH",
                f"/core/conversations/{made['id']}",
                {"summary": f"during restart {n}"},
            )
        reader = start_server(settings, tmp_path, port)
        with watching(reader, LIVE, {**headers, "Last-Event-ID": str(last.id)}) as stream:
            ids = [int(stream.until("updated").id or 0) for _ in range(3)]
            write(writer, world, "PATCH", f"/core/conversations/{made['id']}", {"summary": "after"})
            ids.append(int(stream.until("updated").id or 0))
        assert ids == list(range(int(last.id or 0) + 1, int(last.id or 0) + 5))
    finally:
        writer.stop()
        reader.stop()


def test_a_revoked_token_ends_its_stream(server: Server, world: World, engine: Any) -> None:
    from sqlalchemy import update

    from parley.db import tables

    with watching(server, LIVE, bearer(world.acme.tokens["read"])) as stream:
        stream.until("snapshot")
        with engine.begin() as connection:
            connection.execute(
                update(tables.api_tokens)
                .where(tables.api_tokens.c.prefix == world.acme.tokens["read"][:12])
                .values(revoked_at=datetime.now(UTC))
            )
        closed = stream.until("closed")
        assert "revoked" in str(closed.data["reason"])
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.next()


def test_a_stream_with_sensitive_fields_is_audited_and_one_without_is_not(
    settings: Settings, tmp_path: Path, world: World, engine: Engine
) -> None:
    """The server writes its buffered entries when it stops: the record is complete after that."""
    server = start_server(settings, tmp_path)
    try:
        for label, path in (("sensitive", f"{LIVE}?channel=telephone"), ("read", LIVE)):
            with watching(server, path, bearer(world.acme.tokens[label])) as stream:
                stream.until("snapshot")
    finally:
        server.stop()
    a = tables.audit_log
    with engine.connect() as connection:
        rows = connection.execute(select(a).where(a.c.action == "live.open")).all()
    assert [(r.org_id, r.credential, r.detail) for r in rows] == [
        (world.acme.id, world.acme.tokens["sensitive"][:12], '{"filters":["channel"]}')
    ]
