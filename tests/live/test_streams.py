"""Live streams through a running server: snapshot, every change after it, the field policy on
raw bytes, filters, one conversation, resume with Last-Event-ID, and reset past the window."""

from __future__ import annotations

import contextlib
import itertools
import random
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, delete, select, update

from parley.config import Settings
from parley.conversations.enums import Status
from parley.db import tables
from parley.live.stream import SNAPSHOT_LIMIT
from tests.api.conftest import World, bearer
from tests.factories import BASE_TIME, conversation, insert_all
from tests.live.conftest import Server, Stream, Watcher, open_stream, start_server

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


def test_a_snapshot_that_leaves_conversations_out_says_so(
    server: Server, world: World, engine: Engine
) -> None:
    headers = bearer(world.acme.tokens["read"])
    with watching(server, LIVE, headers) as stream:
        assert stream.until("snapshot").data["complete"] is True
    rng = random.Random(3)
    busy = [
        conversation(rng, BASE_TIME + timedelta(seconds=n), None, status=Status.IN_PROGRESS)
        for n in range(SNAPSHOT_LIMIT + 1)
    ]
    insert_all(engine, world.acme, busy)
    with watching(server, LIVE, headers) as stream:
        snapshot = stream.until("snapshot")
    sent = snapshot.data["conversations"]
    assert snapshot.data["complete"] is False and len(sent) == SNAPSHOT_LIMIT  # type: ignore[arg-type]
    assert sent[0]["id"] == str(busy[-1].id)  # type: ignore[index]  # the newest first


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


@pytest.mark.parametrize(("column", "says"), [("revoked_at", "revoked"), ("expires_at", "expired")])
def test_a_revoked_or_expired_token_ends_its_stream(
    server: Server, world: World, engine: Any, column: str, says: str
) -> None:
    with watching(server, LIVE, bearer(world.acme.tokens["read"])) as stream:
        stream.until("snapshot")
        with engine.begin() as connection:
            connection.execute(
                update(tables.api_tokens)
                .where(tables.api_tokens.c.prefix == world.acme.tokens["read"][:12])
                .values({column: datetime.now(UTC)})
            )
        closed = stream.until("closed")
        assert says in str(closed.data["reason"]), closed.data
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.next()


def test_a_removed_membership_ends_its_members_stream(server: Server, world: World, engine: Any) -> None:
    with watching(server, LIVE, bearer(world.analyst_pat, "acme")) as stream:
        stream.until("snapshot")
        tokens = tables.api_tokens
        with engine.begin() as connection:
            user_id = connection.execute(
                select(tokens.c.user_id).where(tokens.c.prefix == world.analyst_pat[:12])
            ).scalar_one()
            removed = connection.execute(
                delete(tables.memberships).where(
                    tables.memberships.c.user_id == user_id, tables.memberships.c.org_id == world.acme.id
                )
            )
            assert removed.rowcount == 1
        closed = stream.until("closed")
        assert closed.data["reason"], closed.data
        with pytest.raises(AssertionError, match="the stream ended"):
            stream.next()


def test_a_filtered_stream_says_when_a_conversation_leaves_its_filters(server: Server, world: World) -> None:
    with watching(server, f"{LIVE}?status=in_progress", bearer(world.acme.tokens["read"])) as stream:
        stream.until("snapshot")
        made = write(
            server,
            world,
            "POST",
            "/core/conversations",
            {"channel": "telephone", "direction": "inbound", "status": "in_progress"},
        )
        assert stream.until("created").data["conversation_id"] == made["id"]
        write(server, world, "PATCH", f"/core/conversations/{made['id']}", {"status": "completed"})
        left = stream.next()  # the change itself is not shown: the conversation is outside now
        assert (left.event, left.data["conversation_id"], left.data["conversation"]) == (
            "left",
            made["id"],
            None,
        )
        # Turns of a conversation outside the filters are not mentioned at all.
        write(
            server,
            world,
            "POST",
            f"/core/conversations/{made['id']}/turns",
            {"turns": [{"seq": 0, "speaker": "agent", "text": "after the end"}]},
        )
        again = write(
            server,
            world,
            "POST",
            "/core/conversations",
            {"channel": "telephone", "direction": "inbound", "status": "in_progress"},
        )
        following = stream.next()
        assert (following.event, following.data["conversation_id"]) == ("created", again["id"])
        assert int(following.id or 0) == int(left.id or 0) + 2  # the turns event in between was skipped


def _raw_lines(server: Server, headers: dict[str, str]) -> Iterator[str]:
    with (
        httpx.Client(base_url=server.url, timeout=httpx.Timeout(20.0)) as client,
        client.stream("GET", LIVE, headers=headers) as response,
    ):
        yield from response.iter_lines()


