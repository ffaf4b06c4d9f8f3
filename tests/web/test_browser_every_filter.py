"""Every filter of the list endpoint has a control: set it, and the URL holds it, the list shows
only the rows it matches, and the export link carries it. The match count above the table
follows the filters from a request of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Route, expect
from sqlalchemy import ColumnElement, exists, func, select

from parley.db import tables
from tests.web.conftest import VIEWER, OpenPage
from tests.web.live import BrowserWorld
from tests.web.test_browser_filters import wait_for_list
from tests.web.test_browser_inbox import listed_count, loaded_ids, scroll_to_end

pytestmark = pytest.mark.browser

c = tables.conversations
t = tables.conversation_tags


def has_tag(tag: str) -> ColumnElement[bool]:
    return exists().where(t.c.org_id == c.c.org_id, t.c.conversation_id == c.c.id, t.c.tag == tag)


def matching_ids(world: BrowserWorld, *conditions: ColumnElement[bool]) -> list[str]:
    """What the list must show, newest first, read straight from the database."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            select(c.c.id)
            .where(c.c.org_id == world.acme.id, c.c.status != "token_created", *conditions)
            .order_by(c.c.created_at.desc(), c.c.id.desc())
        )
        return [str(row.id) for row in rows]


def pick(page: Page, menu: str, label: str) -> None:
    page.locator(f"{menu} summary").click()
    page.locator(f"{menu} label", has_text=label).locator("input").check()
    page.keyboard.press("Escape")


def type_in(page: Page, field: str, value: str) -> None:
    page.fill(field, value)
    page.press(field, "Enter")


@dataclass(frozen=True)
class Control:
    name: str
    set: Callable[[Page, BrowserWorld], None]
    url: Callable[[BrowserWorld], str]  # the page's query string afterwards
    where: Callable[[BrowserWorld], list[ColumnElement[bool]]]


def _agents(page: Page, world: BrowserWorld) -> None:
    pick(page, "#f-agent", "Billing Assistant")
    pick(page, "#f-agent", "Appointment Scheduler")


def _agent_version(page: Page, world: BrowserWorld) -> None:
    expect(page.locator("#f-agent-version")).to_be_disabled()  # a version needs its agent
    pick(page, "#f-agent", "Billing Assistant")
    type_in(page, "#f-agent-version", "1")


CONTROLS = [
    Control(
        "several agents",
        _agents,
        lambda w: "&".join(f"agent_id={a}" for a in sorted(map(str, w.acme.agent_ids))),
        lambda w: [c.c.agent_id.in_(w.acme.agent_ids)],
    ),
    Control(
        "agent version",
        _agent_version,
        lambda w: f"agent_id={w.acme.agent_ids[0]}&agent_version=1",
        lambda w: [c.c.agent_id == w.acme.agent_ids[0], c.c.agent_version == 1],
    ),
    Control(
        "caller id",
        lambda page, w: type_in(page, "#f-user-id", "+15555550100"),
        lambda w: "user_id=%2B15555550100",
        lambda w: [c.c.user_id == "+15555550100"],
    ),
    Control(
        "has recording",
        lambda page, w: page.select_option("#f-recording", "true"),
        lambda w: "has_recording=true",
        lambda w: [c.c.has_recording.is_(True)],
    ),
    Control(
        "sentiment",
        lambda page, w: (pick(page, "#f-sentiment", "Negative"), pick(page, "#f-sentiment", "Neutral")),
        lambda w: "sentiment=negative&sentiment=neutral",
        lambda w: [c.c.sentiment.in_(["negative", "neutral"])],
    ),
    Control(
        "successful",
        lambda page, w: page.select_option("#f-successful", "false"),
        lambda w: "successful=false",
        lambda w: [c.c.successful.is_(False)],
    ),
    Control(
        "tags",
        lambda page, w: type_in(page, "#f-tags", "vip, billing"),
        lambda w: "tag=billing&tag=vip",
        lambda w: [has_tag("vip"), has_tag("billing")],
    ),
    Control(
        "ended reason",
        lambda page, w: type_in(page, "#f-ended-reason", "agent-ended-call"),
        lambda w: "ended_reason=agent-ended-call",
        lambda w: [c.c.ended_reason == "agent-ended-call"],
    ),
]


