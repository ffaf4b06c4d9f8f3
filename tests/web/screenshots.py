"""Screenshots of the inbox for the README: ``.venv/bin/python -m tests.web.screenshots [folder]``.

Seeds an org with the synthetic-data seeder (or, if it is missing, the test factories), serves it,
logs in with Chromium at 1280x800 in New York time, with only the DejaVu fonts CI installs (whatever
else this machine has), and saves ``inbox.png``, ``detail.png`` and, at 390x844, ``inbox-phone.png``.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import Engine, select

from parley.accounts import service
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role
from parley.config import Settings
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from tests.factories import PASSWORD
from tests.web.fonts import dejavu_only_env
from tests.web.live import CHROMIUM_ARGS, build_browser_world, chromium_path, live_server

EMAIL = "dana@parley.example"
SLUG = "northwind"
UNTIL = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


def seeded_database(settings: Settings) -> tuple[Engine, str]:
    """An org full of realistic conversations and an analyst to look at it; returns the org slug."""
    try:
        from parley.seed.run import seed_org
    except ImportError:
        engine, world = build_browser_world(settings)
        return engine, world.acme.slug
    engine = build_engine(settings.database_url)
    upgrade(engine)
    seed_org(engine, settings, SLUG, 400, seed=11, days=3, until=UNTIL)
    with engine.begin() as conn:
        org = service.get_org(conn, SLUG)
        service.create_user(
            conn, Passwords.from_settings(settings), EMAIL, PASSWORD, org, Role.ANALYST, "Dana"
        )
    return engine, SLUG


def showcase_conversation(engine: Engine, org_slug: str) -> int:
    """The newest completed phone call with a recording and a transcript of a few turns."""
    c, t = tables.conversations, tables.transcript_turns
    with engine.connect() as conn:
        org = service.get_org(conn, org_slug)
        for row in conn.execute(
            select(c.c.id)
            .where(
                c.c.org_id == org.id,
                c.c.channel == "telephone",
                c.c.status == "completed",
                c.c.has_recording.is_(True),
                c.c.caller_name.is_not(None),
            )
            .order_by(c.c.created_at.desc())
        ):
            turns = conn.execute(
                select(t.c.seq).where(t.c.org_id == org.id, t.c.conversation_id == row.id)
            ).all()
            if 4 <= len(turns) <= 12:
                return int(row.id)
    raise LookupError("no conversation worth showing")


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#grid tbody tr")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'parley.db'}",
            secret_key="screenshots",
            recordings_dir=Path(tmp) / "recordings",
        )
        engine, slug = seeded_database(settings)
        email = EMAIL if slug == SLUG else "ana@acme.test"
        detail_id = showcase_conversation(engine, slug)
        with live_server(settings, engine) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS, env=dejavu_only_env(Path(tmp) / "fonts")
            )
            context = browser.new_context(
                viewport={"width": 1280, "height": 800}, timezone_id="America/New_York", locale="en-US"
            )
            page = context.new_page()
            log_in(page, base_url, email)
            page.wait_for_function(
                "() => document.getElementById('grid').getAttribute('aria-busy') === 'false'"
            )
            page.locator("#grid tbody tr").nth(2).hover()
            page.screenshot(path=folder / "inbox.png")
            page.goto(f"{base_url}/conversations/{detail_id}")
            page.wait_for_function("() => document.querySelector('audio').readyState >= 1")
            page.screenshot(path=folder / "detail.png")
            phone = browser.new_context(
                viewport={"width": 390, "height": 844},
                timezone_id="America/New_York",
                locale="en-US",
                is_mobile=True,
                has_touch=True,
                device_scale_factor=2,
            ).new_page()
            log_in(phone, base_url, email)
            phone.screenshot(path=folder / "inbox-phone.png")
            browser.close()
        engine.dispose()
    print(f"wrote {folder / 'inbox.png'}, {folder / 'detail.png'} and {folder / 'inbox-phone.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"))
