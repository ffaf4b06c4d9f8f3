"""A real ``parley serve`` through a representative session: its logs must hold no secret (tokens,
passwords, cookies) and no sensitive value (what was searched for, a caller's number), while
still saying which routes were called and how they answered."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine

from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.config import Settings
from tests.cli.test_serve import free_port
from tests.factories import PASSWORD, add_member, insert_all, make_org, varied_conversations

SEARCHED = "zebrafinchquery"  # a q value
CALLER = "+15559876543"  # a user_id value
WRONG_PASSWORD = "not-the-password-4711"
EMAIL = "ana@acme.test"


def _wait_for(base: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, "the server did not come up"
        time.sleep(0.2)


@pytest.mark.slow
def test_the_logs_of_a_session_hold_no_secret_and_no_sensitive_value(
    engine: Engine, settings: Settings, passwords: Passwords, tmp_path: Path
) -> None:
    acme = make_org(engine, "acme", agent_base=1000)
    insert_all(engine, acme, varied_conversations(acme, 10, seed=1))
    pat = add_member(
        engine, passwords, acme, EMAIL, Role.ADMIN, {Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}
    )
    api_key = acme.tokens["sensitive"]
    writer_key = acme.tokens["manage"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": settings.database_url,
        "PARLEY_RECORDINGS_DIR": str(tmp_path / "rec"),
        "PARLEY_SECRET_KEY": settings.secret_key or "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    secrets: list[str] = [pat, api_key, writer_key, PASSWORD, WRONG_PASSWORD]
    try:
        _wait_for(base, server)
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form)
            assert csrf is not None
            wrong = {"email": EMAIL, "password": WRONG_PASSWORD, "csrf_token": csrf.group(1)}
            assert browser.post("/login", data=wrong).status_code in (400, 401)
            right = {"email": EMAIL, "password": PASSWORD, "csrf_token": csrf.group(1)}
            assert browser.post("/login", data=right).status_code == 303
            secrets += [value for value in browser.cookies.values() if len(value) >= 16]
            listed = browser.get("/core/conversations", params={"q": SEARCHED, "user_id": CALLER})
            assert listed.status_code == 200
            first = browser.get("/core/conversations", params={"limit": 1}).json()["data"][0]["id"]
            assert browser.get(f"/core/conversations/{first}").status_code == 200
            assert browser.get("/core/conversations/export.csv", params={"q": SEARCHED}).status_code == 200
        with httpx.Client(base_url=base) as api:
            token_use = api.get(
                "/core/conversations",
                params={"q": SEARCHED, "user_id": CALLER},
                headers={"Authorization": f"Bearer {api_key}"},
            )
            assert token_use.status_code == 200
            pat_use = api.get(
                "/core/conversations", headers={"Authorization": f"Bearer {pat}", "X-Anyreach-Org": "acme"}
            )
            assert pat_use.status_code == 200
            created = api.post(
                "/core/conversations",
                json={"channel": "telephone", "direction": "inbound", "user_id": CALLER, "summary": SEARCHED},
                headers={"Authorization": f"Bearer {writer_key}"},
            )
            assert created.status_code == 201, created.text
            bad = api.get("/core/conversations", headers={"Authorization": f"Bearer {api_key}x"})
            assert bad.status_code == 401
    finally:
        server.terminate()
        logs, _ = server.communicate(timeout=30)
    # The log is there and says what happened: routes and statuses.
    assert re.search(r'"GET /core/conversations\?q=…&user_id=… HTTP/1.1" 200', logs), logs
    assert '"POST /login HTTP/1.1" 303' in logs
    assert '"POST /core/conversations HTTP/1.1" 201' in logs
    for value in [*secrets, SEARCHED, CALLER, CALLER.lstrip("+"), "%2B15559876543"]:
        assert value not in logs, f"{value[:6]}… is in the log"
