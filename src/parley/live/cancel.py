"""Ending background tasks at shutdown without waiting on them for ever."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterable

# Long enough for a task to close its connections; a shutdown that waits longer is stuck.
SHUTDOWN_WAIT_SECONDS = 10.0
_log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[object]], within: float = SHUTDOWN_WAIT_SECONDS
) -> None:
    """Cancel ``tasks`` and give them ``within`` seconds to end. One that is still running then
    (cleanup stuck on a network call, or a cancellation swallowed) is logged and left behind, so
    a server, or a test's app, always shuts down."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return
    _, stuck = await asyncio.wait(pending, timeout=within)
    for task in stuck:
        where = io.StringIO()
        task.print_stack(file=where)  # the await it is stuck in, for whoever reads the log
        _log.warning(
            "background task %s did not end within %g s of being cancelled\n%s",
            task.get_name(),
            within,
            where.getvalue().rstrip(),
        )
    for task in pending:
        if task.done() and not task.cancelled() and task.exception() is not None:
            _log.warning("background task %s failed as it ended", task.get_name(), exc_info=task.exception())
