"""The inbox without a mouse: one tab stop for the whole table, arrow keys inside it, and every
detail a hover used to show alone reachable by focus and by a tap, and named to screen readers."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import OpenPage
from tests.web.live import BrowserWorld

pytestmark = pytest.mark.browser

ACTIVE_ROW = "() => document.activeElement.closest('#grid tbody tr')?.dataset.id ?? null"


def active_row(page: Page) -> str | None:
    found: str | None = page.evaluate(ACTIVE_ROW)
    return found


def active(page: Page) -> str:
    """What has the focus, as a short description: its class list and text."""
    described: str = page.evaluate(
        "() => `${document.activeElement.tagName.toLowerCase()}.${document.activeElement.className}`"
    )
    return described


def tab_into_table(page: Page) -> None:
    page.locator("#f-q").focus()
    for _ in range(30):
        page.keyboard.press("Tab")
        if active_row(page) is not None:
            return
    raise AssertionError("Tab never reached the table")


def row(page: Page, world: BrowserWorld, label: str) -> Locator:
    return page.locator(f'#grid tbody tr[data-id="{world.special[label]}"]')


def test_tab_enters_the_table_once_and_arrows_walk_it(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    ids = page.eval_on_selector_all("#grid tbody tr", "rows => rows.map(r => r.dataset.id)")
    # Fifty rows, a dozen controls each, and one tab stop among them.
    assert page.locator("#grid [tabindex='0']").count() == 1

    tab_into_table(page)
    assert active_row(page) == ids[0] and active(page) == "a.row-link"
    expect(page.locator("#grid")).to_have_attribute("role", "grid")
    expect(page.locator(":focus")).to_have_accessible_name(
        "Open Phone Call with Grace Hopper, Completed, Nov 1, 2026 7:10 AM"
    )
    assert page.evaluate("getComputedStyle(document.activeElement.closest('tr')).outlineStyle") == "solid"

    page.keyboard.press("ArrowDown")
    assert active_row(page) == ids[1] and active(page) == "a.row-link"
    page.keyboard.press("ArrowRight")  # the copy button of that row
    assert active(page).startswith("button.icon-btn") and active_row(page) == ids[1]
    page.keyboard.press("ArrowDown")  # the same column one row down
    assert active(page).startswith("button.icon-btn") and active_row(page) == ids[2]
    page.keyboard.press("Home")
    assert active(page) == "a.row-link" and active_row(page) == ids[2]

    # Tab leaves the table at once; coming back lands where the reader was.
    page.keyboard.press("Tab")
    assert active_row(page) is None
    page.keyboard.press("Shift+Tab")
    assert active_row(page) == ids[2] and active(page) == "a.row-link"
    assert page.locator("#grid [tabindex='0']").count() == 1

    # ArrowDown crosses from one loaded page of rows (a <tbody>) into the next.
    page.locator("#scroller").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    page.wait_for_function("() => document.querySelectorAll('#grid tbody').length > 1")
    page.locator("#grid tbody tr").nth(49).locator(".row-link").focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate(
        "document.activeElement.closest('tr') === document.querySelectorAll('#grid tbody tr')[50]"
    )
    page.keyboard.press("ArrowUp")
    assert page.evaluate(
        "document.activeElement.closest('tr') === document.querySelectorAll('#grid tbody tr')[49]"
    )

    # Enter opens the row, as on any link.
    with page.context.expect_page() as opened:
        page.keyboard.press("Enter")
    assert opened.value.url == browser_world.url(f"/conversations/{ids[49]}")


def test_hover_details_open_on_focus_and_are_named(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page()
    peek = page.locator("#peek")
    expect(row(page, browser_world, "guest")).to_be_visible()
    tab_into_table(page)
    page.keyboard.press("ArrowDown")  # the newest rows: long, guest, email
    assert active_row(page) == str(browser_world.special["guest"])

    # A guest's full id: link, copy, agent, then the guest button.
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    guest = row(page, browser_world, "guest").locator("button.guest")
    expect(guest).to_be_focused()
    expect(guest).to_have_accessible_name("Guest, id guest_7f3a9c2e")
    expect(peek).to_be_visible()
    expect(peek).to_have_text("guest_7f3a9c2e")
    expect(guest).to_have_attribute("aria-expanded", "true")
    expect(guest).to_have_accessible_description("guest_7f3a9c2e")
    page.keyboard.press("Escape")
    expect(peek).to_be_hidden()
    expect(guest).to_have_attribute("aria-expanded", "false")

    # Down to the email thread's "+N": the others on the thread, not the agent's own mailbox.
    page.keyboard.press("ArrowDown")
    bubble = row(page, browser_world, "email").locator("button.bubble")
    expect(bubble).to_be_focused()
    expect(bubble).to_have_text("+2")
    expect(bubble).to_have_accessible_name("2 more on the thread: lead@example.com, ops@example.com")
    expect(peek).to_have_text("lead@example.com\nops@example.com", use_inner_text=True)

    # Up to the first row, whose caller cell has no control: its link. End: the summary's button.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert active_row(page) == str(browser_world.special["long"]) and active(page) == "a.row-link"
    expect(peek).to_be_hidden()
    page.keyboard.press("End")
    more = row(page, browser_world, "long").get_by_role("button", name="Full summary")
    expect(more).to_be_focused()
    expect(more).to_be_visible()
    expect(peek).to_have_text(
        "Asked to reschedule the plumber visit to Thursday morning and confirmed the address."
    )
    page.keyboard.press("Tab")
    expect(peek).to_be_hidden()


def test_a_search_says_why_a_row_matched_on_focus(open_page: OpenPage) -> None:
    page = open_page(path="/?q=refund")
    expect(page.locator("#grid tbody tr.has-match").first).to_be_visible()
    tab_into_table(page)
    page.keyboard.press("End")
    more = page.locator(":focus")
    expect(more).to_have_accessible_name("Full summary and why it matched")
    expect(page.locator("#peek")).to_contain_text("Matched in transcript: ")
    expect(page.locator("#peek")).to_contain_text("refund")


def test_a_tap_opens_a_detail_and_another_tap_closes_it(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(has_touch=True, is_mobile=False)
    peek = page.locator("#peek")
    bubble = row(page, browser_world, "email").locator("button.bubble")
    bubble.tap()
    expect(peek).to_be_visible()
    expect(peek).to_have_text("lead@example.com\nops@example.com", use_inner_text=True)
    assert len(page.context.pages) == 1  # the tap did not open the row
    bubble.tap()
    expect(peek).to_be_hidden()
    guest = row(page, browser_world, "guest").locator("button.guest")
    guest.tap()
    expect(peek).to_have_text("guest_7f3a9c2e")
    page.locator(".appbar").tap()  # a tap elsewhere closes it
    expect(peek).to_be_hidden()
