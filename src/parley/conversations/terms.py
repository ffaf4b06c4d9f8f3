"""A search query (``q``), parsed once where the request arrives and carried from there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.errors import BadRequest

WORD = re.compile(r"\w+", re.UNICODE)
MIN_FRAGMENT = 3  # trigram indexes need three characters to narrow anything down


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """``text``: the query as given, trimmed; ``words``: what full-text search looks for;
    ``fragment``: the whole query, lowercased, for identifier substring search."""

    text: str
    words: tuple[str, ...]
    fragment: str | None

    @classmethod
    def parse(cls, q: str) -> SearchTerms:
        text = q.strip()
        if not text:
            raise BadRequest("q must not be empty.", parameter="q")
        words = tuple(w.lower() for w in WORD.findall(text))
        fragment = text.lower() if len(text) >= MIN_FRAGMENT else None
        if not words and fragment is None:
            raise BadRequest("q must contain at least one word or three characters.", parameter="q")
        return cls(text, words, fragment)
