"""Filtering, searching and exporting in Chromium: the URL holds the view, the list restarts."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import OpenPage
from tests.web.live import VIEWER, BrowserWorld
from tests.web.test_browser_inbox import COLUMNS, listed_count, loaded_ids, scroll_to_end

pytestmark = pytest.mark.browser


def column_values(page: Page, column: str) -> set[str]:
    return {
        t.strip()
        for t in page.locator(f"#grid tbody td:nth-child({COLUMNS.index(column) + 1})").all_inner_texts()
    }


def page_query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def wait_for_list(page: Page) -> None:
    page.wait_for_selector(".end-marker, .empty-state, #grid tbody tr")
    page.wait_for_function("() => document.getElementById('grid').getAttribute('aria-busy') === 'false'")


def test_choosing_statuses_and_types_restarts_the_list_and_updates_the_url(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    page.wait_for_function("() => document.querySelectorAll('#grid tbody tr').length > 50")

    page.locator("#f-status summary").click()
    page.locator('#f-status input[value="no_answer"]').check()
    expect(page).to_have_url(browser_world.url("/?status=no_answer"))
    expect(page.locator("#f-status .multi-value")).to_have_text("No Answer")
    wait_for_list(page)
    assert page.locator("#scroller").evaluate("el => el.scrollTop") == 0  # back at the top
    assert loaded_ids(page)[0] == str(browser_world.special["text"])  # the newest No Answer
    scroll_to_end(page)
    assert column_values(page, "status") == {"No Answer"}
    assert len(loaded_ids(page)) == listed_count(browser_world, status="no_answer")

    page.locator('#f-status input[value="busy"]').check()
    page.keyboard.press("Escape")
    page.locator("#f-channel summary").click()
    page.locator('#f-channel input[value="text"]').check()
    expect(page).to_have_url(browser_world.url("/?status=busy&status=no_answer&channel=text"))
    expect(page.locator("#f-status .multi-value")).to_have_text("2 selected")
    scroll_to_end(page)
    assert column_values(page, "status") <= {"No Answer", "Busy"}
    assert column_values(page, "type") == {"Text"}
    expected = sum(listed_count(browser_world, status=s, channel="text") for s in ("busy", "no_answer"))
    assert len(loaded_ids(page)) == expected

    # The view is a bookmark: reloading it shows the same filters and rows.
    page.reload()
    wait_for_list(page)
    scroll_to_end(page)
    assert len(loaded_ids(page)) == expected
    assert page.locator('#f-status input[value="busy"]').is_checked()
    assert page.locator('#f-channel input[value="text"]').is_checked()

    # Back goes to the previous view, and the list follows.
    page.go_back()
    expect(page).to_have_url(browser_world.url("/?status=busy&status=no_answer"))
    wait_for_list(page)
    assert not page.locator('#f-channel input[value="text"]').is_checked()
    scroll_to_end(page)
    assert column_values(page, "status") == {"No Answer", "Busy"}


def test_agent_and_direction_filters(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    expect(page.locator("#f-agent input[type=checkbox]")).to_have_count(2)
    page.locator("#f-agent summary").click()
    page.locator("#f-agent label", has_text="Appointment Scheduler").locator("input").check()
    page.keyboard.press("Escape")
    page.select_option("#f-direction", "outbound")
    scheduler = browser_world.acme.agent_ids[1]
    expect(page).to_have_url(browser_world.url(f"/?agent_id={scheduler}&direction=outbound"))
    expect(page.locator("#f-agent .multi-value")).to_have_text("Appointment Scheduler")
    wait_for_list(page)
    scroll_to_end(page)
    assert column_values(page, "agent") == {"Appointment Scheduler"}
    assert column_values(page, "direction") == {"Outbound"}
    assert len(loaded_ids(page)) == listed_count(browser_world, agent_id=scheduler, direction="outbound")
    page.get_by_role("button", name="Clear filters").first.click()
    expect(page).to_have_url(browser_world.url("/"))
    expect(page.locator("#grid tbody tr")).to_have_count(50)


def test_dates_are_days_in_the_viewers_time_zone(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    with page.expect_request(lambda r: "created_after" in r.url) as sent:
        page.fill("#f-from", "2026-11-01")
    params = parse_qs(urlsplit(sent.value.url).query)
    # New York's midnight of November 1 is still summer time; the clocks go back at 2am.
    assert params["created_after"] == ["2026-11-01T00:00:00-04:00"]
    with page.expect_request(lambda r: "created_before" in r.url) as sent:
        page.fill("#f-to", "2026-11-01")
    params = parse_qs(urlsplit(sent.value.url).query)
    assert params["created_before"] == ["2026-11-02T00:00:00-05:00"]  # "to" includes the whole day
    assert page_query(page) == {"from": ["2026-11-01"], "to": ["2026-11-01"]}
    wait_for_list(page)
    scroll_to_end(page)
    assert len(loaded_ids(page)) == browser_world.listed  # every row is from that morning

    page.fill("#f-to", "")
    page.fill("#f-from", "2026-11-02")
    wait_for_list(page)
    expect(page.locator(".empty-state")).to_contain_text("No conversations match these filters.")
    expect(page.locator("#grid tbody tr")).to_have_count(0)


def test_duration_range_in_minutes(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    page.fill("#f-min", "1")
    page.fill("#f-max", "1.5")
    page.press("#f-max", "Enter")
    expect(page).to_have_url(browser_world.url("/?min_duration=60&max_duration=90"))
    wait_for_list(page)
    scroll_to_end(page)
    durations = column_values(page, "duration")
    assert durations and durations <= {"1m 00s", "1m 10s", "1m 20s", "1m 30s"}


def test_search_shows_why_a_row_matched(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    page.fill("#f-q", "plumber")
    expect(page).to_have_url(browser_world.url("/?q=plumber"))
    expect(page.locator("#grid tbody tr")).to_have_count(1)
    row = page.locator("#grid tbody tr").first
    assert row.get_attribute("data-id") == str(browser_world.special["long"])
    snippet = row.locator(".snippet")
    expect(snippet.locator("mark")).to_have_text(["plumber"])
    expect(snippet.locator(".snippet-field")).to_have_text("Summary")
    expect(page.locator(".end-marker")).to_have_text("End of list · 1 conversation")


def test_search_text_stays_text(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    """A query with markup finds nothing and injects nothing."""
    page = open_page(path="/?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    wait_for_list(page)
    expect(page.locator("#f-q")).to_have_value("<img src=x onerror=alert(1)>")
    assert page.locator("#grid tbody img").count() == 0


def test_export_downloads_the_filtered_view_in_the_viewers_time_zone(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(path="/?status=no_answer&channel=text")
    wait_for_list(page)
    href = page.locator("#export").get_attribute("href") or ""
    assert parse_qs(urlsplit(href).query) == {
        "status": ["no_answer"],
        "channel": ["text"],
        "tz": ["America/New_York"],
    }
    with page.expect_download() as download:
        page.locator("#export").click()
    assert download.value.suggested_filename.startswith("parley-acme-conversations-")
    with Path(download.value.path()).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == listed_count(browser_world, status="no_answer", channel="text")
    assert {row["Status"] for row in rows} == {"No Answer"}
    text = next(row for row in rows if row["Conversation ID"] == str(browser_world.special["text"]))
    assert (text["Date"], text["Time"], text["Duration"], text["Type"]) == (
        "2026-11-01",
        "07:07:00",
        "3m 07s",
        "Text",
    )
    # An analyst's export has the sensitive columns (the export guards cells against formulas).
    assert text["Caller ID"] == "'+15555550100"


def test_an_export_the_server_refuses_shows_why_instead_of_a_failed_download(open_page: OpenPage) -> None:
    """A refused export (too many running, or a filter the reader may not use) is a page with the
    server's sentence and a way back; a download that fails says nothing."""
    page = open_page(VIEWER)
    wait_for_list(page)
    # The inbox offers a viewer no caller-id filter; the address can still carry one.
    page.locator("#export").evaluate("(link) => { link.href += '&user_id=%2B1415'; }")
    with page.expect_navigation():
        page.locator("#export").click()
    expect(page.locator("h1")).to_have_text("Forbidden")
    expect(page.locator("[role=alert]")).to_contain_text("read_sensitive")
    page.get_by_role("link", name="Back to the inbox").click()
    wait_for_list(page)


def test_a_viewers_url_with_a_search_drops_it(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page("vic@acme.test", path="/?q=plumber&status=completed")
    wait_for_list(page)
    expect(page).to_have_url(browser_world.url("/?status=completed"))
    assert column_values(page, "status") == {"Completed"}
    assert "q=" not in (page.locator("#export").get_attribute("href") or "")
