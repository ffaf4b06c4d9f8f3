"""The background jobs this app runs, wired to their settings, and the worker the app's
lifespan starts (``PARLEY_WORKERS_ENABLED``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Engine

from parley.config import Settings
from parley.ingest import deliveries, jobs, summaries
from parley.ingest.jobs import Handler, Worker
from parley.recordings import fetch


def handlers(settings: Settings) -> dict[str, Handler]:
    return {
        fetch.KIND: partial(fetch.fetch_recording, settings.recordings_dir, settings.max_recording_bytes),
        deliveries.CLOSE_THREAD: deliveries.close_thread,
        summaries.KIND: partial(summaries.summarize, summaries.from_settings(settings)),
    }


@contextmanager
def background_worker(engine: Engine, settings: Settings) -> Iterator[Worker | None]:
    with jobs.running(engine, handlers(settings), settings.workers_enabled) as worker:
        yield worker
