"""The HTML pages: headers, what the server renders, the 404 page, and the chosen org."""

from __future__ import annotations

import html
import json
import random
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.web.render import STATIC_DIR, offset_label
from parley.web.session import ORG_COOKIE
from tests.factories import BASE_TIME, conversation, insert_all
from tests.web.conftest import ANALYST, MULTI, VIEWER, WebWorld, log_in


class Resources(HTMLParser):
    """Collects what a page loads and any inline script or style it carries."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts = 0
        self.style_attributes = 0
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.style_attributes += 1
        if tag == "script":
            if values.get("src"):
                self.loaded.append(values["src"] or "")
            else:
                self._in_script = True
        if tag == "link" and values.get("href"):
            self.loaded.append(values["href"] or "")
        if tag in ("img", "audio", "source") and values.get("src"):
            self.loaded.append(values["src"] or "")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False


def page_config(page: str) -> dict[str, object]:
    match = re.search(r'data-config="([^"]*)"', page)
    assert match
    config: dict[str, object] = json.loads(html.unescape(match.group(1)))
    return config


def first_id(world: WebWorld) -> int:
    return world.special["long"]  # a completed phone call with a transcript and a recording


@pytest.fixture
def pages(client: TestClient, web_world: WebWorld) -> dict[str, str]:
    """Every kind of page, as (name -> path); the client is logged in as the analyst."""
    log_in(client, ANALYST)
    return {
        "inbox": "/",
        "conversations": "/conversations",
        "live": "/live",
        "detail": f"/conversations/{first_id(web_world)}",
        "not found": "/conversations/123",
    }


@pytest.mark.parametrize("name", ["inbox", "conversations", "live", "detail", "not found"])
def test_pages_carry_a_strict_content_security_policy(
    client: TestClient, pages: dict[str, str], name: str
) -> None:
    response = client.get(pages[name])
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("name", ["inbox", "live", "detail", "not found", "login"])
def test_pages_load_only_their_own_files_and_nothing_inline(
    client: TestClient, pages: dict[str, str], name: str
) -> None:
    if name == "login":
        client.cookies.clear()
    parser = Resources()
    parser.feed(client.get(pages.get(name, "/login")).text)
    assert parser.loaded
    for url in parser.loaded:
        assert url.startswith(("/", "http://testserver/")), f"{url} is not served by the app"
        assert not url.startswith("//")
        assert client.get(url, headers={"Range": "bytes=0-0"}).status_code in (200, 206), url
    assert parser.inline_scripts == 0
    assert parser.style_attributes == 0  # the policy would block them


def test_every_module_a_script_imports_is_served(client: TestClient) -> None:
    scripts = sorted(STATIC_DIR.glob("*.js"))
    assert scripts
    for script in scripts:
        for imported in re.findall(r"from '\./([\w-]+\.js)'", script.read_text()):
            assert (STATIC_DIR / imported).is_file(), f"{script.name} imports a missing {imported}"
        response = client.get(f"/static/{script.name}")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]
        assert response.headers["cache-control"] == "no-cache"  # an upgrade never mixes old and new


def test_no_static_file_reaches_outside_the_app() -> None:
    for path in Path(STATIC_DIR).iterdir():
        text = path.read_text()
        assert "innerHTML" not in text, f"{path.name} builds HTML from strings"
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), (
            f"{path.name} refers to another site"
        )


def test_the_inbox_tells_the_script_its_org_and_scopes(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    page = client.get("/").text
    config = page_config(page)
    assert config["org"] == "acme"
    assert config["sensitive"] is True
    assert config["multiOrg"] is False
    assert config["pageSize"] == 50
    assert 'id="f-q" name="q" type="search" maxlength' in page


def test_a_viewer_gets_a_disabled_search_box_with_the_reason(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, VIEWER)
    page = client.get("/").text
    assert page_config(page)["sensitive"] is False
    box = re.search(r'<input id="f-q"[^>]*>', page)
    assert box and "disabled" in box.group(0) and 'aria-describedby="f-q-note"' in box.group(0)
    assert 'id="f-q-note"' in page and "cannot see" in page


def test_the_live_page_needs_a_login_and_tells_the_script_its_org(
    client: TestClient, web_world: WebWorld
) -> None:
    response = client.get("/live?channel=text")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/live%3Fchannel%3Dtext"
    log_in(client, ANALYST)
    page = client.get("/live").text
    config = page_config(page)
    assert (config["org"], config["sensitive"], config["multiOrg"]) == ("acme", True, False)
    finished = {"completed", "transferred", "failed", "no_answer", "busy", "canceled", "voicemail"}
    assert config["finished"] == sorted(finished)
    assert 'name="q"' not in page  # streams cannot search
    offered = re.findall(r'name="status" value="(\w+)"', page)
    assert offered == ["queued", "ringing", "in_progress"]  # only what a live conversation can be
    assert re.search(r'<a href="/live" aria-current="page">', page)
    assert '<a href="/">Inbox</a>' in page


def test_only_a_conversation_in_progress_has_a_live_detail_page(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, ANALYST)
    live = client.get(f"/conversations/{web_world.special['guest']}").text  # in progress
    assert "data-live" in live and 'id="stream-state"' in live
    assert 'data-finished="busy canceled completed failed no_answer transferred voicemail"' in live
    assert "No turns yet: they appear here as they are spoken." in live
    done = client.get(f"/conversations/{first_id(web_world)}").text
    assert "data-live" not in done and 'id="stream-state"' not in done
    # The turns carry their seq, so the page can replace one that changes.
    assert re.findall(r'<li class="turn turn-(\w+)" data-seq="(\d+)"', done) == [
        ("agent", "0"),
        ("caller", "1"),
        ("agent", "2"),
    ]


def test_the_detail_page_renders_the_conversation_for_an_analyst(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, ANALYST)
    conversation_id = first_id(web_world)
    page = client.get(f"/conversations/{conversation_id}").text
    assert "Phone Call with Grace Hopper" in page
    assert "Hello, thanks for calling Acme. How can I help?" in page
    offsets = re.findall(r'<span class="offset"[^>]*>([^<]+)</span>', page)
    assert offsets == ["00:00", "00:04", "01:05"]
    assert f'src="http://testserver/core/conversations/{conversation_id}/recording"' in page
    assert f'datetime="{BASE_TIME + timedelta(minutes=10):%Y-%m-%dT%H:%M:%S}.000Z"' in page
    assert "+14155550123" in page
    assert 'href="http://testserver/agents/1000/versions/2" target="_blank" rel="noopener"' in page


def test_the_detail_page_shows_email_participants(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    page = client.get(f"/conversations/{web_world.special['email']}").text
    assert "Email participants" in page
    assert re.findall(r'<span class="address">([^<]+)</span>', page) == [
        "lead@example.com",
        "ops@example.com",
        "support@acme.test",  # the agent's own mailbox: named here, left out of the list's +N
    ]


def test_a_viewer_sees_dashes_instead_of_sensitive_values(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, VIEWER)
    page = client.get(f"/conversations/{first_id(web_world)}").text
    assert "+14155550123" not in page
    assert "Grace Hopper" not in page
    assert "Hello, thanks for calling" not in page
    assert "/recording" not in page
    assert "need access to sensitive" in page
    caller_id = re.search(r"<dt>Caller ID</dt><dd>(.*?)</dd>", page)
    assert caller_id and caller_id.group(1) == '<span class="nil">-</span>'


def test_data_is_escaped_in_pages(client: TestClient, web_world: WebWorld, engine: Engine) -> None:
    hostile = conversation(
        random.Random(5),
        BASE_TIME + timedelta(hours=1),
        None,
        caller_name='<script>alert("x")</script>',
        summary="<img src=x onerror=alert(1)>",
    )
    insert_all(engine, web_world.acme, [hostile])
    log_in(client, ANALYST)
    page = client.get(f"/conversations/{hostile.id}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


@pytest.mark.parametrize("which", ["missing", "malformed", "foreign", "pending web session"])
def test_unknown_and_foreign_conversations_get_the_same_html_404(
    client: TestClient, web_world: WebWorld, which: str
) -> None:
    ids = {
        "missing": "7522622469208000000",
        "malformed": "not-an-id",
        "foreign": str(web_world.globex.conversation_ids[0]),
        "pending web session": str(web_world.special["pending"]),
    }
    log_in(client, ANALYST)
    response = client.get(f"/conversations/{ids[which]}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Conversation not found" in response.text
    assert ids[which] not in response.text  # nothing tells a foreign id from a missing one
    reference = client.get("/conversations/7522622469208000001").text
    assert re.sub(r'value="[0-9a-f]{64}"', "", response.text) == re.sub(
        r'value="[0-9a-f]{64}"', "", reference
    )


def test_a_link_from_another_of_the_users_orgs_opens_in_that_org(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, MULTI)  # lands in acme
    globex_id = web_world.globex.conversation_ids[0]
    response = client.get(f"/conversations/{globex_id}")
    assert response.status_code == 200
    assert 'data-org="globex"' in response.text
    assert f"{ORG_COOKIE}=globex" in response.headers["set-cookie"]  # so its audio loads from globex


def test_the_org_in_the_url_is_used_and_remembered(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, MULTI)
    response = client.get("/?org=globex")
    assert page_config(response.text)["org"] == "globex"
    assert page_config(response.text)["multiOrg"] is True
    assert f"{ORG_COOKIE}=globex" in response.headers["set-cookie"]
    assert page_config(client.get("/").text)["org"] == "globex"


def test_an_org_the_user_is_not_in_falls_back_to_their_own(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, ANALYST)
    assert page_config(client.get("/?org=globex").text)["org"] == "acme"


def test_the_org_switcher_lists_the_users_orgs(client: TestClient, web_world: WebWorld) -> None:
    log_in(client, MULTI)
    page = client.get("/").text
    assert '<a href="/?org=acme" aria-current="true">' in page
    assert '<a href="/?org=globex">' in page


@pytest.mark.parametrize(
    ("offset_ms", "label"), [(0, "00:00"), (4_000, "00:04"), (65_999, "01:05"), (3_725_000, "1:02:05")]
)
def test_transcript_offsets_read_as_minutes_and_seconds(offset_ms: int, label: str) -> None:
    assert offset_label(offset_ms) == label
