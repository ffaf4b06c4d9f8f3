"""The access log keeps a request's route and parameter names, never the values."""

from __future__ import annotations

import logging

import pytest

from parley.access_log import PrivateQuery, loggable_target


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/core/conversations", "/core/conversations"),
        ("/core/conversations?q=alice+smith&user_id=%2B1555", "/core/conversations?q=…&user_id=…"),
        ("/core/conversations?agent_id=1&agent_id=2", "/core/conversations?agent_id=…&agent_id=…"),
        ("/x?alice%40example.com=1", "/x?…=…"),  # a name that is no parameter of ours is a value too
        ("/x?", "/x?"),
        ("/hooks/twilio/7?bodySHA256=abc", "/hooks/twilio/7?bodySHA256=…"),
    ],
)
def test_query_values_are_dropped(target: str, logged: str) -> None:
    assert loggable_target(target) == logged


def test_the_filter_rewrites_uvicorns_access_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/core/conversations?q=secret", "1.1", 200), None,
    )  # fmt: skip
    assert PrivateQuery().filter(record)
    assert record.getMessage() == '127.0.0.1:5 - "GET /core/conversations?q=… HTTP/1.1" 200'
