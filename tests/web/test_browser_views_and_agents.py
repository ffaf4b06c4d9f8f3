"""Saved views and agent pages in Chromium: save the filters under a name, see the tab, open it,
delete it; follow an agent link from a row to the agent's page and on to the filtered inbox."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ANALYST, VIEWER, OpenPage
from tests.web.live import BrowserWorld
from tests.web.test_browser_filters import column_values, wait_for_list
from tests.web.test_browser_inbox import listed_count, loaded_ids, row, scroll_to_end

pytestmark = pytest.mark.browser


def test_save_a_view_open_it_from_its_tab_and_delete_it(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page(ANALYST, "/?status=no_answer&channel=text")
    wait_for_list(page)
    page.get_by_role("button", name="Save view").click()
    page.locator("#save-view-form input[name=view_name]").fill("Unanswered texts")
    page.locator("#save-view-form input[name=view_shared]").check()
    page.locator("#save-view-form button[type=submit]").click()
    tab = page.locator("#view-tabs a", has_text="Unanswered texts")
    expect(tab).to_have_attribute("aria-current", "page")  # it is the view on screen
    expect(tab).to_have_attribute("href", "/?status=no_answer&channel=text")
    expect(page.locator("#save-view-form")).to_be_hidden()

    # Saving the same name again says why it cannot.
    page.get_by_role("button", name="Save view").click()
    page.locator("#save-view-form input[name=view_name]").fill("Unanswered texts")
    page.locator("#save-view-form button[type=submit]").click()
    expect(page.locator("#save-view-error")).to_contain_text("already have a view named 'Unanswered texts'")
    page.locator("#save-view-form [data-action=cancel]").click()

    # Elsewhere, the tab opens the view as a URL.
    page.goto(browser_world.url("/"))
    wait_for_list(page)
    tab = page.locator("#view-tabs a", has_text="Unanswered texts")
    expect(tab).not_to_have_attribute("aria-current", "page")
    tab.click()
    expect(page).to_have_url(browser_world.url("/?status=no_answer&channel=text"))
    wait_for_list(page)
    scroll_to_end(page)
    assert column_values(page, "status") == {"No Answer"}
    assert len(loaded_ids(page)) == listed_count(browser_world, status="no_answer", channel="text")

    # Shared: another member sees it, without the delete button.
    other = open_page(VIEWER)
    shared = other.locator("#view-tabs .view-item", has_text="Unanswered texts")
    expect(shared).to_contain_text(ANALYST)
    assert shared.get_by_role("button").count() == 0

    page.get_by_role("button", name="Delete view Unanswered texts").click()
    expect(page.locator("#view-tabs a")).to_have_count(0)
    other.reload()
    wait_for_list(other)
    expect(other.locator("#view-tabs a")).to_have_count(0)


def test_an_agent_link_opens_the_agent_page_and_it_leads_to_the_filtered_inbox(
    open_page: OpenPage, browser_world: BrowserWorld
) -> None:
    page = open_page()
    long = row(page, browser_world, "long")
    billing = browser_world.acme.agent_ids[0]
    with page.context.expect_page() as opened:
        long.locator(f'a[href*="/agents/{billing}/versions/2"]').click()
    agent = opened.value
    expect(agent).to_have_url(browser_world.url(f"/agents/{billing}/versions/2"))
    expect(agent.locator("h1")).to_contain_text("Billing Assistant")
    expect(agent.locator(".versions tbody tr")).to_have_count(2)
    expect(agent.locator('.versions tr[aria-current="true"]')).to_have_attribute("data-version", "2")

    agent.get_by_role("link", name="Conversations with version 2").click()
    expect(agent).to_have_url(browser_world.url(f"/?agent_id={billing}&agent_version=2"))
    expect(agent.locator("#f-agent .multi-value")).to_have_text("Billing Assistant")
    expect(agent.locator("#f-agent-version")).to_have_value("2")
    wait_for_list(agent)
    scroll_to_end(agent)
    assert column_values(agent, "agent") == {"Billing Assistant"}
    assert len(loaded_ids(agent)) == listed_count(browser_world, agent_id=billing, agent_version=2)

    agent.go_back()
    agent.get_by_role("link", name="Conversations with Billing Assistant").click()
    expect(agent).to_have_url(browser_world.url(f"/?agent_id={billing}"))
    wait_for_list(agent)
    scroll_to_end(agent)
    assert len(loaded_ids(agent)) == listed_count(browser_world, agent_id=billing)
