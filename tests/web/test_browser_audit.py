"""The audit page in Chromium: reached from the header by an admin, drawn without script errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import MULTI, OpenPage

pytestmark = pytest.mark.browser


def test_an_admin_reaches_the_audit_page_from_the_header(open_page: OpenPage) -> None:
    page = open_page(MULTI, "/?org=globex")
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
    expect(page.get_by_role("link", name="Audit")).to_have_attribute("aria-current", "page")
    page.get_by_label("Action").select_option("login")
    page.get_by_role("button", name="Show").click()
    assert "action=login" in page.url
    # The admin's own login, recorded in each of their orgs (the page reloads until it is written).
    for _ in range(20):
        if page.locator("table.audit-table tbody tr").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(page.locator("table.audit-table tbody tr").first).to_contain_text("login")


def test_a_member_who_cannot_manage_has_no_link(open_page: OpenPage) -> None:
    page = open_page(MULTI, "/?org=acme")  # a viewer in acme
    expect(page.get_by_role("link", name="Inbox")).to_be_visible()
    expect(page.get_by_role("link", name="Audit")).to_have_count(0)
