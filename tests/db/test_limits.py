"""The waits on the database a serving process gets from its settings."""

from __future__ import annotations

import pytest

from parley.config import Settings


@pytest.mark.parametrize(
    ("statement", "answer"),
    [(30.0, 35.0), (1.0, 2.0), (0.0, None)],  # 5 s past the limit, twice a short one, none for none
)
def test_the_answer_wait_follows_the_statement_limit(statement: float, answer: float | None) -> None:
    limits = Settings(db_statement_timeout_seconds=statement).database_limits()
    assert limits.statement_seconds == (statement or None)
    assert limits.answer_seconds == answer


def test_exports_are_not_cancelled_by_the_server_but_still_stop_waiting_on_a_silent_one() -> None:
    streams = Settings().database_limits().for_streams()
    assert streams.statement_seconds is None
    assert streams.answer_seconds == 35.0
