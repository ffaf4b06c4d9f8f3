"""Who may read: tokens, the org header, scopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from parley.accounts import service
from parley.auth.tokens import hash_secret
from parley.db import tables
from tests.api.conftest import World, bearer

LIST = "/core/conversations"


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-parley-token", "Bearer ak_" + "x" * 43],
)
def test_missing_malformed_or_unknown_token_is_401_with_challenge(
    client: TestClient, world: World, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(LIST, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"]


def test_revoked_token_is_401(client: TestClient, world: World, engine: Engine) -> None:
    secret = world.acme.tokens["read"]
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    with engine.begin() as conn:
        service.revoke_token(conn, secret[:12])
    response = client.get(LIST, headers=bearer(secret))
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_expired_token_is_401(client: TestClient, world: World, engine: Engine) -> None:
    secret = world.acme.tokens["read"]
    with engine.begin() as conn:
        conn.execute(
            update(tables.api_tokens)
            .where(tables.api_tokens.c.token_hash == hash_secret(secret))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = client.get(LIST, headers=bearer(secret))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_pat_with_the_wrong_prefix_kind_is_401(client: TestClient, world: World) -> None:
    # A PAT's secret dressed up as an API key must not authenticate.
    secret = world.analyst_pat.replace("pat_", "ak_", 1)
    assert client.get(LIST, headers=bearer(secret)).status_code == 401


def test_pat_without_org_header_is_rejected(client: TestClient, world: World) -> None:
    response = client.get(LIST, headers=bearer(world.analyst_pat))
    assert response.status_code == 400
    assert "X-Anyreach-Org" in response.json()["detail"]


@pytest.mark.parametrize("org", ["globex", "no-such-org", "99999"])
def test_pat_for_an_org_the_user_is_not_in_is_403(client: TestClient, world: World, org: str) -> None:
    response = client.get(LIST, headers=bearer(world.analyst_pat, org))
    assert response.status_code == 403
    assert "not a member" in response.json()["detail"]


def test_pat_accepts_org_slug_or_id(client: TestClient, world: World) -> None:
    by_slug = client.get(LIST, headers=bearer(world.analyst_pat, "acme"))
    by_id = client.get(LIST, headers=bearer(world.analyst_pat, str(world.acme.id)))
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json()["data"] == by_id.json()["data"]


def test_api_key_naming_another_org_is_403(client: TestClient, world: World) -> None:
    response = client.get(LIST, headers=bearer(world.acme.tokens["read"], "globex"))
    assert response.status_code == 403


def test_api_key_naming_its_own_org_is_fine(client: TestClient, world: World) -> None:
    assert client.get(LIST, headers=bearer(world.acme.tokens["read"], "acme")).status_code == 200


def test_pat_scopes_are_narrowed_by_the_role(client: TestClient, world: World) -> None:
    # The viewer's PAT asks for read_sensitive, but a viewer's role does not grant it.
    item = client.get(LIST, headers=bearer(world.viewer_pat_wide, "acme")).json()["data"][0]
    assert "caller_name" not in item
    analyst_item = client.get(LIST, headers=bearer(world.analyst_pat, "acme")).json()["data"][0]
    assert "caller_name" in analyst_item


def test_user_in_two_orgs_sees_each_org_with_that_orgs_role(client: TestClient, world: World) -> None:
    in_acme = client.get(LIST, headers=bearer(world.multi_pat, "acme")).json()["data"]
    in_globex = client.get(LIST, headers=bearer(world.multi_pat, "globex")).json()["data"]
    acme_ids = {str(i) for i in world.acme.conversation_ids}
    globex_ids = {str(i) for i in world.globex.conversation_ids}
    assert {item["id"] for item in in_acme} <= acme_ids
    assert {item["id"] for item in in_globex} <= globex_ids
    assert "summary" not in in_acme[0]  # viewer there
    assert "summary" in in_globex[0]  # admin there


def test_manage_scope_reads_but_without_sensitive_fields(client: TestClient, world: World) -> None:
    response = client.get(LIST, headers=bearer(world.acme.tokens["manage"]))
    assert response.status_code == 200
    assert "user_id" not in response.json()["data"][0]


@pytest.mark.parametrize("param", ["q=refund", "user_id=%2B442079000001"])
def test_sensitive_filters_need_read_sensitive(client: TestClient, world: World, param: str) -> None:
    response = client.get(f"{LIST}?{param}", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 403
    assert "conversations:read_sensitive" in response.json()["detail"]


def test_a_token_records_when_it_was_last_used(client: TestClient, world: World, engine: Engine) -> None:
    secret = world.acme.tokens["read"]
    t = tables.api_tokens

    def last_used() -> datetime | None:
        with engine.connect() as conn:
            value: datetime | None = conn.execute(
                t.select().with_only_columns(t.c.last_used_at).where(t.c.token_hash == hash_secret(secret))
            ).scalar_one()
            return value

    assert last_used() is None
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    first = last_used()
    assert first is not None and first >= before
    assert client.get(LIST, headers=bearer(secret)).status_code == 200
    assert last_used() == first  # written at most once a minute, not on every request
