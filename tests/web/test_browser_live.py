"""Live updates in Chromium: the Live page, the inbox's "N new" pill and in-place updates, the
detail page of a conversation in progress, and a dropped connection that resumes without a gap.

These tests change data as they go, so they run against a server of their own: ``parley serve``
in a child process over a small database (the shared browser world stays as other tests expect
it), which a test can stop and start again on the same port. Changes are made through the write
API with an ``ak_`` key, as an ingest service would make them.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, Request, StorageState, expect
from sqlalchemy import Engine, select

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.config import Settings
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from parley.ingest.records import Turn
from tests.conftest import CHEAP_PASSWORDS
from tests.factories import (
    PASSWORD,
    OrgFixture,
    add_member,
    conversation,
    insert_all,
    make_org,
    varied_conversations,
)
from tests.web.live import ANALYST, VIEWER, ServerProcess, write_tone

pytestmark = pytest.mark.browser

LIVE_STREAM = "/core/conversations/live"
FINISHED = {"completed", "transferred", "failed", "no_answer", "busy", "canceled", "voicemail"}


@dataclass
class LiveWorld:
    server: ServerProcess
    settings: Settings
    engine: Engine
    acme: OrgFixture
    stale_id: str  # an old conversation still in progress
    finished_id: str  # a completed one with a transcript
    tone: Path
    states: dict[str, StorageState] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.server.base_url + path

    def write(self, method: str, path: str, body: Any = None, **options: Any) -> dict[str, Any]:
        """A change through the write API of the running server."""
        headers = {"Authorization": f"Bearer {self.acme.tokens['manage']}", **options.pop("headers", {})}
        response = httpx.request(method, self.url(path), json=body, headers=headers, timeout=30, **options)
        assert response.status_code in (200, 201, 204), response.text
        return dict(response.json()) if response.content else {}

    def write_while_down(self, method: str, path: str, body: Any) -> None:
        """A change made while this server is down, by another app on the same database (as a
        second server process would make it)."""
        headers = {"Authorization": f"Bearer {self.acme.tokens['manage']}"}
        with TestClient(create_app(self.settings, self.engine)) as client:
            response = client.request(method, path, json=body, headers=headers)
        assert response.status_code in (200, 201), response.text

    def create(self, **body: Any) -> str:
        fields = {"channel": "telephone", "direction": "inbound", "status": "in_progress", **body}
        return str(self.write("POST", "/core/conversations", fields)["id"])

    def turns(self, conversation_id: str, *turns: tuple[int, str, str, bool]) -> None:
        body = {
            "turns": [
                {"seq": seq, "speaker": speaker, "text": text, "offset_ms": seq * 1500, "final": final}
                for seq, speaker, text, final in turns
            ]
        }
        self.write("POST", f"/core/conversations/{conversation_id}/turns", body)

    def status(self, conversation_id: str, status: str, **more: Any) -> None:
        self.write("PATCH", f"/core/conversations/{conversation_id}", {"status": status, **more})


@pytest.fixture(scope="module")
def live_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveWorld]:
    root = tmp_path_factory.mktemp("live")
    settings = Settings(
        database_url=f"sqlite:///{root / 'parley.db'}",
        secret_key="live-browser-tests",
        recordings_dir=root / "recordings",
        **CHEAP_PASSWORDS,
    )
    engine = build_engine(settings.database_url)
    upgrade(engine)
    acme = make_org(engine, "acme", agent_base=1000)
    rng = random.Random(5)
    stale = conversation(
        rng,
        varied_conversations(acme, 1)[0].created_at,
        acme.agent_ids[0],
        status="in_progress",
        caller_name="Stale Sam",
        duration_seconds=None,
        ended_at=None,
    )
    done = conversation(
        rng,
        stale.created_at,
        acme.agent_ids[1],
        caller_name="Finished Fay",
        turns=(Turn("agent", "All done, goodbye.", 0),),
    )
    # Finished conversations only, besides the stale one: the Live page starts nearly empty.
    older = [c for c in varied_conversations(acme, 40, seed=3) if c.status in FINISHED]
    insert_all(engine, acme, [stale, done, *older])
    everything = {Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}
    passwords = Passwords.from_settings(settings)
    add_member(engine, passwords, acme, ANALYST, Role.ANALYST, everything)
    add_member(engine, passwords, acme, VIEWER, Role.VIEWER, everything)
    tone = root / "tone.wav"
    write_tone(tone, seconds=1)
    server = ServerProcess(settings, root)
    server.start()
    try:
        yield LiveWorld(server, settings, engine, acme, str(stale.id), str(done.id), tone)
    finally:
        server.stop()
        engine.dispose()


OpenLive = Callable[..., Page]


@pytest.fixture
def open_live(browser: Browser, live_world: LiveWorld) -> Iterator[OpenLive]:
    """Open ``path`` logged in as ``email`` on the live world's server; fails the test on a
    JavaScript error. Each user logs in once, through the form."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def state_for(email: str) -> StorageState:
        if email not in live_world.states:
            context = browser.new_context()
            page = context.new_page()
            page.goto(live_world.url("/login"))
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(live_world.url("/"))
            live_world.states[email] = context.storage_state()
            context.close()
        return live_world.states[email]

    def open_(path: str | None = "/live", email: str = ANALYST, clock: bool = False, **options: Any) -> Page:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("timezone_id", "America/New_York")
        options.setdefault("locale", "en-US")
        context = browser.new_context(storage_state=state_for(email), **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        if clock:
            page.clock.install()  # timers the test can fast-forward; time still flows meanwhile
        if path is not None:
            page.goto(live_world.url(path))
        return page

    yield open_
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"


def streams(page: Page) -> list[Request]:
    """Every live stream the page opens, recorded from now on."""
    opened: list[Request] = []
    page.on(
        "request",
        lambda r: opened.append(r) if re.search(r"/core/conversations/(\d+/)?live", r.url) else None,
    )
    return opened


def item(page: Page, conversation_id: str) -> Any:
    return page.locator(f'#live-list .live-item[data-id="{conversation_id}"]')


def wait_live(page: Page) -> None:
    expect(page.locator("#stream-state")).to_have_attribute("data-state", "live")


def turn_texts(page: Page, container: str) -> list[tuple[str, str, bool]]:
    found: list[tuple[str, str, bool]] = page.eval_on_selector_all(
        f"{container} li.turn",
        "nodes => nodes.map(n => [n.dataset.seq, n.querySelector('.turn-text').textContent, n.classList.contains('turn-partial')])",
    )
    return [tuple(x) for x in found]  # type: ignore[misc]


# --- the Live page -------------------------------------------------------------------------------


def test_the_live_page_lists_conversations_in_progress_and_ticks(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    page = open_live()
    wait_live(page)
    expect(page.locator(".appbar-nav a[aria-current=page]")).to_have_text("Live")
    stale = item(page, live_world.stale_id)
    expect(stale).to_be_visible()
    expect(stale.locator(".live-title")).to_have_text("Stale Sam")
    expect(stale.locator(".elapsed")).to_have_text(re.compile(r"^\d+d \d\d:\d\d:\d\d$"))
    expect(item(page, live_world.finished_id)).to_have_count(0)  # finished: not live

    made = live_world.create(caller_name="Nora Newcall", status="ringing")
    new = item(page, made)
    expect(new).to_be_visible()
    assert page.locator("#live-list .live-item").first.get_attribute("data-id") == made  # newest first
    expect(new.locator(".pill")).to_have_text("Ringing")
    expect(new.locator(".live-sub")).to_have_text("No agent · Inbound · Phone Call")
    first = new.locator(".elapsed").inner_text()
    assert re.fullmatch(r"00:0\d", first)
    expect(new.locator(".elapsed")).not_to_have_text(first, timeout=3000)  # it ticks
    live_world.status(made, "canceled")


def test_a_status_changes_in_place_and_a_finished_one_fades_out(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    page = open_live(clock=True)
    wait_live(page)
    made = live_world.create(caller_name="Quinn Queue", status="queued")
    entry = item(page, made)
    expect(entry.locator(".pill")).to_have_text("Queued")
    node = entry.element_handle()
    count = int(page.locator("#live-count").inner_text())
    for status, label in (("ringing", "Ringing"), ("in_progress", "In Progress")):
        live_world.status(made, status)
        expect(entry.locator(".pill")).to_have_text(label)
    live_world.status(made, "completed", duration_seconds=95)
    expect(entry.locator(".pill")).to_have_text("Completed")
    expect(entry).to_have_class(re.compile(r"\bis-finished\b"))
    expect(entry.locator(".elapsed")).to_have_text("01:35")  # its final length, no longer ticking
    expect(page.locator("#live-count")).to_have_text(str(count - 1))
    assert node.evaluate("n => n.isConnected")  # the same element all along, changed in place
    page.clock.fast_forward(25_000)
    expect(entry).to_be_visible()
    expect(entry).not_to_have_class(re.compile(r"\bis-leaving\b"))
    page.clock.fast_forward(6_000)  # past 30 s: it fades out, then goes
    expect(entry).to_have_class(re.compile(r"\bis-leaving\b"))
    page.clock.fast_forward(1_500)
    expect(entry).to_have_count(0)


def test_filters_live_in_the_url_and_narrow_the_stream(open_live: OpenLive, live_world: LiveWorld) -> None:
    page = open_live("/live?channel=text")
    opened = streams(page)
    wait_live(page)
    expect(page.locator('#f-channel input[value="text"]')).to_be_checked()
    phone = live_world.create(caller_name="Phil Phone")
    text = live_world.create(channel="text", caller_name="Tina Text")
    expect(item(page, text)).to_be_visible()
    expect(item(page, phone)).to_have_count(0)  # its event came first: the stream left it out

    # Status is matched on the page (a filtered stream would never say a row left the view):
    # the stream restarts with the other filters only.
    page.locator("#f-status summary").click()
    with page.expect_request(lambda r: LIVE_STREAM in r.url) as restarted:
        page.locator('#f-status input[value="ringing"]').check()
    expect(page).to_have_url(live_world.url("/live?status=ringing&channel=text"))
    assert parse_qs(urlsplit(restarted.value.url).query) == {"channel": ["text"]}
    assert opened and all("status=" not in r.url for r in opened)
    page.keyboard.press("Escape")
    expect(item(page, text)).to_be_hidden()
    ringing = live_world.create(channel="text", caller_name="Rita Ring", status="ringing")
    expect(item(page, ringing)).to_be_visible()
    expect(page.locator("#live-count")).to_have_text("1")
    live_world.status(ringing, "in_progress")
    expect(item(page, ringing)).to_be_hidden()  # no longer what the view asks for
    expect(page.locator(".live-empty")).to_contain_text("No conversations in progress match these filters.")

    page.go_back()
    expect(page).to_have_url(live_world.url("/live?channel=text"))
    expect(item(page, ringing)).to_be_visible()
    page.get_by_role("button", name="Clear filters").first.click()
    expect(page).to_have_url(live_world.url("/live"))
    expect(item(page, phone)).to_be_visible()
    for made in (phone, text, ringing):
        live_world.status(made, "completed")


def test_selecting_one_follows_its_transcript_turn_by_turn(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    made = live_world.create(
        caller_name="Tess Transcript", agent_id=str(live_world.acme.agent_ids[0]), agent_version=2
    )
    live_world.turns(made, (0, "agent", "Hello, this is Billing.", True))
    page = open_live(viewport={"width": 1280, "height": 640})
    wait_live(page)
    item(page, made).click()
    expect(page).to_have_url(live_world.url(f"/live?conversation={made}"))
    expect(item(page, made).locator("button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#pane-title")).to_have_text("Tess Transcript")
    expect(page.locator("#pane-open")).to_have_attribute("href", f"/conversations/{made}")
    expect(page.locator("#pane-transcript .turn")).to_have_count(1)  # the turns so far, fetched

    live_world.turns(made, (1, "user", "I would like to chan", False))
    partial = page.locator('#pane-transcript .turn[data-seq="1"]')
    expect(partial).to_have_class(re.compile(r"\bturn-partial\b"))
    expect(partial.locator(".partial-tag")).to_have_text("transcribing…")
    expect(partial.locator(".speaker")).to_have_text("Tess Transcript")
    live_world.turns(made, (1, "user", "I would like to change my plan.", True))
    expect(partial.locator(".turn-text")).to_have_text("I would like to change my plan.")
    expect(partial).not_to_have_class(re.compile(r"\bturn-partial\b"))
    live_world.turns(made, (3, "agent", "Done.", True))
    live_world.turns(made, (2, "agent", "Which plan would you like?", True))  # late, but in its place
    expect(page.locator("#pane-transcript .turn")).to_have_count(4)
    assert [seq for seq, _, _ in turn_texts(page, "#pane-transcript")] == ["0", "1", "2", "3"]
    expect(page.locator('#pane-transcript .turn[data-seq="0"] .speaker')).to_have_text("Billing Assistant")

    # It scrolls as turns arrive, while the reader is at the end...
    live_world.turns(made, *((n, "agent", f"Line {n}. " * 12, True) for n in range(4, 24)))
    expect(page.locator("#pane-transcript .turn")).to_have_count(24)
    at_end = "el => el.scrollHeight - el.scrollTop - el.clientHeight < 4"
    page.wait_for_function(f"() => ({at_end})(document.getElementById('pane-scroller'))")
    # ...and leaves a reader who scrolled back up where they are.
    page.locator("#pane-scroller").evaluate("el => { el.scrollTop = 0; }")
    live_world.turns(made, (24, "user", "Thanks!", True))
    expect(page.locator("#pane-transcript .turn")).to_have_count(25)
    assert page.locator("#pane-scroller").evaluate("el => el.scrollTop") == 0

    page.reload()  # the selection is in the URL
    wait_live(page)
    expect(page.locator("#pane-title")).to_have_text("Tess Transcript")
    expect(page.locator("#pane-transcript .turn")).to_have_count(25)
    live_world.status(made, "completed", duration_seconds=61)
    expect(page.locator("#pane-status")).to_have_text("Completed")
    expect(page.locator("#pane-elapsed")).to_have_text("01:01")


def test_a_viewer_follows_statuses_but_sees_no_transcript(open_live: OpenLive, live_world: LiveWorld) -> None:
    made = live_world.create(caller_name="Secret Sue", user_id="+15550001111")
    page = open_live(email=VIEWER)
    wait_live(page)
    entry = item(page, made)
    expect(entry.locator(".live-title")).to_have_text("Phone Call")  # no caller details
    expect(entry.locator(".live-sub")).to_have_text("No agent · Inbound")
    entry.click()
    expect(page.locator("#pane-notice")).to_contain_text("Transcripts need access to sensitive fields")
    live_world.turns(made, (0, "user", "My card number is 4111", True))
    live_world.status(made, "completed")
    expect(page.locator("#pane-status")).to_have_text("Completed")
    expect(page.locator("#pane-transcript .turn")).to_have_count(0)
    assert "4111" not in page.content()


# --- the inbox -----------------------------------------------------------------------------------


def row_ids(page: Page) -> list[str]:
    ids: list[str] = page.eval_on_selector_all("#grid tbody tr", "rows => rows.map(r => r.dataset.id)")
    return ids


def test_new_conversations_wait_behind_a_pill_until_asked_for(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    page = open_live("/")
    expect(page.locator("#grid tbody tr").first).to_be_visible()
    wait_live(page)
    before = row_ids(page)
    first = page.locator("#grid tbody tr").first.element_handle()
    one = live_world.create(caller_name="Pill One")
    two = live_world.create(caller_name="Pill Two", status="ringing")
    pill = page.locator("#new-pill")
    expect(pill).to_have_text("2 new conversations")
    assert row_ids(page) == before  # nothing moved under the reader
    assert first.evaluate("row => row.isConnected")
    live_world.status(one, "in_progress")  # a change to one waiting behind the pill adds nothing
    page.wait_for_timeout(300)
    expect(pill).to_have_text("2 new conversations")

    pill.click()
    expect(pill).to_be_hidden()
    assert row_ids(page)[:3] == [two, one, before[0]]
    assert row_ids(page)[2:] == before  # the rows shown stay, the new ones go on top
    assert page.evaluate("document.activeElement.closest('tr').dataset.id") == two
    texts = page.locator(f'#grid tbody tr[data-id="{two}"] td').all_inner_texts()
    assert "Pill Two" in texts and "Ringing" in texts
    for made in (one, two):
        live_world.status(made, "completed")


def test_the_pill_counts_only_what_the_view_would_list(open_live: OpenLive, live_world: LiveWorld) -> None:
    page = open_live("/?status=completed&channel=email")
    expect(page.locator(".empty-state")).to_be_visible()  # none yet
    wait_live(page)
    phone = live_world.create(caller_name="Not Email")
    mail = live_world.create(channel="email", caller_name="Mail Mo")
    live_world.status(phone, "completed")
    page.wait_for_timeout(500)
    expect(page.locator("#new-pill")).to_be_hidden()  # an email in progress is not completed yet
    live_world.status(mail, "completed", duration_seconds=30)
    expect(page.locator("#new-pill")).to_have_text("1 new conversation")
    page.locator("#new-pill").click()
    expect(page.locator("#grid tbody tr")).to_have_count(1)
    assert row_ids(page) == [mail]


def test_rows_shown_update_their_status_and_duration_in_place(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    made = live_world.create(caller_name="Ivy Inplace")
    page = open_live("/")
    row = page.locator(f'#grid tbody tr[data-id="{made}"]')
    expect(row).to_be_visible()
    wait_live(page)
    handle = row.element_handle()
    count = page.locator("#grid tbody tr").count()
    status, duration, play = (row.locator("td").nth(n) for n in (7, 9, 1))
    expect(status).to_have_text("In Progress")
    expect(duration).to_have_text("-")
    live_world.status(made, "completed", duration_seconds=187, summary="Moved the visit to Thursday.")
    expect(status).to_have_text("Completed")
    expect(duration).to_have_text("3m 07s")
    expect(row.locator(".summary-line")).to_have_text("Moved the visit to Thursday.")
    expect(row).to_have_class(re.compile(r"\brow-updated\b"))
    expect(play).to_have_text("-")
    live_world.write(
        "PUT",
        f"/core/conversations/{made}/recording",
        content=live_world.tone.read_bytes(),
        headers={"Content-Type": "audio/wav"},
    )
    expect(play.get_by_role("button", name="Play recording")).to_be_visible()
    assert handle.evaluate("row => row.isConnected")  # the same row, its cells updated
    assert page.locator("#grid tbody tr").count() == count
    live_world.write("DELETE", f"/core/conversations/{made}")
    expect(row).to_have_class(re.compile(r"\bis-deleted\b"))
    expect(status).to_have_text("Deleted")


# --- the detail page -----------------------------------------------------------------------------


def test_the_detail_page_of_a_conversation_in_progress_is_live(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    made = live_world.create(caller_name="Dora Detail", status="ringing")
    live_world.turns(made, (0, "system", "Call connected.", True))
    page = open_live(None)
    opened = streams(page)
    page.goto(live_world.url(f"/conversations/{made}"))
    wait_live(page)
    expect(page.locator("#head-status")).to_have_text("Ringing")
    live_world.status(made, "in_progress", started_at="2026-12-01T10:00:00Z")
    expect(page.locator("#head-status")).to_have_text("In Progress")
    expect(page.locator("#meta-status")).to_have_text("In Progress")
    expect(page.locator("#meta-started time")).to_have_text(re.compile(r"^Dec 1, 2026, 5:00:00 AM EST$"))
    live_world.turns(made, (1, "agent", "Hello, how can", False))
    turn = page.locator('#transcript .turn[data-seq="1"]')
    expect(turn).to_have_class(re.compile(r"\bturn-partial\b"))
    expect(turn.locator(".speaker")).to_have_text("Agent")
    live_world.turns(made, (1, "agent", "Hello, how can I help?", True), (2, "user", "Hi!", True))
    expect(page.locator("#transcript .turn")).to_have_count(3)
    assert turn_texts(page, "#transcript") == [
        ("0", "Call connected.", False),
        ("1", "Hello, how can I help?", False),
        ("2", "Hi!", False),
    ]
    expect(page.locator('#transcript .turn[data-seq="2"] .speaker')).to_have_text("Dora Detail")
    live_world.status(made, "completed", duration_seconds=75, summary="Said hello.")
    expect(page.locator("#head-status")).to_have_text("Completed")
    expect(page.locator("#head-duration")).to_have_text("1m 15s")
    expect(page.locator("#meta-duration")).to_have_text("1m 15s")
    expect(page.locator("#summary-text")).to_have_text("Said hello.")
    live_world.write(
        "PUT",
        f"/core/conversations/{made}/recording",
        content=live_world.tone.read_bytes(),
        headers={"Content-Type": "audio/wav"},
    )
    audio = page.locator("#recordings audio")
    expect(audio).to_have_count(1)
    expect(page.locator("#recordings figcaption")).to_contain_text("1s · 16.0 KB · audio/wav")
    audio.evaluate("a => a.play()")
    page.wait_for_function("() => document.querySelector('#recordings audio').currentTime > 0.1")
    assert len(opened) == 1  # the one stream it opened on load carried all of it


def test_a_finished_conversations_detail_page_opens_no_stream(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    page = open_live(None)
    opened = streams(page)
    page.goto(live_world.url(f"/conversations/{live_world.finished_id}"))
    expect(page.locator("h1")).to_have_text("Phone Call with Finished Fay")
    page.wait_for_load_state("networkidle")
    assert opened == []
    expect(page.locator("#stream-state")).to_have_count(0)


# --- connections -----------------------------------------------------------------------------------


def test_each_page_holds_one_stream_at_most(open_live: OpenLive, live_world: LiveWorld) -> None:
    """Browsers open 6 HTTP/1.1 connections per origin: a page never takes two of them."""
    made = live_world.create(caller_name="Una Stream")
    pages = (
        (f"/live?conversation={made}", LIVE_STREAM),
        ("/", LIVE_STREAM),
        (f"/conversations/{made}", f"/core/conversations/{made}/live"),
    )
    for n, (path, expected) in enumerate(pages):
        page = open_live(None)
        opened = streams(page)
        page.goto(live_world.url(path))
        wait_live(page)
        live_world.turns(made, (n, "agent", f"Said while {path} was open.", True))
        page.wait_for_timeout(500)
        assert [urlsplit(r.url).path for r in opened] == [expected], path
        page.close()
    live_world.status(made, "completed")


def test_a_hidden_page_lets_its_stream_go_and_resumes_from_where_it_was(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    page = open_live(None, clock=True)
    opened = streams(page)
    page.goto(live_world.url("/"))
    expect(page.locator("#grid tbody tr").first).to_be_visible()
    wait_live(page)
    page.evaluate(
        """() => {
            Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    page.clock.fast_forward(11_000)
    expect(page.locator("#stream-state")).to_have_attribute("data-state", "paused")
    made = live_world.create(caller_name="While Hidden")  # nobody is listening
    page.wait_for_timeout(500)
    expect(page.locator("#new-pill")).to_be_hidden()
    page.evaluate(
        """() => {
            delete document.visibilityState;
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    wait_live(page)
    expect(page.locator("#new-pill")).to_have_text("1 new conversation")  # replayed, not lost
    assert len(opened) == 2
    resumed = parse_qs(urlsplit(opened[1].url).query)
    assert int(resumed["last_event_id"][0]) > 0
    live_world.status(made, "completed")


def last_seq(world: LiveWorld) -> int:
    with world.engine.connect() as conn:
        found = conn.execute(
            select(tables.event_counters.c.last_seq).where(tables.event_counters.c.org_id == world.acme.id)
        ).scalar_one()
    return int(found)


def test_a_dropped_connection_reconnects_and_resumes_without_a_gap(
    open_live: OpenLive, live_world: LiveWorld
) -> None:
    """The server stops with every page's stream open; while it is down the conversation goes
    on (another server writes); it comes back on the same port and each page resumes from the
    last event it had: every turn once, in order, the partial one replaced by its final version."""
    made = live_world.create(caller_name="Drop Dana")
    live_world.turns(made, (0, "agent", "Hello, Dana.", True), (1, "user", "I was calling abo", False))
    live = open_live(None)
    detail = open_live(None)
    inbox = open_live(None)
    opened = {name: streams(page) for name, page in (("live", live), ("detail", detail), ("inbox", inbox))}
    live.goto(live_world.url(f"/live?conversation={made}"))
    detail.goto(live_world.url(f"/conversations/{made}"))
    inbox.goto(live_world.url("/"))
    before = [("0", "Hello, Dana.", False), ("1", "I was calling abo", True)]
    for page, transcript in ((live, "#pane-transcript"), (detail, "#transcript")):
        wait_live(page)
        expect(page.locator(f"{transcript} .turn")).to_have_count(2)
        assert turn_texts(page, transcript) == before
    wait_live(inbox)
    seen = last_seq(live_world)

    live_world.server.stop()
    for page in (live, detail, inbox):
        expect(page.locator("#stream-state")).to_have_attribute("data-state", "reconnecting")
        expect(page.locator("#stream-state")).to_have_text("Reconnecting…")
    expect(live.locator("#stream-banner")).to_contain_text("Reconnecting…")
    expect(live.locator("main#live")).to_have_attribute("data-stream", "reconnecting")
    live_world.write_while_down(
        "POST",
        f"/core/conversations/{made}/turns",
        {
            "turns": [
                {"seq": 1, "speaker": "user", "text": "I was calling about my bill.", "final": True},
                {"seq": 2, "speaker": "agent", "text": "Let me look.", "final": True},
            ]
        },
    )
    live_world.write_while_down(
        "POST",
        "/core/conversations",
        {"channel": "text", "direction": "inbound", "caller_name": "Born While Down"},
    )
    live_world.write_while_down(
        "POST",
        f"/core/conversations/{made}/turns",
        {"turns": [{"seq": 3, "speaker": "user", "text": "Thanks.", "final": True}]},
    )

    live_world.server.start()
    after = [
        ("0", "Hello, Dana.", False),
        ("1", "I was calling about my bill.", False),
        ("2", "Let me look.", False),
        ("3", "Thanks.", False),
    ]
    for page, transcript in ((live, "#pane-transcript"), (detail, "#transcript")):
        expect(page.locator("#stream-state")).to_have_attribute("data-state", "live", timeout=30_000)
        expect(page.locator(f"{transcript} .turn")).to_have_count(4)
        assert turn_texts(page, transcript) == after
    expect(live.locator("#stream-banner")).to_be_hidden()
    expect(inbox.locator("#stream-state")).to_have_attribute("data-state", "live", timeout=30_000)
    expect(inbox.locator("#new-pill")).to_have_text("1 new conversation")
    # Each page came back with the position it had, not for a fresh snapshot.
    for name, requests in opened.items():
        positions = [parse_qs(urlsplit(r.url).query).get("last_event_id") for r in requests]
        assert positions[0] is None, name  # the first connection: a snapshot
        assert positions[-1] == [str(seen)], (name, positions)
        assert all(p == [str(seen)] for p in positions[1:]), (name, positions)

    live_world.turns(made, (4, "agent", "Anything else?", True))  # and it carries on from there
    for page, transcript in ((live, "#pane-transcript"), (detail, "#transcript")):
        expect(page.locator(f"{transcript} .turn")).to_have_count(5)
        assert [seq for seq, _, _ in turn_texts(page, transcript)] == ["0", "1", "2", "3", "4"]
    live_world.status(made, "completed")
