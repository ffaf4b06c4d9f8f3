"""Background jobs: work taken off the request path (fetching a recording a provider links to,
closing a quiet text thread), kept in the ``jobs`` table and retried until it succeeds.

A pass claims the jobs that are due, each for a lease (its ``run_after`` moves past the lease,
so a worker that dies mid-job leaves it to be claimed again), runs them and records the end:
done jobs are deleted; a failure is retried with exponential back-off and its ``last_error``
kept; after ``MAX_ATTEMPTS``, or on a failure retrying cannot mend (``Permanent``), the job is
parked at ``GAVE_UP`` with its error, for an operator to look at. Several processes may run
passes at once: PostgreSQL hands each job to one of them (SKIP LOCKED), SQLite's write lock
serialises the claims.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from parley.conversations.ids import new_conversation_id
from parley.db import tables
from parley.db.engine import SYSTEM, write_connection

log = logging.getLogger(__name__)
_j = tables.jobs

LEASE = timedelta(minutes=10)
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=6)
MAX_ATTEMPTS = 10  # about 17 hours of retries at these delays
GAVE_UP = datetime(9999, 1, 1, tzinfo=UTC)  # run_after of a job no pass will claim again
POLL_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Job:
    org_id: int
    id: int
    kind: str
    conversation_id: int
    payload: dict[str, Any]
    attempts: int  # including this run


class Permanent(Exception):
    """A failure no retry can mend (the recording is larger than allowed)."""


# What a handler returns: None when the job is done, or a time to run it again (not a failure:
# a text thread still active is looked at again when it may have gone quiet).
Handler = Callable[[Engine, Job, datetime], datetime | None]


def enqueue(
    connection: Connection,
    org_id: int,
    kind: str,
    conversation_id: int,
    payload: Mapping[str, Any],
    run_after: datetime,
) -> int:
    moment = datetime.now(UTC)
    job_id = new_conversation_id(moment)  # time-ordered, random low bits: unique enough per org
    connection.execute(
        insert(_j).values(
            org_id=org_id,
            id=job_id,
            kind=kind,
            conversation_id=conversation_id,
            payload=orjson.dumps(dict(payload)).decode(),
            attempts=0,
            run_after=run_after,
            created_at=moment,
        )
    )
    return job_id


def pending(connection: Connection, org_id: int, kind: str, conversation_id: int) -> bool:
    """Whether a job of this kind for this conversation is still to run (given-up ones are not)."""
    found = connection.execute(
        select(func.count())
        .select_from(_j)
        .where(
            _j.c.org_id == org_id,
            _j.c.kind == kind,
            _j.c.conversation_id == conversation_id,
            _j.c.run_after < GAVE_UP,
        )
    ).scalar_one()
    return bool(found)


def backoff(attempts: int) -> timedelta:
    delay: timedelta = BASE_DELAY * 2 ** min(max(attempts - 1, 0), 20)
    return min(delay, MAX_DELAY)


def claim(engine: Engine, now: datetime, limit: int) -> list[Job]:
    with write_connection(engine, SYSTEM) as connection:  # jobs of every org
        statement = select(_j).where(_j.c.run_after <= now).order_by(_j.c.run_after).limit(limit)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        rows = connection.execute(statement).all()
        jobs = []
        for row in rows:
            connection.execute(
                update(_j)
                .where(_j.c.org_id == row.org_id, _j.c.id == row.id)
                .values(attempts=row.attempts + 1, run_after=now + LEASE)
            )
            jobs.append(
                Job(
                    row.org_id,
                    row.id,
                    row.kind,
                    row.conversation_id,
                    orjson.loads(row.payload),
                    row.attempts + 1,
                )
            )
    return jobs


def _finish(engine: Engine, job: Job, run_after: datetime | None, error: str | None, *, retry: bool) -> None:
    where = (_j.c.org_id == job.org_id, _j.c.id == job.id)
    with write_connection(engine, job.org_id) as connection:
        if run_after is None and error is None:
            connection.execute(delete(_j).where(*where))
        elif error is None:
            assert run_after is not None
            connection.execute(update(_j).where(*where).values(run_after=run_after, attempts=0))
        else:
            again = retry and job.attempts < MAX_ATTEMPTS
            connection.execute(
                update(_j)
                .where(*where)
                .values(run_after=run_after if again else GAVE_UP, last_error=error[:2000])
            )


def run_pending(
    engine: Engine, handlers: Mapping[str, Handler], now: datetime | None = None, limit: int = 20
) -> int:
    """One pass: run the jobs due at ``now``; returns how many ran."""
    now = now or datetime.now(UTC)
    jobs = claim(engine, now, limit)
    for job in jobs:
        handler = handlers.get(job.kind)
        if handler is None:
            _finish(engine, job, None, f"no handler for job kind {job.kind!r}", retry=False)
            continue
        try:
            again = handler(engine, job, now)
        except Permanent as exc:
            log.warning("job %s (%s) failed for good: %s", job.id, job.kind, exc)
            _finish(engine, job, None, str(exc), retry=False)
        except Exception as exc:  # retried: the next attempt may well succeed
            log.warning("job %s (%s) failed, attempt %s: %s", job.id, job.kind, job.attempts, exc)
            _finish(engine, job, now + backoff(job.attempts), f"{type(exc).__name__}: {exc}", retry=True)
        else:
            _finish(engine, job, again, None, retry=False)
    return len(jobs)


class Worker:
    """A thread running passes until stopped: started and stopped by the app's lifespan."""

    def __init__(
        self, engine: Engine, handlers: Mapping[str, Handler], poll_seconds: float = POLL_SECONDS
    ) -> None:
        self._engine = engine
        self._handlers = dict(handlers)
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="parley-jobs", daemon=True)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ran = run_pending(self._engine, self._handlers)
            except Exception:  # the database is away for a moment: try again next poll
                log.exception("background job pass failed")
                ran = 0
            if not ran:
                self._stop.wait(self._poll)


@contextmanager
def running(engine: Engine, handlers: Mapping[str, Handler], enabled: bool) -> Iterator[Worker | None]:
    if not enabled:
        yield None
        return
    worker = Worker(engine, handlers)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