def test_an_idle_stream_sends_heartbeat_comments(settings: Settings, tmp_path: Path, world: World) -> None:
    server = start_server(settings, tmp_path, extra={"PARLEY_LIVE_HEARTBEAT_SECONDS": "0.2"})
    try:
        lines = _raw_lines(server, bearer(world.acme.tokens["read"]))
        first = list(itertools.takewhile(bool, lines))  # the snapshot, up to its blank line
        assert "event: snapshot" in first
        # Nothing is written: every further line is a heartbeat or the blank line ending one.
        after = [line for line in itertools.islice(lines, 6) if line]
        lines.close()  # type: ignore[attr-defined]
        assert len(after) == 3 and all(line.startswith(":") for line in after)
    finally:
        server.stop()


def _send_buffer_ceiling() -> int:
    """The most a TCP socket here may hold unsent: Linux's tcp_wmem maximum (4 MB elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/tcp_wmem").read_text().split()[2])
    except (OSError, IndexError, ValueError):
        return 4 << 20


def test_a_client_that_stops_reading_is_cut_off_and_slows_no_one(
    settings: Settings, tmp_path: Path, world: World
) -> None:
    """A viewer that never reads fills its socket and is then disconnected; another viewer gets
    every event meanwhile."""
    send_timeout = 1.0
    server = start_server(settings, tmp_path, extra={"PARLEY_LIVE_SEND_TIMEOUT_SECONDS": str(send_timeout)})
    token = world.acme.tokens["sensitive"]
    # Events of about 1 MB, more of them than the server's socket and the client's hold together,
    # so the stream to the stalled client certainly stops moving.
    batches = max(10, _send_buffer_ceiling() // 1_000_000 + 3)
    stalled = socket.socket()
    reader = None
    try:
        made = write(
            server, world, "POST", "/core/conversations", {"channel": "text", "direction": "inbound"}
        )
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(
            f"GET {LIVE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        )
        reader = Watcher(server, bearer(token))
        assert reader.next().event == "snapshot"
        text = "x" * 20_000
        for batch in range(batches):
            turns = [{"seq": batch * 50 + n, "speaker": "user", "text": text} for n in range(50)]
            write(server, world, "POST", f"/core/conversations/{made['id']}/turns", {"turns": turns})
        ids = [int(reader.next().id or 0) for _ in range(batches)]
        assert ids == list(range(ids[0], ids[0] + batches))
        whole = sum(len(line) for line in reader.raw)
        # Still not reading: on a fast machine the writes above take less than the send timeout,
        # and a client that read now would be in time. It is late.
        time.sleep(3 * send_timeout)
        stalled.settimeout(10)  # a stream left open sends nothing for longer (heartbeats: 15 s)
        got = 0
        deadline = time.monotonic() + 60
        with contextlib.suppress(ConnectionResetError):
            while chunk := stalled.recv(1 << 16):
                got += len(chunk)
                assert time.monotonic() < deadline, "the stalled client was never cut off"
        assert got < whole  # the stream ended (it never ends by itself) before it had everything
    finally:
        stalled.close()
        if reader is not None:
            reader.close()
        server.stop()


def test_viewers_with_different_field_policies_each_get_their_own(server: Server, world: World) -> None:
    """Messages are built once per field policy and shared: a viewer without read_sensitive,
    watching at the same time as one with it, still never gets a sensitive byte."""
    plain = Watcher(server, bearer(world.acme.tokens["read"]))
    full = Watcher(server, bearer(world.acme.tokens["sensitive"]))
    try:
        assert plain.next().event == full.next().event == "snapshot"
        made = write(
            server, world, "POST", "/core/conversations", {"channel": "text", "direction": "inbound"}
        )
        for n in range(3):
            write(
                server,
                world,
                "POST",
                f"/core/conversations/{made['id']}/turns",
                {"turns": [{"seq": n, "speaker": "user", "text": f"my secret number {n} is 4111"}]},
            )
        seen = {
            name: [watcher.next() for _ in range(4)] for name, watcher in (("plain", plain), ("full", full))
        }
        assert [m.id for m in seen["plain"]] == [m.id for m in seen["full"]]
        assert all(m.data["changes"] == {} for m in seen["plain"][1:])
        assert [m.data["changes"]["transcript"][0]["text"] for m in seen["full"][1:]] == [  # type: ignore[index]
            f"my secret number {n} is 4111" for n in range(3)
        ]
        assert "4111" not in "\n".join(plain.raw)
    finally:
        plain.close()
        full.close()


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
