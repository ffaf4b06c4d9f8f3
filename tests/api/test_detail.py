"""GET /core/conversations/{id} and its recording."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.ingest.records import Participant, Recording, Turn
from tests.api.conftest import World, bearer
from tests.api.test_list import SAFE_KEYS
from tests.factories import BASE_TIME, conversation, insert_all


@pytest.fixture
def long_call(engine: Engine, world: World) -> str:
    turns = tuple(Turn("agent" if n % 2 == 0 else "caller", f"turn number {n}", n * 1500) for n in range(200))
    item = conversation(
        random.Random(5),
        BASE_TIME + timedelta(hours=1),
        world.acme.agent_ids[0],
        channel="email",
        turns=turns,
        participants=(Participant("boss@example.com", "cc"), Participant("team@example.com", "to")),
        recordings=(Recording("calls/sample.wav", "audio/wav", 10284, 1),),
    )
    insert_all(engine, world.acme, [item])
    return str(item.id)


def test_detail_has_transcript_participants_and_recordings(
    client: TestClient, world: World, long_call: str
) -> None:
    response = client.get(f"/core/conversations/{long_call}", headers=bearer(world.acme.tokens["sensitive"]))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == long_call
    assert [turn["seq"] for turn in body["transcript"]] == list(range(200))
    assert body["transcript"][3] == {
        "seq": 3,
        "speaker": "caller",
        "text": "turn number 3",
        "offset_ms": 4500,
        "final": True,
    }
    assert body["participants"] == [
        {"address": "boss@example.com", "role": "cc"},
        {"address": "team@example.com", "role": "to"},
    ]
    assert body["recordings"][0]["url"].endswith(f"/core/conversations/{long_call}/recording")
    assert body["started_at"].endswith("Z") and body["ended_at"] > body["started_at"]
    assert body["agent"]["version"] == 2


def test_detail_without_read_sensitive_is_the_safe_subset(
    client: TestClient, world: World, long_call: str
) -> None:
    body = client.get(f"/core/conversations/{long_call}", headers=bearer(world.acme.tokens["read"])).json()
    assert set(body) == SAFE_KEYS | {"started_at", "ended_at", "tags"}


@pytest.mark.parametrize("ref", ["12345", "not-a-number", "99999999999999999999", "-5", "²", "١٢٣"])
def test_unknown_conversation_is_404(client: TestClient, world: World, ref: str) -> None:
    response = client.get(f"/core/conversations/{ref}", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_another_orgs_conversation_is_indistinguishable_from_missing(
    client: TestClient, world: World
) -> None:
    foreign = world.globex.conversation_ids[0]
    headers = bearer(world.acme.tokens["sensitive"])
    theirs = client.get(f"/core/conversations/{foreign}", headers=headers)
    missing = client.get("/core/conversations/12345", headers=headers)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace(str(foreign), "X") == missing.json()["detail"].replace(
        "12345", "X"
    )
    recording = client.get(f"/core/conversations/{foreign}/recording", headers=headers)
    assert recording.status_code == 404


def test_recording_streams_with_range_support(client: TestClient, world: World, long_call: str) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    url = f"/core/conversations/{long_call}/recording"
    whole = client.get(url, headers=headers)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.content[:4] == b"RIFF"
    assert whole.headers["accept-ranges"] == "bytes"
    part = client.get(url, headers={**headers, "Range": "bytes=4-11"})
    assert part.status_code == 206
    assert part.content == whole.content[4:12]
    assert part.headers["content-range"] == f"bytes 4-11/{len(whole.content)}"


def test_recording_needs_read_sensitive(client: TestClient, world: World, long_call: str) -> None:
    response = client.get(
        f"/core/conversations/{long_call}/recording", headers=bearer(world.acme.tokens["read"])
    )
    assert response.status_code == 403
    assert "conversations:read_sensitive" in response.json()["detail"]


def test_conversation_without_recording_is_404(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    items = client.get("/core/conversations?has_recording=false&limit=1", headers=headers).json()["data"]
    response = client.get(f"/core/conversations/{items[0]['id']}/recording", headers=headers)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("range_header", "status", "part"),
    [
        ("bytes=4-11", 206, slice(4, 12)),
        ("bytes=4-", 206, slice(4, None)),
        ("bytes=-4", 206, slice(-4, None)),
        ("bytes=0-99999999", 206, slice(0, None)),  # the end is clamped to the file
        ("bytes=0-1, 99999999-", 206, slice(0, 2)),  # ranges past the end are dropped
        ("BYTES=2-3", 206, slice(2, 4)),
        ("bytes=0-" + "9" * 5000, 206, slice(0, None)),  # past int()'s digit limit, still a number
        ("bytes=-" + "9" * 5000, 206, slice(0, None)),
        # Not a valid bytes Range: ignored (RFC 9110 14.2), so the whole file, not an error.
        ("bytes=abc", 200, slice(None)),
        ("bytes=5-3", 200, slice(None)),
        ("bytes=1-2,x", 200, slice(None)),
        ("bytes=", 200, slice(None)),
        ("bytes 0-1", 200, slice(None)),
        ("items=0-1", 200, slice(None)),
    ],
)
def test_recording_range_follows_rfc_9110(
    client: TestClient, world: World, long_call: str, range_header: str, status: int, part: slice
) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    url = f"/core/conversations/{long_call}/recording"
    whole = client.get(url, headers=headers).content
    response = client.get(url, headers={**headers, "Range": range_header})
    assert response.status_code == status
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.content == whole[part]
    if status == 206:
        first = part.start % len(whole) if part.start is not None else 0
        assert (
            response.headers["content-range"]
            == f"bytes {first}-{first + len(response.content) - 1}/{len(whole)}"
        )


def test_recording_serves_several_ranges_as_multipart(
    client: TestClient, world: World, long_call: str
) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    response = client.get(
        f"/core/conversations/{long_call}/recording", headers={**headers, "Range": "bytes=0-3,8-11"}
    )
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges; boundary=")
    assert (
        b"Content-Range: bytes 0-3/" in response.content and b"Content-Range: bytes 8-11/" in response.content
    )


@pytest.mark.parametrize("range_header", ["bytes=4-11", "bytes=99999999-"])
def test_recording_if_range_of_another_version_gets_the_whole_file(
    client: TestClient, world: World, long_call: str, range_header: str
) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    url = f"/core/conversations/{long_call}/recording"
    whole = client.get(url, headers=headers)
    stale = client.get(url, headers={**headers, "Range": range_header, "If-Range": '"an-old-etag"'})
    assert stale.status_code == 200 and stale.content == whole.content
    current = client.get(url, headers={**headers, "Range": "bytes=4-11", "If-Range": whole.headers["etag"]})
    assert current.status_code == 206 and current.content == whole.content[4:12]
