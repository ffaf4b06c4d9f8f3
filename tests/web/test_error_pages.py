"""A browser's navigation that an API route refuses (the inbox's export link, a recording opened
in a tab) is shown a page with the refusal's sentence, not raw problem+json; fetch() and API
clients still get problem+json."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from parley.api.export_gate import ExportGate
from parley.config import Settings
from tests.web.conftest import ANALYST, WebWorld, log_in

EXPORT = "/core/conversations/export.csv?channel=telephone"
NAVIGATION = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_an_export_refused_for_being_one_too_many_shows_a_page_that_says_why(
    client: TestClient, web_world: WebWorld, settings: Settings
) -> None:
    log_in(client, ANALYST)
    gate: ExportGate = client.app.state.exports.gate  # type: ignore[attr-defined]
    slots = [gate.acquire(web_world.acme.id) for _ in range(settings.exports_per_org)]
    try:
        fetched = client.get(EXPORT, headers={"Accept": "*/*"})
        page = client.get(EXPORT, headers=NAVIGATION)
    finally:
        for slot in slots:
            slot.release()
    assert fetched.status_code == 429
    assert fetched.headers["content-type"] == "application/problem+json"
    sentence = fetched.json()["detail"]
    assert "export" in sentence
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["retry-after"] == fetched.headers["retry-after"]
    assert sentence in html.unescape(page.text)
    assert "Too Many Requests" in page.text and 'href="/"' in page.text  # a way back to the inbox
    # Once a slot is free the same link downloads the file.
    again = client.get(EXPORT, headers=NAVIGATION)
    assert again.status_code == 200 and again.headers["content-type"].startswith("text/csv")


def test_a_recording_opened_in_a_tab_that_does_not_exist_shows_a_page(
    client: TestClient, web_world: WebWorld
) -> None:
    log_in(client, ANALYST)
    missing = "/core/conversations/42/recording"
    fetched = client.get(missing, headers={"Accept": "*/*"})
    page = client.get(missing, headers=NAVIGATION)
    assert (fetched.status_code, page.status_code) == (404, 404)
    assert fetched.headers["content-type"] == "application/problem+json"
    assert page.headers["content-type"].startswith("text/html")
    assert fetched.json()["detail"] in html.unescape(page.text)
