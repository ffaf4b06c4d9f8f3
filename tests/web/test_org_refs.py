"""The org cookie is read like the org header: text that only looks like an org id is an unknown org."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import ANALYST, WebWorld, log_in

LIST = "/core/conversations"
FAKE_ORG_IDS = [
    "\u0661\u0662",
    "\uff11\uff12",
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
]


@pytest.mark.parametrize("ref", FAKE_ORG_IDS)
def test_an_org_cookie_that_only_looks_like_an_id_is_an_unknown_org(
    client: TestClient, web_world: WebWorld, ref: str, caplog: pytest.LogCaptureFixture
) -> None:
    log_in(client, ANALYST)
    session = client.cookies["parley_session"]
    client.cookies.clear()

    def listed(org: bytes) -> tuple[int, str]:
        cookie = b"parley_session=" + session.encode() + b"; parley_org=" + org
        response = client.get(LIST, headers={"Cookie": cookie})  # type: ignore[dict-item]
        return response.status_code, response.headers["content-type"]

    with caplog.at_level(logging.ERROR):
        answer = listed(ref.encode())
    assert answer == listed(b"no-such-org") == (403, "application/problem+json")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # The pages fall back to the user's first org rather than failing.
    page = client.get(
        "/conversations", headers={"Cookie": f"parley_session={session}; parley_org=2147483648"}
    )
    assert page.status_code == 200
