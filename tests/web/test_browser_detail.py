"""The detail page in Chromium: local times, the recording, the transcript, copy link, 404."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import VIEWER, OpenPage
from tests.web.live import BrowserWorld

pytestmark = pytest.mark.browser


def test_the_detail_page_reads_as_a_dialogue_in_local_time(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(path=f"/conversations/{browser_world.special['long']}")
    expect(page.locator("h1")).to_have_text("Phone Call with Grace Hopper")
    expect(page.locator(".subtitle time")).to_have_text("Nov 1, 2026, 7:10:00 AM EST")
    expect(page.locator(".pill")).to_have_text("Completed")
    expect(page.locator(".turn .speaker")).to_have_text(
        ["Billing Assistant", "Grace Hopper", "Billing Assistant"]
    )
    expect(page.locator(".turn .offset")).to_have_text(["00:00", "00:04", "01:05"])
    expect(page.locator(".turn-caller .turn-text")).to_have_text(
        "I need to move the plumber visit to Thursday."
    )
    agent = page.locator(".meta a.agent-link")
    expect(agent).to_have_attribute("target", "_blank")
    expect(page.locator(".meta dt:text('Agent version') + dd")).to_have_text("2")


def test_the_recording_plays_on_the_detail_page(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(path=f"/conversations/{browser_world.special['long']}")
    audio = page.locator("audio")
    expect(audio).to_have_count(1)
    audio.evaluate("a => a.play()")
    page.wait_for_function("() => document.querySelector('audio').currentTime > 0.2")
    assert audio.evaluate("a => a.duration") == pytest.approx(4, abs=0.1)


def test_copy_link_on_the_detail_page(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(
        path=f"/conversations/{browser_world.special['email']}",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("[data-copy] .copy-label")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == page.url
    # The detail names everyone on the thread, the agent's own mailbox too (the inbox's +N does not).
    expect(page.locator(".participants .address")).to_have_text(
        ["lead@example.com", "ops@example.com", "support@acme.test"]
    )


def test_a_viewer_sees_the_safe_fields_and_dashes(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(VIEWER, path=f"/conversations/{browser_world.special['long']}")
    expect(page.locator("h1")).to_have_text("Phone Call")
    expect(page.locator(".notice")).to_contain_text("sensitive")
    expect(page.locator(".meta dt:text('Caller ID') + dd")).to_have_text("-")
    expect(page.locator(".meta dt:text('Agent Number') + dd")).to_have_text("+18005550100")
    expect(page.locator("audio")).to_have_count(0)
    expect(page.locator(".turn")).to_have_count(0)


def test_an_unknown_conversation_is_a_friendly_404(open_page: OpenPage, browser_world: BrowserWorld) -> None:
    page = open_page(path=f"/conversations/{browser_world.globex.conversation_ids[0]}")
    expect(page.locator("h1")).to_have_text("Conversation not found")
    page.get_by_role("link", name="Back to all conversations").click()
    expect(page).to_have_url(browser_world.url("/"))
    expect(page.locator("#grid tbody tr").first).to_be_visible()
