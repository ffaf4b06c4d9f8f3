"""The agent pages the inbox's agent links open: the agent, its versions, links to the inbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from parley.app import create_app
from parley.config import Settings
from parley.db import tables
from tests.web.conftest import ANALYST, MULTI, WebWorld, log_in


def test_an_agent_page_shows_its_name_versions_and_inbox_links(
    client: TestClient, web_world: WebWorld, engine: Engine
) -> None:
    agent = web_world.acme.agent_ids[0]
    v = tables.agent_versions
    with engine.begin() as conn:
        conn.execute(
            update(v).where(v.c.agent_id == agent, v.c.version == 2).values(notes="Refunds <by email>")
        )
    log_in(client, ANALYST)
    response = client.get(f"/agents/{agent}")
    assert response.status_code == 200
    page = response.text
    assert "<h1>Billing Assistant" in page
    assert page.index('data-version="2"') < page.index('data-version="1"')  # newest first
    assert "Refunds &lt;by email&gt;" in page
    assert f'href="/?agent_id={agent}"' in page
    assert f'href="/?agent_id={agent}&amp;agent_version=1"' in page
    assert f'href="/agents/{agent}/versions/2"' in page

    version = client.get(f"/agents/{agent}/versions/2").text
    assert re.search(r'aria-current="true" class="is-current" data-version="2"', version)
    assert f'id="version-inbox" href="/?agent_id={agent}&amp;agent_version=2"' in version


@pytest.mark.parametrize(
    "path",
    [
        "/agents/{foreign}",
        "/agents/999999",
        "/agents/x",
        "/agents/{own}/versions/9",
        "/agents/{own}/versions/x",
        "/agents/{foreign}/versions/1",
    ],
)
def test_unknown_and_foreign_agents_get_the_html_404(
    client: TestClient, web_world: WebWorld, path: str
) -> None:
    log_in(client, ANALYST)
    response = client.get(path.format(foreign=web_world.globex.agent_ids[0], own=web_world.acme.agent_ids[0]))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "not found</h1>" in response.text
    assert "Billing Assistant" not in response.text and "Appointment Scheduler" not in response.text


def test_an_agent_page_needs_a_login_and_follows_the_org(client: TestClient, web_world: WebWorld) -> None:
    foreign = web_world.globex.agent_ids[1]
    response = client.get(f"/agents/{foreign}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/agents/{foreign}"
    log_in(client, MULTI)
    assert client.get(f"/agents/{foreign}?org=globex").status_code == 200
    assert client.get(f"/agents/{foreign}?org=acme").status_code == 404


def test_with_an_outside_console_parley_serves_no_agent_pages(
    settings: Settings, engine: Engine, web_world: WebWorld, tmp_path: Path
) -> None:
    outside = settings.model_copy(update={"agent_console_url": "https://builder.example/agents"})
    with TestClient(create_app(outside, engine), follow_redirects=False) as client:
        log_in(client, ANALYST)
        assert client.get(f"/agents/{web_world.acme.agent_ids[0]}").status_code == 404
        assert (
            client.get(f"/agents/{web_world.acme.agent_ids[0]}").headers["content-type"]
            == "application/problem+json"
        )
