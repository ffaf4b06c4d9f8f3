"""Recordings are stored and served only as the audio types Parley takes: anything else stored
earlier is sent as opaque bytes to save, never as a type a browser would render."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from parley.db import tables
from parley.errors import UnsupportedMediaType
from parley.ingest import service
from parley.recordings.upload import AUDIO_TYPES
from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def recorded(client: TestClient, world: World) -> str:
    auth = bearer(world.acme.tokens["sensitive"])
    return str(client.get(LIST, params={"has_recording": "true"}, headers=auth).json()["data"][0]["id"])


@pytest.mark.parametrize(
    "stored", ["text/html", "image/svg+xml", "application/javascript", "audio/wav; x=1", ""]
)
def test_a_recording_stored_as_another_type_is_served_as_a_download(
    client: TestClient, world: World, engine: Engine, stored: str
) -> None:
    conversation = recorded(client, world)
    with engine.begin() as connection:
        r = tables.recordings
        connection.execute(
            update(r).where(r.c.conversation_id == int(conversation)).values(content_type=stored)
        )
    response = client.get(f"{LIST}/{conversation}/recording", headers=bearer(world.acme.tokens["sensitive"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == "attachment"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_allowed_type_is_served_as_itself(client: TestClient, world: World) -> None:
    response = client.get(
        f"{LIST}/{recorded(client, world)}/recording", headers=bearer(world.acme.tokens["sensitive"])
    )
    assert response.headers["content-type"] == "audio/wav"
    assert "content-disposition" not in response.headers


@pytest.mark.parametrize("content_type", ["text/html", "image/svg+xml", "audio/x-wav", "AUDIO/WAV"])
def test_no_writer_can_store_a_type_outside_the_allow_list(
    world: World, engine: Engine, content_type: str
) -> None:
    conversation = world.acme.conversation_ids[0]
    with pytest.raises(UnsupportedMediaType), engine.begin() as connection:
        service.attach_recording(
            connection, world.acme.id, conversation, "uploads/x.html", content_type, 10, None
        )


@pytest.mark.parametrize("content_type", sorted(AUDIO_TYPES))
def test_every_allowed_type_can_be_stored(world: World, engine: Engine, content_type: str) -> None:
    conversation = world.acme.conversation_ids[0]
    with engine.begin() as connection:
        service.attach_recording(connection, world.acme.id, conversation, "uploads/x", content_type, 10, None)
