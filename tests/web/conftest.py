"""Fixtures for the web inbox: a small world of orgs and members, a client, logging in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, StorageState, sync_playwright
from sqlalchemy import Engine

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.config import Settings
from tests.conftest import CHEAP_PASSWORDS
from tests.factories import PASSWORD, OrgFixture, add_member, insert_all, make_org, varied_conversations
from tests.web.live import (
    ANALYST,
    CHROMIUM_ARGS,
    MULTI,
    VIEWER,
    BrowserWorld,
    browser_required,
    build_browser_world,
    chromium_path,
    live_server,
    missing_browser,
    special_conversations,
    write_tone,
)

ALL_SCOPES = {Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}


@dataclass
class WebWorld:
    acme: OrgFixture
    globex: OrgFixture
    pats: dict[str, str]  # email -> a PAT asking for every scope (narrowed to the user's role)
    special: dict[str, int]  # label -> id of the rows of live.special_conversations


@pytest.fixture
def web_world(engine: Engine, settings: Settings, passwords: Passwords) -> WebWorld:
    acme = make_org(engine, "acme", agent_base=1000)
    globex = make_org(engine, "globex", agent_base=2000)
    special = special_conversations(
        acme, write_tone(settings.recordings_dir / "calls" / "tone.wav", seconds=1)
    )
    insert_all(engine, acme, list(special.values()))
    insert_all(engine, acme, varied_conversations(acme, 30, seed=1))
    insert_all(engine, globex, varied_conversations(globex, 10, seed=2))
    pats = {
        ANALYST: add_member(engine, passwords, acme, ANALYST, Role.ANALYST, ALL_SCOPES),
        VIEWER: add_member(engine, passwords, acme, VIEWER, Role.VIEWER, ALL_SCOPES),
        MULTI: add_member(engine, passwords, acme, MULTI, Role.VIEWER, ALL_SCOPES),
    }
    add_member(engine, passwords, globex, MULTI, Role.ADMIN, ALL_SCOPES)
    return WebWorld(acme, globex, pats, {label: item.id for label, item in special.items()})


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine), follow_redirects=False) as test_client:
        yield test_client


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def log_in(
    client: TestClient, email: str, password: str = PASSWORD, next_url: str | None = None
) -> httpx.Response:
    """Fill in the login form as a browser would: fetch it (for its token and cookie), post it."""
    token = csrf_token(client.get("/login").text)
    form = {"email": email, "password": password, "csrf_token": token}
    if next_url is not None:
        form["next"] = next_url
    return client.post("/login", data=form)


# --- browser tests: one server, one Chromium, shared by every browser test of the run -----------


@pytest.fixture(scope="package")
def browser_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserWorld]:
    root = tmp_path_factory.mktemp("browser")
    settings = Settings(
        database_url=f"sqlite:///{root / 'parley.db'}",
        secret_key="browser-tests-secret-key",
        recordings_dir=root / "recordings",
        **CHEAP_PASSWORDS,
    )
    engine, world = build_browser_world(settings)
    with live_server(settings, engine) as base_url:
        world.base_url = base_url
        yield world
    engine.dispose()


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread
# while it is open, and a test elsewhere that calls asyncio.run (tests/simulate) must not run
# inside it, whichever order pytest -n gives the files of a process.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Asked for before the server's data, so a missing Chromium fails before building it.
    missing = missing_browser()
    if missing is not None:  # only where the browser is required: elsewhere these tests are left out
        pytest.fail(f"browser tests cannot run: {missing} (required here: PARLEY_TEST_REQUIRE_BROWSER)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


_LEFT_OUT = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium the browser tests are left out, as PostgreSQL's are without their URL,
    and the run ends with one line saying how to enable them; a skip per test would print one
    line each. Where the browser is required (.ci/run) they stay, and fail."""
    missing = missing_browser()
    if missing is None or browser_required():
        return
    dropped = [item for item in items if item.get_closest_marker("browser")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
        config.stash[_LEFT_OUT] = f"browser tests skipped ({len(dropped)}): {missing}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if _LEFT_OUT in config.stash:
        terminalreporter.write_line(config.stash[_LEFT_OUT], yellow=True)


@pytest.fixture(autouse=True)
def _browser_tests_need_the_browser(request: pytest.FixtureRequest) -> None:
    """A browser test that drives Chromium through another fixture skips (or fails) all the same."""
    if request.node.get_closest_marker("browser") is not None:
        request.getfixturevalue("browser")


@pytest.fixture(scope="package")
def login_states(browser: Browser, browser_world: BrowserWorld) -> Callable[[str], StorageState]:
    """Log each user in once through the form and reuse the cookies in later contexts."""
    states: dict[str, StorageState] = {}

    def state_for(email: str) -> StorageState:
        if email not in states:
            context = browser.new_context()
            page = context.new_page()
            page.goto(browser_world.url("/login"))
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(browser_world.url("/"))
            states[email] = context.storage_state()
            context.close()
        return states[email]

    return state_for


class OpenPage(Protocol):
    def __call__(self, email: str | None = ..., path: str = ..., **options: Any) -> Page: ...


@pytest.fixture
def open_page(
    browser: Browser, browser_world: BrowserWorld, login_states: Callable[[str], StorageState]
) -> Iterator[OpenPage]:
    """Open ``path`` as ``email`` (None: logged out) in a fresh context in New York time; fails the
    test if the page throws a JavaScript error."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_(email: str | None = ANALYST, path: str = "/", **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("timezone_id", "America/New_York")
        options.setdefault("locale", "en-US")
        if email is not None:
            options["storage_state"] = login_states(email)
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(browser_world.url(path))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
