"""Schemathesis generates requests from the OpenAPI schema: none may produce a 500, and every error
is problem+json."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from tests.api.conftest import World, bearer

OPERATIONS = [
    ("/core/conversations", "GET"),
    ("/core/conversations/count", "GET"),
    ("/core/conversations/export.csv", "GET"),
    ("/core/conversations/{conversation_id}", "GET"),
    ("/core/conversations/{conversation_id}/recording", "GET"),
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_generated_requests_never_fail_on_the_server(
    client: TestClient, world: World, path: str, method: str
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    strategy = schema[path][method].as_strategy()
    auth = bearer(world.acme.tokens["sensitive"])

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case: Case) -> None:
        headers = {
            key: value for key, value in (case.headers or {}).items() if key.lower() != "x-anyreach-org"
        }
        case.headers = {**headers, **auth}
        response = case.call()
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"][0] == "application/problem+json"

    check()
