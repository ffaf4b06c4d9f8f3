"""What the access log may say about a request: its method, route and status, never the values of
its query string.

Query values are personal data (``q`` is what an analyst searched for, ``user_id`` a caller's
phone number) and sometimes more (a cursor, a Twilio signature's ``bodySHA256``). uvicorn writes
the full target of every request; ``PrivateQuery`` rewrites it before any handler formats it:
``/core/conversations?q=…&user_id=…`` keeps which parameters were used, not what they held.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import parse_qsl

import uvicorn.config

REDACTED = "…"
# A parameter's name is logged only if it could be one of ours; anything else is a value too.
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def loggable_target(target: str) -> str:
    """``target`` (path and query, as uvicorn logs it) with every query value replaced by ``…``."""
    path, question, query = target.partition("?")
    if not question:
        return path
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return (
        path + "?" + "&".join(f"{name if _NAME.fullmatch(name) else REDACTED}={REDACTED}" for name in names)
    )


class PrivateQuery(logging.Filter):
    """On ``uvicorn.access``: its records' arguments are (client, method, target, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], loggable_target(args[2]), args[3], args[4])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``PrivateQuery`` on its access log handler. Given to
    ``uvicorn.run`` (it configures each worker process from it), not set up at import."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["private_query"] = {"()": PrivateQuery}
    config["handlers"]["access"]["filters"] = ["private_query"]
    return config
