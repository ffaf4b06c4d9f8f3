"""Keeping the event log to its window: old events are pruned in the background."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from anyio import to_thread
from sqlalchemy import Engine

from parley.db.engine import SYSTEM, write_connection
from parley.live.log import prune

PRUNE_EVERY_SECONDS = 600.0
_log = logging.getLogger(__name__)


def prune_once(engine: Engine, retention: timedelta) -> int:
    with write_connection(engine, SYSTEM) as connection:  # every org's events
        return prune(connection, datetime.now(UTC) - retention)


async def prune_events(engine: Engine, retention: timedelta) -> None:
    """Every PRUNE_EVERY_SECONDS, for as long as the app runs; not at start-up, when a server's
    own setup (or a test's) is writing."""
    while True:
        await asyncio.sleep(PRUNE_EVERY_SECONDS)
        try:
            removed = await to_thread.run_sync(prune_once, engine, retention)
            if removed:
                _log.info("pruned %s live events older than %s", removed, retention)
        except Exception:  # the database may be away; the next round tries again
            _log.exception("could not prune live events")