@pytest.mark.parametrize("control", CONTROLS, ids=[control.name for control in CONTROLS])
def test_each_filter_narrows_the_list_lives_in_the_url_and_goes_into_the_export(
    open_page: OpenPage, browser_world: BrowserWorld, control: Control
) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    control.set(page, browser_world)
    query = control.url(browser_world)
    expect(page).to_have_url(browser_world.url(f"/?{query}"))
    wait_for_list(page)
    scroll_to_end(page)
    expected = matching_ids(browser_world, *control.where(browser_world))
    assert expected and len(expected) < browser_world.listed  # the data can tell a filter from none
    assert loaded_ids(page) == expected
    export = parse_qs(urlsplit(page.locator("#export").get_attribute("href") or "").query)
    assert {name: values for name, values in export.items() if name != "tz"} == parse_qs(query)
    expect(page.locator("#match-count")).to_have_text(
        f"{len(expected)} conversation{'' if len(expected) == 1 else 's'}"
    )

    page.reload()  # the URL is the view
    wait_for_list(page)
    scroll_to_end(page)
    assert loaded_ids(page) == expected


def test_a_viewer_has_no_caller_id_filter(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(VIEWER, path="/?user_id=%2B15555550100&has_recording=true")
    wait_for_list(page)
    assert page.locator("#f-user-id").count() == 0
    expect(page).to_have_url(browser_world.url("/?has_recording=true"))  # dropped: the API would refuse it
    assert "user_id" not in (page.locator("#export").get_attribute("href") or "")


def test_the_count_matches_and_follows_the_filters(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    count = page.locator("#match-count")
    expect(count).to_have_text(f"{browser_world.listed} conversations")
    assert count.get_attribute("data-state") == "exact"

    # A count still on its way when the filters change is aborted, never shown.
    held: list[Route] = []
    page.route("**/core/conversations/count?status=busy", lambda route: held.append(route))
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url) if "/count?" in request.url else None)
    pick(page, "#f-status", "Busy")
    expect(count).to_have_text("Counting…")
    assert len(held) == 1
    pick(page, "#f-status", "No Answer")
    no_answer_or_busy = listed_count(browser_world, status="busy") + listed_count(
        browser_world, status="no_answer"
    )
    expect(count).to_have_text(f"{no_answer_or_busy} conversations")
    assert any(url.endswith("count?status=busy") for url in failed)
    for route in held:
        with contextlib.suppress(Exception):  # the page has let go of it: fulfilling may fail
            route.fulfill(json={"count": 999_999, "exact": True})
    expect(count).to_have_text(f"{no_answer_or_busy} conversations")

    page.get_by_role("button", name="Clear filters").first.click()
    expect(count).to_have_text(f"{browser_world.listed} conversations")
    page.locator("#f-q").fill("plumber")
    expect(count).to_have_text("1 conversation")
    assert len(loaded_ids(page)) == 1


def test_more_than_ten_thousand_reads_as_10000_plus(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(path="/?channel=email")
    page.route(
        "**/core/conversations/count?channel=text",
        lambda route: route.fulfill(json={"count": 10_000, "exact": False}),
    )
    expect(page.locator("#match-count")).to_have_text(
        f"{listed_count(browser_world, channel='email')} conversations"
    )
    page.locator("#f-channel summary").click()
    page.locator('#f-channel input[value="email"]').uncheck()
    page.locator('#f-channel input[value="text"]').check()
    expect(page.locator("#match-count")).to_have_text("10,000+ conversations")
    assert page.locator("#match-count").get_attribute("data-state") == "capped"
    with browser_world.engine.connect() as conn:  # the server's own count stays exact here
        assert (
            conn.execute(select(func.count()).where(c.c.org_id == browser_world.acme.id)).scalar_one()
            < 10_000
        )
