"""Summaries Parley writes itself: a conversation that reaches a final status without a summary
gets a ``summarize`` job (``service.update_conversation`` and ``create_conversation`` enqueue it in
the write's own transaction), and the job writes one from the transcript.

The summarizer is pluggable. The default, ``ExtractiveSummarizer``, needs no network or model: it
picks the transcript's most informative sentences. With ``PARLEY_SUMMARY_URL`` set, an
OpenAI-compatible chat completions endpoint writes it instead. Either way the summary is written
through ``service.update_conversation`` (so the event log and search documents follow as for any
change), and only while the conversation still has none: a provider's own summary that arrived in
between wins. A failure (the endpoint is down, answers 500) is retried by the job runner with its
back-off; the conversation itself is never held up or changed by one.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import httpx2 as httpx
from sqlalchemy import Engine, select

from parley.config import Settings
from parley.db import tables
from parley.db.engine import read_connection, write_connection
from parley.ingest import service
from parley.ingest.jobs import Job

KIND = service.SUMMARIZE
Turn = tuple[str, str]  # (speaker, text)

MAX_CHARS = 300
MAX_SENTENCES = 3
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_TRANSCRIPT_CHARS = 20_000  # what is sent to a model: the start of a very long transcript
MAX_SUMMARY_CHARS = 2_000  # what is kept of a model's answer
SYSTEM_PROMPT = (
    "You summarize customer conversations for a support inbox. Reply with a summary of two or three "
    "plain sentences: why the person got in touch, what was done, and how it ended. No preamble."
)


class Summarizer(Protocol):
    def summarize(self, turns: Sequence[Turn]) -> str:
        """The summary of a transcript; empty when there is nothing to summarize."""
        ...


# Words that say little about what a conversation was about, whatever it was.
_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further get got had hadn't has hasn't have haven't having he
    he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in
    into is isn't it it's its itself just let's like me more most mustn't my myself no nor not now of
    off on once only or other ought our ours ourselves out over own please same shan't she she'd
    she'll she's should shouldn't so some such than thank thanks that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've this those through to
    too under until up very was wasn't we we'd we'll we're we've well were weren't what what's when
    when's where where's which while who who's whom why why's will with won't would wouldn't yes yeah
    you you'd you'll you're you've your yours yourself yourselves okay ok oh um uh hi hello bye
    goodbye sure right great one two see need want know go going able today help day
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _sentences(turns: Sequence[Turn]) -> list[str]:
    found = []
    for _speaker, text in turns:
        for piece in _SENTENCE_END.split(" ".join(text.split())):
            if piece:
                found.append(piece)
    return found


def _content_words(sentence: str) -> list[str]:
    return [w for w in _WORD.findall(sentence.lower()) if w not in STOP_WORDS and len(w) > 1]


def _shorten(sentence: str, limit: int) -> str:
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:- ")
    return f"{cut}…"


class ExtractiveSummarizer:
    """The few most informative sentences of the transcript, in the order they were said, within
    MAX_CHARS. A sentence's score is the transcript-wide frequency of its content words (stop words
    dropped), damped by its length so long sentences do not win on size alone. Deterministic."""

    def __init__(self, max_chars: int = MAX_CHARS, max_sentences: int = MAX_SENTENCES) -> None:
        self.max_chars = max_chars
        self.max_sentences = max_sentences

    def summarize(self, turns: Sequence[Turn]) -> str:
        sentences = _sentences(turns)
        words = [_content_words(s) for s in sentences]
        frequency = Counter(w for sentence in words for w in sentence)
        if not frequency:
            return ""
        # Greetings and one-word answers say nothing: a sentence needs a few content words,
        # unless none has.
        least = min(3, max(len(w) for w in words))
        scored = [
            (sum(frequency[w] for w in set(ws)) / math.sqrt(len(ws)), -index)
            for index, ws in enumerate(words)
            if len(ws) >= least
        ]
        chosen: list[int] = []
        used = 0
        for _score, negative_index in sorted(scored, reverse=True):
            index = -negative_index
            sentence = sentences[index]
            extra = len(sentence) + (1 if chosen else 0)
            if not chosen and len(sentence) > self.max_chars:
                return _shorten(sentence, self.max_chars)
            if used + extra > self.max_chars:
                continue
            chosen.append(index)
            used += extra
            if len(chosen) == self.max_sentences:
                break
        return " ".join(sentences[i] for i in sorted(chosen))


class OpenAICompatibleSummarizer:
    """A chat completions endpoint (OpenAI's, or a local server speaking its API) writes the
    summary. A non-2xx answer or a malformed one raises, so the job is retried."""

    def __init__(self, url: str, model: str, api_key: str | None = None, timeout: httpx.Timeout = TIMEOUT):
        self.endpoint = f"{url.rstrip('/')}/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout

    def summarize(self, turns: Sequence[Turn]) -> str:
        transcript = "\n".join(f"{speaker}: {text}" for speaker, text in turns if text.strip())
        if not transcript:
            return ""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": transcript[:MAX_TRANSCRIPT_CHARS]},
            ],
            "temperature": 0,
        }
        with httpx.Client(timeout=self.timeout) as client:
            response = client.post(self.endpoint, json=body, headers=headers)
        if not response.is_success:
            raise SummaryFailed(f"the summary endpoint answered HTTP {response.status_code}")
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise SummaryFailed("the summary endpoint's answer has no choices[0].message.content") from None
        if not isinstance(content, str):
            raise SummaryFailed("the summary endpoint's message content is not text")
        return " ".join(content.split())[:MAX_SUMMARY_CHARS]


class SummaryFailed(Exception):
    """The summarizer could not write a summary this time: the job is retried."""


def from_settings(settings: Settings) -> Summarizer:
    if settings.summary_url:
        return OpenAICompatibleSummarizer(
            settings.summary_url, settings.summary_model, settings.summary_api_key
        )
    return ExtractiveSummarizer()


def _has_summary(value: str | None) -> bool:
    return value is not None and bool(value.strip())


def summarize(summarizer: Summarizer, engine: Engine, job: Job, _now: datetime) -> datetime | None:
    """The job: summarize the transcript and write it, unless the conversation has a summary by
    then or is gone. The summarizer runs outside any transaction: a slow endpoint holds no lock."""
    c, t = tables.conversations, tables.transcript_turns
    where = (c.c.org_id == job.org_id, c.c.id == job.conversation_id)
    with read_connection(engine, job.org_id) as connection:
        summary = connection.execute(select(c.c.summary).where(*where)).first()
        if summary is None or _has_summary(summary.summary):
            return None
        turns = [
            (row.speaker, row.text)
            for row in connection.execute(
                select(t.c.speaker, t.c.text)
                .where(t.c.org_id == job.org_id, t.c.conversation_id == job.conversation_id)
                .order_by(t.c.seq)
            )
        ]
    if not any(text.strip() for _speaker, text in turns):
        return None  # nothing was said: no summary
    written = summarizer.summarize(turns).strip()
    if not written:
        return None
    with write_connection(engine, job.org_id) as connection:
        statement = select(c.c.summary).where(*where)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()  # a concurrent write of a summary waits, or we do
        now_row = connection.execute(statement).first()
        if now_row is None or _has_summary(now_row.summary):
            return None
        service.update_conversation(connection, job.org_id, job.conversation_id, {"summary": written}, None)
    return None
