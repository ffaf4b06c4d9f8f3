"""Running a producer a few items ahead of its consumer, on a thread of its own."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

_POLL_SECONDS = 0.1


class _Done:
    pass


def read_ahead(items: Generator[T, None, None], depth: int, name: str) -> Generator[T, None, None]:
    """``items``, produced by a thread of their own up to ``depth`` items ahead of the reader.

    For work that releases the GIL while it produces (a database writing CSV lines), so
    producing the next items overlaps with consuming the last ones. An error in the producer is
    raised to the reader; when the reader stops early (closes this iterator), the producer stops
    at its next item and ``items`` is closed on its own thread, releasing what it holds."""
    ready: queue.Queue[T | BaseException | _Done] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: T | BaseException | _Done) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_Done())
        except BaseException as exc:  # handed to the reader, which raises it
            offer(exc)
        finally:
            items.close()

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
    try:
        while True:
            item = ready.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        producer.join()
