"""The table's columns in Chromium: the short columns are never cut, whatever the font and the
width; the free-text ones ellipsize; a search snippet always shows its first hit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.web.conftest import ANALYST, OpenPage
from tests.web.fonts import dejavu_only_env
from tests.web.live import CHROMIUM_ARGS, BrowserWorld, chromium_path

pytestmark = pytest.mark.browser

FIXED = ("number", "dir", "status", "duration", "date", "time", "type")
WIDTHS = (1280, 1440, 1920)

# Every cell of a fixed column, and everything inside it that clips, must hold its content. Agent
# numbers are fixed-format only as phone numbers: an email address there ellipsizes like free text.
CUT_CELLS = """(names) => {
    const cut = [];
    let checked = 0;
    const cells = [...document.querySelectorAll('#grid thead th, #grid tbody td')];
    for (const cell of cells) {
        const name = [...cell.classList].find((c) => c.startsWith('c-'))?.slice(2);
        if (!names.includes(name)) continue;
        if (name === 'number' && cell.tagName === 'TD' && !/^[+0-9 -]*$/.test(cell.textContent)) continue;
        checked += 1;
        for (const node of [cell, ...cell.querySelectorAll('*')]) {
            if (node instanceof SVGElement) continue;
            if (node !== cell && getComputedStyle(node).overflowX === 'visible') continue;
            if (node.scrollWidth > node.clientWidth) cut.push(`${name}: ${cell.textContent.trim()}`);
        }
    }
    return { checked, cut };
}"""


def cut_cells(page: Page) -> list[str]:
    found = page.evaluate(CUT_CELLS, list(FIXED))
    assert found["checked"] >= 7 * 50  # the fixed cells of the first page, headers and all
    cut: list[str] = found["cut"]
    return cut


# Whether text in ``a`` renders as in ``b`` (a missing family falls back to the next one).
SAME_FONT = """([a, b]) => {
    const canvas = document.createElement('canvas').getContext('2d');
    const width = (font) => { canvas.font = font; return canvas.measureText('Transferred 12:58 PM').width; };
    return width(a) === width(b);
}"""


def installed(page: Page, family: str) -> bool:
    return not all(
        page.evaluate(SAME_FONT, [f'13px "{family}", {generic}', f"13px {generic}"])
        for generic in ("monospace", "serif")
    )


SHOWN = """() => [...document.querySelectorAll('#grid tbody tr')].map((row) => ({
    status: row.querySelector('.c-status').textContent,
    duration: row.querySelector('.c-duration').textContent,
    dir: row.querySelector('.c-dir').textContent,
    type: row.querySelector('.c-type').textContent,
}))"""


@pytest.fixture(scope="module")
def dejavu_browser(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """A second Chromium that sees only the fonts CI has, as a Linux desktop with DejaVu alone."""
    env = dejavu_only_env(tmp_path_factory.mktemp("fonts"))
    other = browser.browser_type.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, env=env)
    yield other
    other.close()


def open_in(browser: Browser, world: BrowserWorld, state: StorageState, width: int, path: str = "/") -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        timezone_id="America/New_York",
        locale="en-US",
        storage_state=state,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(world.url(path))
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    return page


def settled(page: Page) -> None:
    """Two frames: a ResizeObserver's measurement lands in the first."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


# For each row that matched: whether its first hit lies inside both the summary cell and the
# snippet line, and whether the text before the hit had to be cut.
FIRST_HITS = """() => [...document.querySelectorAll('#grid tbody tr.has-match')].map((row) => {
    const cell = row.querySelector('.c-summary');
    const line = cell.querySelector('.snippet');
    const mark = line.querySelector('mark');
    const [c, l, m] = [cell, line, mark].map((e) => e.getBoundingClientRect());
    const lead = line.querySelector('.snippet-lead-box');
    return {
        id: row.dataset.id,
        inside: m.left >= Math.max(c.left, l.left) - 0.5 && m.right <= Math.min(c.right, l.right) + 0.5,
        trimmed: lead ? lead.scrollWidth > lead.clientWidth : false,
    };
})"""


def test_fixed_columns_hold_their_longest_values_with_the_fonts_ci_has(
    dejavu_browser: Browser, browser_world: BrowserWorld, login_states: Callable[[str], StorageState]
) -> None:
    for width in WIDTHS:
        page = open_in(dejavu_browser, browser_world, login_states(ANALYST), width)
        # The page's font stack ends in DejaVu Sans here, as on CI, whatever else is installed.
        assert not installed(page, "Liberation Sans")
        assert page.evaluate(SAME_FONT, ["13px Arial", '13px "DejaVu Sans"'])
        shown: list[dict[str, Any]] = page.evaluate(SHOWN)
        # The page holds the longest values the vocabulary has in this data.
        assert {"In Progress", "Transferred", "No Answer", "Voicemail"} <= {r["status"] for r in shown}
        assert {"1h 02m 05s"} <= {r["duration"] for r in shown}
        assert {"Outbound", "Inbound"} <= {r["dir"] for r in shown}
        assert {"Phone Call", "Web Chat", "Email", "Text"} <= {r["type"] for r in shown}
        assert cut_cells(page) == [], width
        # The table fits the window: nothing scrolls sideways from 1280 px up.
        scroller = page.locator("#scroller").evaluate("e => e.scrollWidth <= e.clientWidth")
        assert scroller, width
        # The free-text columns take the rest and ellipsize.
        summary = page.locator("#grid tbody .summary-line").first
        assert summary.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
        page.context.close()


def test_fixed_columns_fit_in_any_installed_font(open_page: OpenPage) -> None:
    page = open_page(viewport={"width": 1280, "height": 800})
    expect(page.locator("#grid tbody tr")).to_have_count(50)
    tried = []
    # DejaVu Sans is the page's own font on CI (the test above); these are wider, or other.
    for family in ("DejaVu Sans Mono", "DejaVu Serif", "Liberation Sans"):
        if not installed(page, family):
            continue  # not on this machine (CI has the DejaVu families alone)
        # A font change after load (a user stylesheet, zoom): the columns are measured again.
        page.evaluate("(f) => document.documentElement.style.setProperty('--font', `\"${f}\"`)", family)
        settled(page)
        assert cut_cells(page) == [], family
        tried.append(family)
    assert {"DejaVu Sans Mono", "DejaVu Serif"} <= set(tried)


def test_a_search_snippet_shows_its_first_hit_at_every_width(open_page: OpenPage) -> None:
    page = open_page(path="/?q=refund")
    expect(page.locator("#grid tbody tr.has-match").first).to_be_visible()
    for width in (1920, 1280, 1024, 700, 390):
        page.set_viewport_size({"width": width, "height": 800})
        settled(page)
        report: list[dict[str, Any]] = page.evaluate(FIRST_HITS)
        assert len(report) >= 40
        assert [r["id"] for r in report if not r["inside"]] == [], width
        if width <= 1280:
            # Narrow enough that the text before the hit had to give way: the case the rule is for.
            assert any(r["trimmed"] for r in report), width
