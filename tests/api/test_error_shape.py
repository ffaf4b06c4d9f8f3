"""Every error the API gives is RFC 9457 problem+json with a human sentence, never a bare 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, bearer

CASES = [
    ("GET", "/core/conversations", None, 401),
    ("GET", "/core/conversations?limit=0", "read", 400),
    ("GET", "/core/conversations?cursor=zzz", "read", 400),
    ("GET", "/core/conversations?q=refund", "read", 403),
    ("GET", "/core/conversations/42", "read", 404),
    ("GET", "/core/conversations/42/recording", "sensitive", 404),
    ("GET", "/core/conversations/export.csv?tz=Nowhere/Else", "read", 400),
    ("GET", "/core/nothing-here", "read", 404),
    ("POST", "/core/conversations", "read", 405),
    ("DELETE", "/core/conversations/42", "read", 405),
]


@pytest.mark.parametrize(("method", "path", "token", "status"), CASES)
def test_errors_are_problem_json(
    client: TestClient, world: World, method: str, path: str, token: str | None, status: int
) -> None:
    headers = bearer(world.acme.tokens[token]) if token else {}
    response = client.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"}
    assert body["status"] == status
    assert body["detail"].endswith(".") and len(body["detail"].split()) >= 3  # a sentence, not a code


def test_openapi_schema_describes_the_conversations_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listing = schema["paths"]["/core/conversations"]["get"]
    names = {param["name"] for param in listing["parameters"]}
    assert {
        "limit",
        "cursor",
        "q",
        "channel",
        "status",
        "agent_id",
        "created_after",
        "X-Anyreach-Org",
    } <= names
    assert "/core/conversations/export.csv" in schema["paths"]
    assert "/core/conversations/{conversation_id}/recording" in schema["paths"]
    item = schema["components"]["schemas"]["ConversationItem"]["properties"]
    assert "read_sensitive" in item["caller_name"]["description"]
    assert set(listing["responses"]) >= {"200", "400", "401", "403"}
