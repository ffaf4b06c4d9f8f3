"""The native write API: create, turns, merge patch, recording upload, delete; idempotency; every
bad request refused whole, with nothing written."""

from __future__ import annotations

import io
import wave
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from parley.db import tables
from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def manage(world: World) -> dict[str, str]:
    return bearer(world.acme.tokens["manage"])


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table a write touches: a refused write must leave them all unchanged."""
    names = (
        "conversations",
        "transcript_turns",
        "participants",
        "recordings",
        "conversation_tags",
        "events",
        "agents",
    )
    with engine.connect() as conn:
        return {
            n: conn.execute(select(func.count()).select_from(tables.metadata.tables[n])).scalar_one()
            for n in names
        }


def create(client: TestClient, world: World, **fields: Any) -> dict[str, Any]:
    body = {"channel": "telephone", "direction": "inbound", "user_id": "+14155550111", **fields}
    response = client.post(LIST, json=body, headers=manage(world))
    assert response.status_code == 201, response.text
    return response.json()


def wav_bytes(seconds: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * seconds)
    return buffer.getvalue()


def test_a_created_conversation_is_listed_and_shown_like_any_other(client: TestClient, world: World) -> None:
    made = create(
        client,
        world,
        status="in_progress",
        caller_name="Grace Hopper",
        agent_id=str(world.acme.agent_ids[0]),
        agent_version=2,
        external_id="call-123",
        participants=[{"address": "boss@example.com", "role": "cc"}],
        tags=["vip"],
    )
    assert made["status"] == "in_progress" and made["agent"]["version"] == 2
    assert made["external_id"] == "call-123" and made["tags"] == ["vip"]
    assert "user_id" not in made  # a manage-only key reads the safe subset
    reader = bearer(world.acme.tokens["sensitive"])
    listed = client.get(LIST, headers=reader).json()["data"][0]
    assert listed["id"] == made["id"] and listed["caller_name"] == "Grace Hopper"
    assert listed["participants"] == ["boss@example.com"]
    assert client.get(f"{LIST}?tag=vip", headers=reader).json()["data"][0]["id"] == made["id"]
    assert client.get(f"{LIST}?q=Hopper", headers=reader).json()["data"][0]["id"] == made["id"]
    assert client.get(f"{LIST}?q=0111", headers=reader).json()["data"][0]["id"] == made["id"]


def test_a_pending_web_session_is_answered_to_its_writer_but_not_listed(
    client: TestClient, world: World
) -> None:
    made = create(client, world, channel="webrtc", status="token_created", user_id="guest_abc")
    assert made["status"] == "token_created"
    reader = bearer(world.acme.tokens["sensitive"])
    assert client.get(f"{LIST}/{made['id']}", headers=reader).status_code == 404
    assert (
        client.patch(
            f"{LIST}/{made['id']}", json={"status": "in_progress"}, headers=manage(world)
        ).status_code
        == 200
    )
    assert client.get(f"{LIST}/{made['id']}", headers=reader).status_code == 200


def test_external_ids_are_unique_per_org(client: TestClient, world: World) -> None:
    create(client, world, external_id="dup")
    response = client.post(
        LIST, json={"channel": "text", "direction": "inbound", "external_id": "dup"}, headers=manage(world)
    )
    assert response.status_code == 409 and response.json()["parameter"] == "external_id"
    other = client.post(
        LIST,
        json={"channel": "text", "direction": "inbound", "external_id": "dup"},
        headers=bearer(world.globex.tokens["manage"]),
    )
    assert other.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "parameter"),
    [
        (b"{not json", 400, None),
        (b'{"channel": "telephone", "direction": "inbound", "colour": "red"}', 400, "colour"),
        (b'{"channel": "fax", "direction": "inbound"}', 400, "channel"),
        (b'{"channel": "telephone", "direction": "inbound", "agent_id": "999"}', 422, "agent_id"),
        (
            b'{"channel": "telephone", "direction": "inbound", "agent_external_id": "nobody"}',
            422,
            "agent_external_id",
        ),
        (
            b'{"channel": "telephone", "direction": "inbound", "created_at": "2026-11-01T10:00:00"}',
            400,
            "created_at",
        ),
        (b'{"channel": "telephone", "direction": "inbound", "sentiment": "angry"}', 400, "sentiment"),
        (
            b'{"channel": "telephone", "direction": "inbound", "created_at": "2099-01-01T00:00:00Z"}',
            400,
            "created_at",
        ),
        (
            b'{"channel": "telephone", "direction": "inbound", "created_at": "1969-12-31T00:00:00Z"}',
            400,
            "created_at",
        ),
        (b'{"channel": "telephone", "direction": "inbound", "tags": ["' + b"x" * 65 + b'"]}', 400, "tags.0"),
    ],
)
def test_a_bad_create_is_refused_and_writes_nothing(
    client: TestClient, world: World, engine: Engine, body: bytes, status: int, parameter: str | None
) -> None:
    before = counts(engine)
    response = client.post(LIST, content=body, headers={**manage(world), "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json().get("parameter") == parameter
    assert counts(engine) == before


def test_writes_need_the_manage_scope(client: TestClient, world: World, engine: Engine) -> None:
    before = counts(engine)
    target = world.acme.conversation_ids[0]
    for method, url, body in (
        ("POST", LIST, {"channel": "text", "direction": "inbound"}),
        ("PATCH", f"{LIST}/{target}", {"summary": "x"}),
        ("POST", f"{LIST}/{target}/turns", {"turns": [{"seq": 99, "speaker": "agent", "text": "hi"}]}),
        ("DELETE", f"{LIST}/{target}", None),
    ):
        response = client.request(method, url, json=body, headers=bearer(world.acme.tokens["sensitive"]))
        assert response.status_code == 403, (method, url)
    assert counts(engine) == before


def test_an_idempotent_retry_replays_and_writes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    headers = {**manage(world), "Idempotency-Key": "create-1"}
    body = {"channel": "email", "direction": "inbound", "user_id": "ada@example.com"}
    first = client.post(LIST, json=body, headers=headers)
    before = counts(engine)
    again = client.post(LIST, json=body, headers=headers)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert counts(engine) == before
    changed = client.post(LIST, json={**body, "user_id": "bob@example.com"}, headers=headers)
    assert changed.status_code == 422 and changed.json()["parameter"] == "Idempotency-Key"
    # Keys are per org: another org's request with the same key is its own.
    theirs = client.post(
        LIST, json=body, headers={**bearer(world.globex.tokens["manage"]), "Idempotency-Key": "create-1"}
    )
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]


def test_a_failed_request_does_not_keep_its_key(client: TestClient, world: World) -> None:
    headers = {**manage(world), "Idempotency-Key": "k-agent"}
    body = {"channel": "telephone", "direction": "inbound", "agent_external_id": "late-agent"}
    assert client.post(LIST, json=body, headers=headers).status_code == 422
    # The same request may run again (here it fails again the same way: nothing was stored).
    assert client.post(LIST, json=body, headers=headers).status_code == 422


def test_a_retry_while_the_first_still_runs_is_told_to_wait(
    client: TestClient, world: World, engine: Engine
) -> None:
    from parley.ingest import idempotency

    body = b'{"channel": "text", "direction": "inbound"}'
    headers = {**manage(world), "Idempotency-Key": "slow", "Content-Type": "application/json"}
    print_ = idempotency.fingerprint("POST", LIST, body)
    assert idempotency.claim(engine, world.acme.id, "slow", print_) is None  # the first request, running
    response = client.post(LIST, content=body, headers=headers)
    assert response.status_code == 409 and response.headers["retry-after"] == "1"


@pytest.mark.parametrize("key", ["", "x" * 256, "na\xefve".encode("latin-1"), "tab\there"])
def test_a_malformed_idempotency_key_is_refused(client: TestClient, world: World, key: str | bytes) -> None:
    response = client.post(
        LIST,
        json={"channel": "text", "direction": "inbound"},
        headers={**manage(world), "Idempotency-Key": key},
    )
    assert response.status_code == 400 and response.json()["parameter"] == "Idempotency-Key"


def turns_of(client: TestClient, world: World, conversation_id: str) -> list[dict[str, Any]]:
    detail = client.get(f"{LIST}/{conversation_id}", headers=bearer(world.acme.tokens["sensitive"])).json()
    return list(detail["transcript"])


def test_turns_replace_partials_keep_finals_and_ignore_repeats(client: TestClient, world: World) -> None:
    made = create(client, world)
    url = f"{LIST}/{made['id']}/turns"

    def post(*turns: dict[str, Any]) -> int:
        response = client.post(url, json={"turns": list(turns)}, headers=manage(world))
        assert response.status_code == 200, response.text
        return int(response.json()["changed"])

    assert post({"seq": 0, "speaker": "agent", "text": "Hello, how can", "final": False}) == 1
    assert post({"seq": 0, "speaker": "agent", "text": "Hello, how can I help?", "final": True}) == 1
    assert post({"seq": 0, "speaker": "agent", "text": "Hello, how", "final": False}) == 0  # late partial
    assert post({"seq": 2, "speaker": "user", "text": "Thanks.", "offset_ms": 9000}) == 1  # out of order
    assert post({"seq": 1, "speaker": "user", "text": "My router is down.", "offset_ms": 4000}) == 1
    assert post({"seq": 1, "speaker": "user", "text": "My router is down.", "offset_ms": 4000}) == 0  # retry
    turns = turns_of(client, world, made["id"])
    assert [(t["seq"], t["speaker"], t["text"], t["final"]) for t in turns] == [
        (0, "agent", "Hello, how can I help?", True),
        (1, "caller", "My router is down.", True),
        (2, "caller", "Thanks.", True),
    ]
    found = client.get(f"{LIST}?q=router", headers=bearer(world.acme.tokens["sensitive"])).json()["data"]
    assert [i["id"] for i in found] == [made["id"]]


def test_turns_are_limited_and_checked_whole(client: TestClient, world: World, engine: Engine) -> None:
    made = create(client, world)
    url = f"{LIST}/{made['id']}/turns"
    before = counts(engine)
    too_many = [{"seq": n, "speaker": "agent", "text": "x"} for n in range(501)]
    assert client.post(url, json={"turns": too_many}, headers=manage(world)).status_code == 400
    one_bad = [{"seq": 0, "speaker": "agent", "text": "fine"}, {"seq": 1, "speaker": "robot", "text": "no"}]
    assert client.post(url, json={"turns": one_bad}, headers=manage(world)).status_code == 400
    assert (
        client.post(f"{LIST}/12345/turns", json={"turns": one_bad[:1]}, headers=manage(world)).status_code
        == 404
    )
    assert counts(engine) == before


def test_status_moves_forward_only(client: TestClient, world: World) -> None:
    made = create(client, world, status="ringing")
    url = f"{LIST}/{made['id']}"
    assert (
        client.patch(url, json={"status": "in_progress"}, headers=manage(world)).json()["status"]
        == "in_progress"
    )
    back = client.patch(url, json={"status": "ringing"}, headers=manage(world))
    assert (
        back.status_code == 409
        and "in_progress" in back.json()["detail"]
        and "ringing" in back.json()["detail"]
    )
    done = client.patch(
        url,
        json={"status": "completed", "duration_seconds": 95, "sentiment": "positive"},
        headers=manage(world),
    )
    assert done.json()["status"] == "completed" and done.json()["duration_seconds"] == 95
    assert (
        client.patch(url, json={"status": "completed"}, headers=manage(world)).status_code == 200
    )  # a retry
    reopened = client.patch(url, json={"status": "in_progress"}, headers=manage(world))
    assert reopened.status_code == 409 and "completed" in reopened.json()["detail"]


def test_patch_is_a_merge_and_null_clears(client: TestClient, world: World) -> None:
    made = create(
        client,
        world,
        status="completed",
        summary="First words.",
        tags=["a", "b"],
        ended_reason="customer-ended-call",
    )
    url = f"{LIST}/{made['id']}"
    patched = client.patch(
        url, json={"summary": None, "successful": False, "tags": ["c"]}, headers=manage(world)
    ).json()
    assert patched["ended_reason"] == "customer-ended-call" and patched["successful"] is False
    assert patched["tags"] == ["c"]
    detail = client.get(url, headers=bearer(world.acme.tokens["sensitive"])).json()
    assert detail["summary"] is None
    reader = bearer(world.acme.tokens["read"])
    for query, found in (
        ("successful=false", True),
        ("ended_reason=customer-ended-call", True),
        ("tag=a", False),
        ("tag=c", True),
    ):
        ids = [i["id"] for i in client.get(f"{LIST}?{query}", headers=reader).json()["data"]]
        assert (made["id"] in ids) is found, query


def test_a_recording_upload_is_checked_stored_and_served(
    client: TestClient, world: World, engine: Engine
) -> None:
    made = create(client, world, status="completed")
    url = f"{LIST}/{made['id']}/recording"
    audio = wav_bytes(3)
    headers = {**manage(world), "Content-Type": "audio/wav"}
    response = client.put(url, content=audio, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["has_recording"] is True
    reader = bearer(world.acme.tokens["sensitive"])
    detail = client.get(f"{LIST}/{made['id']}", headers=reader).json()
    assert detail["recordings"][0]["duration_seconds"] == 3 and detail["recordings"][0]["bytes"] == len(audio)
    assert client.get(url, headers=reader).content == audio

    before = counts(engine)
    mp3_named_wav = client.put(url, content=b"ID3\x03\x00" + b"\0" * 100, headers=headers)
    assert mp3_named_wav.status_code == 415
    text = client.put(url, content=b"hello", headers={**manage(world), "Content-Type": "text/plain"})
    assert text.status_code == 415
    assert counts(engine) == before
    assert client.get(url, headers=reader).content == audio  # the stored one is untouched


def test_an_oversized_recording_is_refused(client: TestClient, world: World, settings: Any) -> None:
    made = create(client, world)
    settings.max_recording_bytes = 1000
    response = client.put(
        f"{LIST}/{made['id']}/recording",
        content=wav_bytes(1),
        headers={**manage(world), "Content-Type": "audio/wav"},
    )
    assert response.status_code == 413
    assert not list((settings.recordings_dir / "uploads").rglob("*.wav"))


def test_delete_forgets_everything(client: TestClient, world: World, engine: Engine, settings: Any) -> None:
    made = create(client, world, caller_name="Forget Me")
    conversation_id = made["id"]
    client.post(
        f"{LIST}/{conversation_id}/turns",
        json={"turns": [{"seq": 0, "speaker": "user", "text": "erase zebrafish"}]},
        headers=manage(world),
    )
    client.put(
        f"{LIST}/{conversation_id}/recording",
        content=wav_bytes(1),
        headers={**manage(world), "Content-Type": "audio/wav"},
    )
    assert list((settings.recordings_dir / "uploads").rglob("*.wav"))
    assert client.delete(f"{LIST}/{conversation_id}", headers=manage(world)).status_code == 204
    reader = bearer(world.acme.tokens["sensitive"])
    assert client.get(f"{LIST}/{conversation_id}", headers=reader).status_code == 404
    assert client.get(f"{LIST}?q=zebrafish", headers=reader).json()["data"] == []
    assert client.get(f"{LIST}?q=Forget", headers=reader).json()["data"] == []
    assert not list((settings.recordings_dir / "uploads").rglob("*.wav"))
    assert client.delete(f"{LIST}/{conversation_id}", headers=manage(world)).status_code == 404
    again = client.post(
        f"{LIST}/{conversation_id}/turns",
        json={"turns": [{"seq": 1, "speaker": "user", "text": "x"}]},
        headers=manage(world),
    )
    assert again.status_code == 404


def test_another_orgs_conversation_cannot_be_changed(
    client: TestClient, world: World, engine: Engine
) -> None:
    theirs = world.globex.conversation_ids[0]
    before = counts(engine)
    for method, url, body in (
        ("PATCH", f"{LIST}/{theirs}", {"summary": "mine now"}),
        ("POST", f"{LIST}/{theirs}/turns", {"turns": [{"seq": 50, "speaker": "agent", "text": "hi"}]}),
        ("DELETE", f"{LIST}/{theirs}", None),
    ):
        assert client.request(method, url, json=body, headers=manage(world)).status_code == 404
    assert counts(engine) == before


def test_every_change_appends_its_event(client: TestClient, world: World, engine: Engine) -> None:
    made = create(client, world, status="ringing")
    url = f"{LIST}/{made['id']}"
    client.patch(url, json={"status": "in_progress"}, headers=manage(world))
    client.post(
        f"{url}/turns", json={"turns": [{"seq": 0, "speaker": "agent", "text": "Hi"}]}, headers=manage(world)
    )
    client.patch(url, json={"status": "completed", "sentiment": "neutral"}, headers=manage(world))
    client.delete(url, headers=manage(world))
    e = tables.events
    with engine.connect() as conn:
        rows = conn.execute(
            select(e.c.seq, e.c.kind).where(e.c.org_id == world.acme.id).order_by(e.c.seq)
        ).all()
    assert [kind for _, kind in rows] == [
        "created",
        "status_changed",
        "turns",
        "status_changed",
        "updated",
        "deleted",
    ]
    assert [seq for seq, _ in rows] == list(range(1, len(rows) + 1))


def test_the_listed_participants_leave_out_the_caller_and_the_agents_own_mailbox(
    client: TestClient, world: World
) -> None:
    # A thread that copies the agent's mailbox (and, as mail clients do, the caller): only the
    # others are "on the thread" in the list, where the inbox counts them as +N.
    made = create(
        client,
        world,
        channel="email",
        user_id="jane@example.com",
        agent_number="support@acme.test",
        participants=[
            {"address": "Support@Acme.test", "role": "cc"},
            {"address": "ops@example.com", "role": "cc"},
            {"address": "jane@example.com", "role": "to"},
            {"address": "lead@example.com", "role": "to"},
        ],
    )
    reader = bearer(world.acme.tokens["sensitive"])
    listed = client.get(LIST, headers=reader).json()["data"][0]
    assert listed["id"] == made["id"]
    assert listed["participants"] == ["lead@example.com", "ops@example.com"]
    # The detail still names everyone on the thread, with their roles.
    detail = client.get(f"{LIST}/{made['id']}", headers=reader).json()
    assert {p["address"] for p in detail["participants"]} == {
        "Support@Acme.test",
        "ops@example.com",
        "jane@example.com",
        "lead@example.com",
    }
