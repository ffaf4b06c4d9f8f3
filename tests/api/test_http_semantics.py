"""HTTP as RFC 9110 has it, and the headers every answer carries: HEAD wherever GET is, Range on
recordings, ``nosniff`` everywhere and no caching of anything sensitive."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def some_id(client: TestClient, world: World) -> str:
    response = client.get(
        LIST, params={"has_recording": "true"}, headers=bearer(world.acme.tokens["sensitive"])
    )
    return str(response.json()["data"][0]["id"])


def get_paths(client: TestClient, world: World) -> list[str]:
    conversation = some_id(client, world)
    return [
        LIST,
        f"{LIST}?limit=3",
        f"{LIST}/export.csv",
        f"{LIST}/{conversation}",
        f"{LIST}/{conversation}/recording",
        f"{LIST}/live",
        f"{LIST}/{conversation}/live",
        "/healthz",
        "/openapi.json",
    ]


def test_head_is_answered_wherever_get_is_with_the_same_headers_and_no_body(
    client: TestClient, world: World
) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    for path in get_paths(client, world):
        head = client.head(path, headers=auth)
        assert head.status_code == 200, (path, head.text)
        assert head.content == b"", path
        if "/live" in path:
            continue  # a stream's GET never ends; its headers are checked through HEAD alone
        with client.stream("GET", path, headers=auth) as got:
            expected = {k: v for k, v in got.headers.items() if k not in ("date", "content-disposition")}
        same = {k: v for k, v in head.headers.items() if k not in ("date", "content-disposition")}
        assert same == expected, path


def test_head_errors_are_the_gets_errors(client: TestClient, world: World) -> None:
    assert client.head(LIST).status_code == 401
    assert client.head(f"{LIST}?limit=0", headers=bearer(world.acme.tokens["read"])).status_code == 400
    assert client.head(f"{LIST}/12345", headers=bearer(world.acme.tokens["read"])).status_code == 404


def test_head_where_no_get_is_says_head_is_not_allowed(client: TestClient) -> None:
    response = client.head(f"{LIST}/12345/turns")  # POST only
    assert response.status_code == 405
    assert response.content == b""
    assert "POST" in response.headers["allow"]
    allow = client.put("/login")
    assert allow.status_code == 405
    assert "HEAD" in allow.headers["allow"].split(", ")


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "pages=0-1", "bytes", "bytes=--1"])
def test_an_unparsable_range_is_ignored(client: TestClient, world: World, header: str) -> None:
    path = f"{LIST}/{some_id(client, world)}/recording"
    auth = bearer(world.acme.tokens["sensitive"])
    whole = client.get(path, headers=auth)
    response = client.get(path, headers={**auth, "Range": header})
    assert response.status_code == 200
    assert response.content == whole.content


def test_an_unsatisfiable_range_is_416_with_the_size_and_a_problem(client: TestClient, world: World) -> None:
    path = f"{LIST}/{some_id(client, world)}/recording"
    auth = bearer(world.acme.tokens["sensitive"])
    size = len(client.get(path, headers=auth).content)
    response = client.get(path, headers={**auth, "Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 416


def test_every_answer_is_nosniff_and_sensitive_ones_are_never_stored(
    client: TestClient, world: World
) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    for path in get_paths(client, world):
        response = client.head(path, headers=auth)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["cache-control"] == "private, no-store", path
    for error in (client.get(LIST), client.get("/nowhere"), client.get(f"{LIST}?limit=0", headers=auth)):
        assert error.headers["x-content-type-options"] == "nosniff"
        assert error.headers["cache-control"] == "private, no-store"
    static = client.get("/static/app.css")
    assert static.headers["x-content-type-options"] == "nosniff"


def test_write_answers_are_never_stored(client: TestClient, world: World) -> None:
    response = client.post(LIST, json={}, headers=bearer(world.acme.tokens["manage"]))
    assert response.status_code < 500
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
