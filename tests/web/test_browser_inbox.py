"""The inbox in Chromium: logging in, scrolling, every column's formatting, copy, play, new tabs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Response, Route, expect
from sqlalchemy import func, select

from parley.db import tables
from tests.factories import PASSWORD
from tests.web.conftest import ANALYST, MULTI, VIEWER, OpenPage
from tests.web.live import BrowserWorld

pytestmark = pytest.mark.browser

COLUMNS = (
    "copy",
    "play",
    "agent",
    "caller_id",
    "caller_name",
    "agent_number",
    "direction",
    "status",
    "summary",
    "duration",
    "date",
    "time",
    "type",
)


def row(page: Page, world: BrowserWorld, label: str) -> Locator:
    return page.locator(f'#grid tbody tr[data-id="{world.special[label]}"]')


def cell(row_: Locator, column: str) -> Locator:
    return row_.locator("td").nth(COLUMNS.index(column))


def texts(row_: Locator) -> dict[str, str]:
    return dict(zip(COLUMNS, (t.strip() for t in row_.locator("td").all_inner_texts()), strict=True))


def loaded_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all("#grid tbody tr", "rows => rows.map(r => r.dataset.id)")
    return ids


def scroll_to_end(page: Page) -> None:
    """Scroll the table down until the end-of-list marker shows, as a reader would."""
    page.wait_for_selector("#grid tbody tr, .empty-state")
    for _ in range(40):
        if page.locator(".end-marker, .empty-state").count():
            return
        count = page.locator("#grid tbody tr").count()
        page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
        page.wait_for_function(
            "n => document.querySelectorAll('#grid tbody tr').length > n || document.querySelector('.end-marker')",
            arg=count,
        )
    raise AssertionError("the list never ended")


def listed_count(world: BrowserWorld, org_id: int | None = None, **equal: Any) -> int:
    c = tables.conversations
    conditions = [c.c.org_id == (org_id or world.acme.id), c.c.status != "token_created"]
    conditions += [c.c[name] == value for name, value in equal.items()]
    with world.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(*conditions)).scalar_one())


def test_logging_in_through_the_form_lands_on_the_requested_view(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(None, "/conversations?status=completed")
    expect(page).to_have_url(browser_world.url("/login?next=/conversations%3Fstatus%3Dcompleted"))
    page.fill("input[name=email]", ANALYST)
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(browser_world.url("/conversations?status=completed"))
    expect(page.locator("#grid tbody tr").first).to_be_visible()
    assert set(page.locator("#grid tbody td:nth-child(8)").all_inner_texts()) == {"Completed"}


def test_scrolling_loads_every_page_once_newest_first(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    requests: list[str] = []
    responses: list[Response] = []
    page.on(
        "request",
        lambda r: requests.append(r.url) if "/core/conversations?" in r.url and "cursor=" in r.url else None,
    )
    page.on("response", lambda r: responses.append(r) if "/core/conversations?" in r.url else None)
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    first_row = page.locator("#grid tbody tr").first.element_handle()
    scroll_to_end(page)
    ids = loaded_ids(page)
    assert len(ids) == browser_world.listed > 150  # more than three pages of 50
    assert len(set(ids)) == len(ids)
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)
    assert str(browser_world.special["pending"]) not in ids
    # The first page came with the page load; each later one exactly once, through its cursor.
    assert len(requests) == len(set(requests)) == -(-browser_world.listed // 50) - 1
    assert all("limit=50" in url for url in requests)
    # The pages themselves are disjoint: nothing was left for the page's own de-duplication to do.
    served = [item["id"] for response in responses for item in response.json()["data"]]
    assert len(served) == len(set(served))
    expect(page.locator(".end-marker")).to_have_text(f"End of list · {browser_world.listed} conversations")
    # Rows were appended, never rebuilt: the first row is the very element drawn at the start,
    # and each page of rows is its own <tbody>.
    assert first_row.evaluate("row => row.isConnected")
    assert page.locator("#grid tbody").count() == -(-browser_world.listed // 50)


def test_a_loading_indicator_shows_while_a_page_is_on_its_way(open_page: OpenPage) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    held: list[Route] = []
    page.route("**/core/conversations?*cursor=*", lambda route: held.append(route))
    page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(page.locator(".list-status .loading")).to_be_visible()
    expect(page.locator("#grid")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    page.unroute("**/core/conversations?*cursor=*")
    expect(page.locator("#grid tbody tr")).to_have_count(100)
    expect(page.locator(".list-status .loading")).to_have_count(0)
    expect(page.locator("#grid")).to_have_attribute("aria-busy", "false")


def test_a_failed_page_shows_an_error_row_and_retry_continues(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    page.route("**/core/conversations?*cursor=*", lambda route: route.abort())
    page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    error = page.locator(".error-row")
    expect(error).to_contain_text("Couldn't load conversations")
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    page.unroute("**/core/conversations?*cursor=*")
    page.get_by_role("button", name="Retry").click()
    expect(error).to_have_count(0)
    scroll_to_end(page)
    ids = loaded_ids(page)
    assert len(ids) == len(set(ids)) == browser_world.listed


def test_every_column_follows_its_formatting_rule(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    long, guest, email, text = (
        row(page, browser_world, label) for label in ("long", "guest", "email", "text")
    )
    expect(long).to_be_visible()

    agent_url = browser_world.url(f"/agents/{browser_world.acme.agent_ids[0]}/versions/2")
    assert texts(long) == {
        "copy": "Open Phone Call with Grace Hopper, Completed, Nov 1, 2026 7:10 AM",  # the row's link
        "play": "",
        "agent": "Billing Assistant",
        "caller_id": "+14155550123",
        "caller_name": "Grace Hopper",
        "agent_number": "+18005550100",
        "direction": "Inbound",
        "status": "Completed",
        "summary": "Asked to reschedule the plumber visit to Thursday morning and confirmed the address.",
        "duration": "1h 02m 05s",
        "date": "Nov 1, 2026",  # 12:10 UTC is 7:10 in New York (EST from that very morning)
        "time": "7:10 AM",
        "type": "Phone Call",
    }
    link = cell(long, "agent").locator("a")
    expect(link).to_have_attribute("href", agent_url)
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener")
    expect(link.locator("svg")).to_have_count(1)  # the external-link icon
    summary = cell(long, "summary").locator(".summary-line")
    expect(summary).to_have_attribute("title", texts(long)["summary"])
    style = summary.evaluate("e => [getComputedStyle(e).textOverflow, getComputedStyle(e).whiteSpace]")
    assert style == ["ellipsis", "nowrap"]
    expect(cell(long, "play").get_by_role("button", name="Play recording")).to_be_visible()

    assert texts(guest) | {"agent": ""} == {
        "copy": "Open Web Chat, In Progress, Nov 1, 2026 7:09 AM",
        "play": "-",  # in progress: nothing to play yet
        "agent": "",
        "caller_id": "Guest",
        "caller_name": "-",
        "agent_number": "+18005550100",
        "direction": "Inbound",
        "status": "In Progress",
        "summary": "-",
        "duration": "-",
        "date": "Nov 1, 2026",
        "time": "7:09 AM",
        "type": "Web Chat",
    }
    expect(cell(guest, "caller_id").locator(".guest")).to_have_attribute("title", "guest_7f3a9c2e")

    email_texts = texts(email)
    assert email_texts["caller_id"].split() == ["jane@example.com", "+2"]
    assert (
        email_texts["direction"],
        email_texts["status"],
        email_texts["duration"],
        email_texts["type"],
    ) == (
        "Outbound",
        "Failed",
        "42s",
        "Email",
    )
    expect(cell(email, "caller_id").locator(".bubble")).to_have_attribute(
        "title", "lead@example.com\nops@example.com"
    )

    assert texts(text) == {
        "copy": "Open Text with +15555550100, No Answer, Nov 1, 2026 7:07 AM",
        "play": "-",
        "agent": "-",
        "caller_id": "+15555550100",
        "caller_name": "-",
        "agent_number": "-",
        "direction": "Inbound",
        "status": "No Answer",
        "summary": "-",
        "duration": "3m 07s",
        "date": "Nov 1, 2026",
        "time": "7:07 AM",
        "type": "Text",
    }


def test_dates_follow_the_viewers_time_zone(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(timezone_id="Asia/Tokyo")
    long = row(page, browser_world, "long")
    expect(long).to_be_visible()
    assert (texts(long)["date"], texts(long)["time"]) == ("Nov 1, 2026", "9:10 PM")
    expect(cell(long, "date").locator("time")).to_have_attribute(
        "title", "Sunday, November 1, 2026 at 9:10:00 PM GMT+9"
    )


def test_copy_link_puts_the_absolute_detail_url_on_the_clipboard(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    long = row(page, browser_world, "long")
    button = cell(long, "copy").get_by_role("button", name="Copy link to this conversation")
    button.click()
    expect(cell(long, "copy").locator(".copy-tip")).to_have_text("Copied")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard == browser_world.url(f"/conversations/{browser_world.special['long']}")
    expect(cell(long, "copy").locator(".copy-tip")).to_have_count(0, timeout=4000)
    assert len(page.context.pages) == 1  # the click did not open the row


def test_copy_link_falls_back_without_the_clipboard_api(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    expect(page.locator("#grid tbody tr").first).to_be_visible()
    page.evaluate("Object.defineProperty(navigator, 'clipboard', { value: undefined })")
    copied = page.evaluate(
        """async () => {
            let copied = null;
            document.addEventListener('copy', (e) => { copied = document.getSelection().toString(); });
            document.querySelector('#grid tbody tr [data-action=copy]').click();
            await new Promise((resolve) => setTimeout(resolve, 100));
            return copied;
        }"""
    )
    assert copied == browser_world.url(
        f"/conversations/{browser_world.special['pending'] and loaded_ids(page)[0]}"
    )
    expect(page.locator("#grid tbody tr").first.locator(".copy-tip")).to_have_text("Copied")


def test_play_streams_the_recording_in_place_one_at_a_time(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    long = row(page, browser_world, "long")
    play = cell(long, "play").get_by_role("button")
    play.click()
    page.wait_for_function(
        "() => { const a = document.getElementById('player'); return !a.paused && a.currentTime > 0.1; }"
    )
    expect(play).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_attribute("aria-label", "Pause recording")
    assert page.url == browser_world.url("/")
    assert len(page.context.pages) == 1

    # Under the row: elapsed / total, the elapsed part running with the recording (4 s long).
    strip = long.locator(".c-player")
    clock = strip.locator(".player-time")
    expect(clock).to_have_text(re.compile(r"^00:0\d / 00:04$"))
    expect(clock).to_have_text(re.compile(r"^00:0[1-4] / 00:04$"))

    play.click()  # pause
    page.wait_for_function("() => document.getElementById('player').paused")
    expect(play).to_have_attribute("aria-pressed", "false")

    # The seek bar moves the recording, by keyboard and by pointer.
    seek = strip.get_by_role("slider", name="Seek")
    seek.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.getElementById('player').currentTime") == 3
    expect(clock).to_have_text("00:03 / 00:04")
    box = seek.bounding_box()
    assert box
    seek.click(position={"x": box["width"] * 0.25, "y": box["height"] / 2})
    assert 0.5 <= page.evaluate("document.getElementById('player').currentTime") <= 1.5
    expect(clock).to_have_text("00:01 / 00:04")

    play.click()  # resume, then start another recording: the first one stops
    page.wait_for_function("() => !document.getElementById('player').paused")
    other = page.locator("#grid tbody [data-action=play]").nth(1)
    other.click()
    expect(other).to_have_attribute("aria-pressed", "true")
    expect(play).to_have_attribute("aria-pressed", "false")
    assert page.locator("audio").count() == 1
    src = page.evaluate("document.getElementById('player').src")
    assert src == other.get_attribute("data-src")
    # The strip went with it: one player, shown under the row that plays.
    expect(strip).to_have_count(0)
    expect(page.locator("#grid .c-player")).to_have_count(1)
    other_row = other.locator("xpath=ancestor::tr")
    expect(other_row.locator(".player-time")).to_have_text(re.compile(r" / 00:01$"))


def test_a_row_opens_its_detail_page_in_a_new_tab(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    long = row(page, browser_world, "long")
    detail_url = browser_world.url(f"/conversations/{browser_world.special['long']}")
    context = page.context

    # The row is one link: a click anywhere on it but its buttons is a click on the link. (force:
    # Playwright would otherwise refuse to click a cell that something, the link, covers.)
    expect(long.locator("a.row-link")).to_have_attribute("href", detail_url)
    with context.expect_page() as clicked:
        cell(long, "summary").click(force=True)
    assert clicked.value.url == detail_url
    expect(clicked.value.locator("h1")).to_have_text("Phone Call with Grace Hopper")
    assert page.url == browser_world.url("/")  # the inbox stays where it was

    with context.expect_page() as middle:
        cell(long, "caller_name").click(button="middle", force=True)
    assert middle.value.url == detail_url

    with context.expect_page() as keyboard:
        long.locator(".row-link").focus()
        page.keyboard.press("Enter")
    assert keyboard.value.url == detail_url

    with context.expect_page() as agent:
        cell(long, "agent").locator("a").click()
    assert agent.value.url == browser_world.url(f"/agents/{browser_world.acme.agent_ids[0]}/versions/2")


def test_a_viewer_sees_dashes_for_sensitive_values_and_cannot_search(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(VIEWER)
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    long = texts(row(page, browser_world, "long"))
    for column in ("play", "caller_id", "caller_name", "summary"):
        assert long[column] == "-", column
    assert (long["agent"], long["status"], long["duration"], long["type"]) == (
        "Billing Assistant",
        "Completed",
        "1h 02m 05s",
        "Phone Call",
    )
    for column in ("caller_id", "caller_name", "summary"):
        values = page.locator(f"#grid tbody td:nth-child({COLUMNS.index(column) + 1})").all_inner_texts()
        assert set(values) == {"-"}, column
    assert page.locator("#grid tbody [data-action=play]").count() == 0
    search = page.locator("#f-q")
    expect(search).to_be_disabled()
    expect(page.locator("#f-q-note")).to_contain_text("cannot see")


def test_a_user_in_two_orgs_switches_between_them(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(MULTI)
    expect(page.locator(".appbar .org-name")).to_have_text("Acme")
    page.locator(".org-menu summary").click()
    page.get_by_role("link", name="Globex").click()
    expect(page).to_have_url(browser_world.url("/?org=globex"))
    expect(page.locator(".appbar .org-name")).to_have_text("Globex")
    scroll_to_end(page)
    globex = {str(i) for i in browser_world.globex.conversation_ids}
    ids = loaded_ids(page)
    assert ids and set(ids) <= globex
    assert len(ids) == listed_count(browser_world, browser_world.globex.id)
