"""Saved views over HTTP: CSRF on every write, private and shared, one org never sees another's."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ANALYST, MULTI, VIEWER, WebWorld, csrf_token, log_in

VIEWS = "/web/views"


def as_user(client: TestClient, email: str) -> str:
    """Log ``email`` in (alone in the client's cookie jar) and return the page's form token."""
    client.cookies.clear()
    log_in(client, email)
    return csrf_token(client.get("/").text)


def save(
    client: TestClient, token: str | None, name: str, query: str = "", shared: bool = False, org: str = "acme"
) -> httpx.Response:
    headers = {"X-Anyreach-Org": org}
    if token is not None:
        headers["X-CSRF-Token"] = token
    return client.post(VIEWS, json={"name": name, "query": query, "shared": shared}, headers=headers)


def listed(client: TestClient, org: str = "acme") -> list[dict[str, Any]]:
    response = client.get(VIEWS, headers={"X-Anyreach-Org": org})
    assert response.status_code == 200, response.text
    views: list[dict[str, Any]] = response.json()["data"]
    return views


def assert_problem(response: httpx.Response, status: int, parameter: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if parameter is not None:
        assert response.json()["parameter"] == parameter


def test_a_write_without_the_pages_form_token_is_refused(client: TestClient, web_world: WebWorld) -> None:
    token = as_user(client, ANALYST)
    assert_problem(save(client, None, "Missed calls", "status=no_answer"), 403)
    assert_problem(save(client, "0" * 64, "Missed calls", "status=no_answer"), 403)
    cross_site = client.post(
        VIEWS,
        json={"name": "Missed calls", "query": "status=no_answer"},
        headers={"X-CSRF-Token": token, "Origin": "https://evil.example", "X-Anyreach-Org": "acme"},
    )
    assert_problem(cross_site, 403)
    assert "X-CSRF-Token" in cross_site.json()["detail"]
    assert listed(client) == []

    created = save(client, token, "Missed calls", "status=no_answer")
    assert created.status_code == 201, created.text
    view_id = created.json()["id"]
    assert_problem(client.post(f"{VIEWS}/{view_id}/delete", headers={"X-Anyreach-Org": "acme"}), 403)
    assert [view["name"] for view in listed(client)] == ["Missed calls"]


def test_private_views_are_their_owners_and_shared_ones_the_orgs(
    client: TestClient, web_world: WebWorld
) -> None:
    token = as_user(client, ANALYST)
    assert save(client, token, "Mine", "channel=email").status_code == 201
    shared = save(client, token, "Team", "status=failed", shared=True).json()
    assert shared == {
        "id": shared["id"],
        "name": "Team",
        "query": "status=failed",
        "url": "/?status=failed",
        "shared": True,
        "mine": True,
        "owner": ANALYST,
    }
    assert [(v["name"], v["mine"]) for v in listed(client)] == [("Mine", True), ("Team", True)]

    as_user(client, VIEWER)  # same org: sees the shared view only, and cannot delete it
    assert [(v["name"], v["mine"], v["owner"]) for v in listed(client)] == [("Team", False, ANALYST)]
    token = csrf_token(client.get("/").text)
    refused = client.post(f"{VIEWS}/{shared['id']}/delete", headers={"X-CSRF-Token": token})
    assert_problem(refused, 403)

    as_user(client, MULTI)  # a member of globex too: nothing of acme's shows there
    assert [v["name"] for v in listed(client, "globex")] == []
    token = csrf_token(client.get("/").text)
    foreign = client.post(
        f"{VIEWS}/{shared['id']}/delete", headers={"X-CSRF-Token": token, "X-Anyreach-Org": "globex"}
    )
    assert_problem(foreign, 404)
    assert client.post(f"{VIEWS}/99999/delete", headers={"X-CSRF-Token": token}).json()["detail"] == (
        foreign.json()["detail"].replace(shared["id"], "99999")
    )
    # A view saved in globex stays in globex.
    assert (
        save(client, token, "Globex calls", "channel=telephone", shared=True, org="globex").status_code == 201
    )
    assert [v["name"] for v in listed(client, "globex")] == ["Globex calls"]
    assert [v["name"] for v in listed(client, "acme")] == ["Team"]

    token = as_user(client, ANALYST)
    assert client.post(f"{VIEWS}/{shared['id']}/delete", headers={"X-CSRF-Token": token}).status_code == 204
    assert [v["name"] for v in listed(client)] == ["Mine"]


def test_a_name_is_unique_per_owner(client: TestClient, web_world: WebWorld) -> None:
    token = as_user(client, ANALYST)
    assert save(client, token, "Calls", "channel=telephone").status_code == 201
    duplicate = save(client, token, "  Calls ", "channel=email")
    assert_problem(duplicate, 409, "name")
    assert "Calls" in duplicate.json()["detail"]
    assert_problem(save(client, token, "   "), 400, "name")
    token = as_user(client, VIEWER)
    assert save(client, token, "Calls", "channel=text").status_code == 201  # another member may


def test_the_filters_are_stored_canonically(client: TestClient, web_world: WebWorld) -> None:
    token = as_user(client, ANALYST)
    agent = web_world.acme.agent_ids[1]
    query = (
        f"to=2026-11-07&status=failed&channel=text&status=busy&status=busy&agent_id={agent}"
        "&has_recording=1&from=2026-11-01&tag=vip&tag=billing&q=+refund+&sentiment=negative"
    )
    view = save(client, token, "Messy", query).json()
    assert view["query"] == (
        f"q=refund&agent_id={agent}&status=busy&status=failed&channel=text&from=2026-11-01&to=2026-11-07"
        "&has_recording=true&sentiment=negative&tag=billing&tag=vip"
    )
    assert save(client, token, "Everything").json()["url"] == "/"


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("status=token_created", 400, "status"),
        ("status=bogus", 400, "status"),
        ("direction=sideways", 400, "direction"),
        ("min_duration=-1", 400, "min_duration"),
        ("min_duration=9&max_duration=1", 400, "min_duration"),
        ("has_recording=maybe", 400, "has_recording"),
        ("from=2026-13-01", 400, "from"),
        ("from=2026-11-09&to=2026-11-01", 400, "from"),
        ("created_after=2026-11-01T00:00:00Z", 400, "created_after"),  # the page's days instead
        ("limit=5", 400, "limit"),
        ("q=%20", 400, "q"),
    ],
)
def test_a_filter_the_list_would_refuse_is_refused(
    client: TestClient, web_world: WebWorld, query: str, status: int, parameter: str
) -> None:
    token = as_user(client, ANALYST)
    assert_problem(save(client, token, "Bad", query), status, parameter)
    assert listed(client) == []


def test_a_viewer_cannot_save_a_filter_by_what_they_may_not_see(
    client: TestClient, web_world: WebWorld
) -> None:
    token = as_user(client, VIEWER)
    assert_problem(save(client, token, "Search", "q=refund"), 403, "q")
    assert_problem(save(client, token, "Caller", "user_id=%2B14155550123"), 403, "user_id")


def test_without_a_session_there_are_no_views(client: TestClient, web_world: WebWorld) -> None:
    assert_problem(client.get(VIEWS), 401)
    as_user(client, ANALYST)
    assert_problem(client.get(VIEWS, headers={"X-Anyreach-Org": "globex"}), 403)
