"""The inbox on a phone: below 640 px each conversation is a card, with the same actions."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect

from tests.web.conftest import OpenPage
from tests.web.live import BrowserWorld

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def within_screen(locator: Locator) -> bool:
    box = locator.bounding_box()
    return bool(box) and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # type: ignore[index]


def test_each_conversation_is_a_card_at_390_px(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(viewport=PHONE, has_touch=True, is_mobile=True)
    card = page.locator(f'#grid tbody tr[data-id="{browser_world.special["long"]}"]')
    expect(card).to_be_visible()
    # Nothing scrolls sideways, neither the page nor the list.
    widths = page.evaluate(
        """() => [document.documentElement.scrollWidth, document.getElementById('scroller').scrollWidth,
                  document.getElementById('scroller').clientWidth]"""
    )
    assert widths[0] <= 390 and widths[1] <= widths[2]
    for selector in (".brand-mark", ".appbar .org-name", ".logout-form button", "#f-q", "#filters-toggle"):
        assert within_screen(page.locator(selector).first), selector

    shown = {
        "type icon": card.locator(".c-type svg"),
        "caller": card.locator(".c-caller").get_by_text("+14155550123"),
        "status": card.locator(".c-status").get_by_text("Completed"),
        "time": card.locator(".c-time").get_by_text("7:10 AM"),
        "summary": card.locator(".c-summary .summary-line"),
        "duration": card.locator(".c-duration").get_by_text("1h 02m 05s"),
        "copy": card.get_by_role("button", name="Copy link to this conversation"),
        "play": card.get_by_role("button", name="Play recording"),
    }
    for what, locator in shown.items():
        expect(locator, what).to_be_visible()
        assert within_screen(locator), what
    # One line of summary, cut with an ellipsis.
    summary = shown["summary"].evaluate(
        "e => [getComputedStyle(e).whiteSpace, getComputedStyle(e).textOverflow, e.scrollWidth > e.clientWidth,"
        " e.getBoundingClientRect().height <= 1.5 * parseFloat(getComputedStyle(e).lineHeight)]"
    )
    assert summary == ["nowrap", "ellipsis", True, True]
    for hidden in (".c-agent", ".c-name", ".c-number", ".c-dir"):
        expect(card.locator(hidden)).to_be_hidden()
    # The type is still named to a screen reader.
    expect(card.locator(".c-type")).to_have_text("Phone Call")

    # Play works in place, its strip inside the card.
    shown["play"].tap()
    expect(card.get_by_role("button", name="Pause recording")).to_be_visible()
    expect(card.locator(".player-time")).to_be_visible()
    assert within_screen(card.get_by_role("slider", name="Seek"))
    card.get_by_role("button", name="Pause recording").tap()

    # A tap on the card opens the conversation, as a click on a row does.
    with page.context.expect_page() as opened:
        card.locator(".c-status").tap(force=True)  # force: the row's link covers the cell
    assert opened.value.url == browser_world.url(f"/conversations/{browser_world.special['long']}")

    # The filters fold away behind their toggle.
    expect(page.locator("#filter-fields")).to_be_hidden()
    page.locator("#filters-toggle").tap()
    expect(page.locator("#filter-fields")).to_be_visible()
