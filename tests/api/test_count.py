"""GET /core/conversations/count: the list's filters, the list's visible set, capped at 10,000."""

from __future__ import annotations

import random
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from parley.conversations.ids import new_conversation_id
from parley.conversations.service import COUNT_CAP
from parley.db import tables
from tests.api.conftest import World, bearer
from tests.api.test_list import walk
from tests.factories import BASE_TIME

COUNT = "/core/conversations/count"


def counted(client: TestClient, headers: dict[str, str], params: str = "") -> dict[str, object]:
    response = client.get(f"{COUNT}?{params}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize(
    "params",
    [
        "",
        "channel=telephone",
        "status=completed&status=failed",
        "direction=outbound&has_recording=false",
        "min_duration=50&max_duration=250",
        "q=refund",
        "created_after=2026-11-01T11:50:00Z",
    ],
)
def test_the_count_is_the_number_of_rows_the_list_walks(
    client: TestClient, world: World, params: str
) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    listed = len(walk(client, headers, params, limit=50))
    assert counted(client, headers, params) == {"count": listed, "exact": True}


def test_an_org_never_counts_another_orgs_rows(client: TestClient, world: World) -> None:
    acme = counted(client, bearer(world.acme.tokens["read"]))
    globex = counted(client, bearer(world.globex.tokens["read"]))
    assert acme["count"] == len(walk(client, bearer(world.acme.tokens["read"]), limit=50))
    assert globex["count"] == len(walk(client, bearer(world.globex.tokens["read"]), limit=50))
    # Another org's agent matches nothing here, exactly as in the list.
    assert counted(client, bearer(world.acme.tokens["read"]), f"agent_id={world.globex.agent_ids[0]}") == {
        "count": 0,
        "exact": True,
    }


def test_it_validates_and_authorises_like_the_list(client: TestClient, world: World) -> None:
    read = bearer(world.acme.tokens["read"])
    for params, status, parameter in (
        ("user_id=%2B14155550123", 403, "user_id"),
        ("q=refund", 403, "q"),
        ("limit=5", 400, "limit"),  # a count has no page
        ("status=token_created", 400, "status"),
        ("min_duration=9&max_duration=1", 400, "min_duration"),
    ):
        response = client.get(f"{COUNT}?{params}", headers=read)
        assert response.status_code == status, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["parameter"] == parameter
    assert client.get(COUNT).status_code == 401


def test_the_schema_describes_the_count(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operation = schema["paths"][COUNT]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"agent_id", "q", "tag", "has_recording"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]) == {"count", "exact"}


def _bulk_rows(org_id: int, count: int, seed: int) -> list[dict[str, object]]:
    """Bare rows a month back, straight into the table: enough to count, far cheaper than the writer."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        created = BASE_TIME - timedelta(days=30, seconds=seed * 100_000 + n)
        rows.append(
            {
                "org_id": org_id,
                "id": new_conversation_id(created, rng),
                "created_at": created,
                "channel": "text",
                "direction": "inbound",
                "status": "completed",
                "has_recording": False,
                "participant_count": 0,
            }
        )
    return rows


def test_exact_up_to_ten_thousand_and_capped_beyond(client: TestClient, world: World, engine: Engine) -> None:
    headers = bearer(world.acme.tokens["read"])
    old = urlencode({"created_before": (BASE_TIME - timedelta(days=1)).isoformat()})
    with engine.begin() as conn:
        conn.execute(insert(tables.conversations), _bulk_rows(world.acme.id, COUNT_CAP - 1, seed=1))
        conn.execute(insert(tables.conversations), _bulk_rows(world.globex.id, 50, seed=2))
    assert counted(client, headers, old) == {"count": COUNT_CAP - 1, "exact": True}
    with engine.begin() as conn:
        conn.execute(insert(tables.conversations), _bulk_rows(world.acme.id, 1, seed=3))
    assert counted(client, headers, old) == {"count": COUNT_CAP, "exact": True}
    with engine.begin() as conn:
        conn.execute(insert(tables.conversations), _bulk_rows(world.acme.id, 1, seed=4))
    assert counted(client, headers, old) == {"count": COUNT_CAP, "exact": False}
    assert counted(client, headers) == {"count": COUNT_CAP, "exact": False}
    # The other org's rows were never part of it: it counts its own 50 and its own recent rows.
    assert counted(client, bearer(world.globex.tokens["read"]), old) == {"count": 50, "exact": True}
