"""/docs is Swagger UI served by Parley itself: same-origin assets that load, the pages' CSP, and
in Chromium it renders the API with no CSP violation."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from parley.web.render import CONTENT_SECURITY_POLICY
from tests.web.conftest import OpenPage

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_the_docs_page_loads_only_same_origin_assets_under_the_csp(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text and "<style>" not in page.text  # nothing inline
    assets = ASSET.findall(page.text)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset
        loaded = client.get(asset)
        assert loaded.status_code == 200, asset
        assert loaded.headers["x-content-type-options"] == "nosniff"


def test_fastapis_cdn_pages_are_gone(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.browser
def test_the_docs_render_in_chromium_with_no_csp_violation(open_page: OpenPage) -> None:
    messages: list[str] = []
    page = open_page(None, "/login")
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    page.goto(page.url.replace("/login", "/docs"))
    page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    assert page.locator(".opblock-summary-path", has_text="/core/conversations").count() >= 1
    violations = [m for m in messages if "Content Security Policy" in m or "Refused to" in m]
    assert not violations, violations
