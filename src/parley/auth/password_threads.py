"""Password hashing on a few threads of its own, so argon2 never holds a thread requests need.

Argon2 spends its time (tens to hundreds of milliseconds a hash) in C with the interpreter lock
released. On the requests' pool (``PARLEY_THREADS``: two on SQLite) a handful of clients posting
wrong passwords kept both threads busy and every query queued behind them; here a flood of logins
only queues behind other logins.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class PasswordThreads:
    """Owned by one app. The threads start with the first hash and stop at ``close`` (the app's
    shutdown); a later hash starts them again, so an app can be served more than once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on one of these threads, awaited without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="parley-passwords")
            return self._executor
