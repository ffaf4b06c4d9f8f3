"""The browser is one more API client: its session resolves to the same principal as a token."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.requests import Request

from parley.auth.principal import principal_from_token
from parley.config import Settings
from parley.web.session import ORG_COOKIE, SESSION_COOKIE, session_principal
from tests.factories import write_sample_wav
from tests.web.conftest import ANALYST, MULTI, VIEWER, WebWorld, log_in

LIST = "/core/conversations"


def browser_request(method: str, cookies: dict[str, str]) -> Request:
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return Request({"type": "http", "method": method, "path": "/", "headers": [(b"cookie", cookie.encode())]})


def choose_org(client: TestClient, slug: str) -> None:
    """What the org switcher leaves behind: one org cookie (replacing the one login set)."""
    client.cookies.delete(ORG_COOKIE)
    client.cookies.set(ORG_COOKIE, slug)


@pytest.mark.parametrize(
    ("email", "org"), [(ANALYST, "acme"), (VIEWER, "acme"), (MULTI, "acme"), (MULTI, "globex")]
)
def test_a_session_resolves_to_the_principal_of_the_users_token(
    client: TestClient, web_world: WebWorld, engine: Engine, email: str, org: str
) -> None:
    """Same org, user and scopes as the user's PAT (which asked for every scope and got its role's)."""
    log_in(client, email)
    cookies = {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}
    with engine.connect() as conn:
        from_session = session_principal(browser_request("GET", cookies), conn, org)
        from_token = principal_from_token(conn, web_world.pats[email], org)
    assert from_session is not None
    assert (from_session.org_id, from_session.user_id, from_session.scopes) == (
        from_token.org_id,
        from_token.user_id,
        from_token.scopes,
    )
    assert from_session.token_kind is None


@pytest.mark.parametrize(("email", "org"), [(ANALYST, "acme"), (VIEWER, "acme"), (MULTI, "globex")])
def test_the_api_answers_a_session_exactly_as_it_answers_the_token(
    client: TestClient, web_world: WebWorld, email: str, org: str
) -> None:
    log_in(client, email)
    session_view = client.get(LIST, params={"limit": 100}, headers={"X-Anyreach-Org": org})
    conversation = session_view.json()["data"][0]["id"]
    session_detail = client.get(f"{LIST}/{conversation}", headers={"X-Anyreach-Org": org})
    cookies = dict(client.cookies)
    client.cookies.clear()
    token = {"Authorization": f"Bearer {web_world.pats[email]}", "X-Anyreach-Org": org}
    assert session_view.status_code == 200
    assert session_view.json() == client.get(LIST, params={"limit": 100}, headers=token).json()
    assert session_detail.json() == client.get(f"{LIST}/{conversation}", headers=token).json()
    client.cookies.update(cookies)


def test_a_viewer_session_gets_no_sensitive_fields_and_cannot_search(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, VIEWER)
    items = client.get(LIST).json()["data"]
    assert items
    assert all("user_id" not in item and "summary" not in item for item in items)
    response = client.get(LIST, params={"q": "refund"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_without_the_header_the_org_comes_from_the_org_cookie(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, MULTI)
    choose_org(client, "globex")
    ids = {item["id"] for item in client.get(LIST, params={"limit": 200}).json()["data"]}
    assert ids
    assert ids <= {str(i) for i in web_world.globex.conversation_ids}


def test_the_header_wins_over_the_org_cookie(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, MULTI)
    choose_org(client, "globex")
    ids = {item["id"] for item in client.get(LIST, headers={"X-Anyreach-Org": "acme"}).json()["data"]}
    assert ids <= {str(i) for i in web_world.acme.conversation_ids}


def test_without_header_or_cookie_a_session_reads_its_first_org(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    log_in(client, MULTI)
    with engine.connect() as conn:
        principal = session_principal(
            browser_request("GET", {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}), conn, None
        )
    assert principal is not None
    assert principal.org_slug == "acme"  # "Acme" sorts before "Globex"


@pytest.mark.parametrize("org", ["globex", "no-such-org"])
def test_a_session_cannot_read_an_org_its_user_is_not_in(
    client: TestClient, web_world: WebWorld, org: str
) -> None:
    log_in(client, ANALYST)
    response = client.get(LIST, headers={"X-Anyreach-Org": org})
    assert response.status_code == 403
    assert "not a member" in response.json()["detail"]
    choose_org(client, org)
    assert client.get(LIST).status_code == 403


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_session_never_authorises_an_unsafe_method(
    client: TestClient, web_world: WebWorld, engine: Engine, method: str
) -> None:
    """Writes need a token: a forged cross-site request finds nothing the cookie unlocks."""
    log_in(client, ANALYST)
    with engine.connect() as conn:
        request = browser_request(method, {SESSION_COOKIE: client.cookies[SESSION_COOKIE]})
        assert session_principal(request, conn, "acme") is None


def test_a_bearer_token_is_used_instead_of_the_session(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    viewer_token = {"Authorization": f"Bearer {web_world.acme.tokens['read']}"}
    items = client.get(LIST, headers=viewer_token).json()["data"]
    assert all("user_id" not in item for item in items)


def test_no_session_and_no_token_is_401(client: TestClient, web_world: WebWorld) -> None:
    response = client.get(LIST)
    assert response.status_code == 401
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert client.get(LIST).status_code == 401


def test_the_export_link_works_with_the_session_and_org_cookie(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, MULTI)
    choose_org(client, "globex")
    response = client.get(f"{LIST}/export.csv", params={"tz": "America/New_York", "status": "completed"})
    assert response.status_code == 200
    assert "parley-globex-conversations-" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows
    assert {row["Status"] for row in rows} == {"Completed"}
    assert {row["Conversation ID"] for row in rows} <= {str(i) for i in web_world.globex.conversation_ids}


def test_the_export_follows_the_field_policy_of_the_session(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, MULTI)
    choose_org(client, "globex")  # admin there
    admin_header = next(csv.reader(io.StringIO(client.get(f"{LIST}/export.csv").text)))
    choose_org(client, "acme")  # viewer there
    viewer_header = next(csv.reader(io.StringIO(client.get(f"{LIST}/export.csv").text)))
    assert "Caller ID" in admin_header
    assert "Caller ID" not in viewer_header


def test_recordings_stream_to_an_analyst_session_with_range(
    client: TestClient, web_world: WebWorld, settings: Settings
) -> None:
    write_sample_wav(settings.recordings_dir / "calls" / "sample.wav", b"\0\0" * 8000)
    log_in(client, ANALYST)
    item = next(i for i in client.get(LIST, params={"limit": 100}).json()["data"] if i.get("recording_url"))
    response = client.get(item["recording_url"], headers={"Range": "bytes=0-99"})
    assert response.status_code == 206
    assert len(response.content) == 100


def test_the_agents_endpoint_lists_the_org_agents(client: TestClient, web_world: WebWorld) -> None:
    assert client.get("/web/agents").status_code == 401
    log_in(client, VIEWER)
    body = client.get("/web/agents", headers={"X-Anyreach-Org": "acme"}).json()
    assert body == {
        "data": [
            {"id": str(web_world.acme.agent_ids[1]), "name": "Appointment Scheduler"},
            {"id": str(web_world.acme.agent_ids[0]), "name": "Billing Assistant"},
        ]
    }
