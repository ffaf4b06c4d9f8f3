"""Recording the audit trail: the one module every audited path calls.

What is recorded, and how:

* Reads of sensitive data, logins and token events go through ``AuditTrail.record``: appended
  to an in-process buffer that a thread of its own writes in batches, every second or every
  ``batch`` entries, and once more at shutdown. A read never waits on a write transaction
  (on SQLite it would queue behind the single writer) and costs a lock and an append.
  What a crash loses is at most the last second of reads, none of them a change.
* Writes record their entry in the write's own transaction (``record_in``): the audit row and
  the change commit together, so every acknowledged write has its row and no rolled-back one does.

Entries name the credential by its public prefix or a session marker (``Principal.credential``),
never a secret. ``detail`` holds what was asked without sensitive values: a search's text only
for a principal with read_sensitive (the only ones allowed to search; it can name a person, so
``GET /core/audit`` shows it only to readers who may read sensitive data).

The table is append-only: nothing in Parley updates or deletes its rows, and on PostgreSQL a
trigger (migration 0005) refuses both.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from parley.auth.principal import Principal
from parley.db import tables
from parley.db.clock import now
from parley.db.engine import SYSTEM, write_connection

_log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
BATCH = 200
# While the database is unreachable the buffer keeps this many entries for the next flush;
# beyond it the oldest are dropped (and counted in the log) rather than growing without bound.
MAX_PENDING = 100_000
_MAX_TARGET = 200
_MAX_CLIENT = 64


class Action(StrEnum):
    READ = "conversation.read"  # a detail with its transcript
    RECORDING = "recording.play"
    EXPORT = "export"
    LIVE = "live.open"  # a live stream showing sensitive fields
    SEARCH = "search"
    LOGIN = "login"
    LOGIN_FAILED = "login.failed"
    LOGIN_THROTTLED = "login.throttled"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    CREATE = "conversation.create"
    UPDATE = "conversation.update"
    TURNS = "turns.write"
    UPLOAD = "recording.upload"
    DELETE = "conversation.delete"
    DELIVERY = "hook.delivery"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: in which org, as which user, with which credential, from which address."""

    org_id: int | None
    user_id: int | None = None
    credential: str | None = None
    client: str | None = None
    sensitive: bool = False

    @classmethod
    def of(cls, principal: Principal, client: str | None) -> Actor:
        return cls(principal.org_id, principal.user_id, principal.credential, client, principal.sensitive)


def entry(
    actor: Actor,
    action: Action,
    *,
    target: str | None = None,
    rows: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The row for one audited event, timed now."""
    return {
        "at": now(),
        "org_id": actor.org_id,
        "user_id": actor.user_id,
        "credential": actor.credential,
        "action": action.value,
        "target": target[:_MAX_TARGET] if target is not None else None,
        "rows": rows,
        "client": actor.client[:_MAX_CLIENT] if actor.client is not None else None,
        "detail": orjson.dumps(dict(detail)).decode() if detail else None,
    }


def search_detail(actor: Actor, q: str | None, parameters: Iterable[str]) -> dict[str, Any]:
    """What a list, export or stream records of its filters: their names, and a search's text
    only for a principal who may read sensitive data (see the module's docstring)."""
    detail: dict[str, Any] = {"filters": sorted(parameters)}
    if q is not None and actor.sensitive:
        detail["q"] = q
    return detail


def record_in(connection: Connection, *entries: dict[str, Any]) -> None:
    """Write entries in the caller's transaction: they commit or roll back with it."""
    if entries:
        connection.execute(insert(tables.audit_log), list(entries))


class AuditTrail:
    """The buffered writer of one app (``app.state.audit``): ``record`` appends, a thread
    flushes. ``enabled=False`` records nothing (only to measure what recording costs)."""

    def __init__(self, engine: Engine, *, enabled: bool = True, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._engine = engine
        self.enabled = enabled
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._dropped = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def record(
        self,
        actor: Actor,
        action: Action,
        *,
        target: str | None = None,
        rows: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        if not self.enabled:
            return
        row = entry(actor, action, target=target, rows=rows, detail=detail)
        with self._lock:
            self._pending.append(row)
            if len(self._pending) > MAX_PENDING:
                del self._pending[0]
                self._dropped += 1
            full = len(self._pending) >= BATCH
        if full:
            self._wake.set()

    def record_in(
        self,
        connection: Connection,
        actor: Actor,
        action: Action,
        *,
        target: str | None = None,
        rows: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record a write's entry in the write's own transaction."""
        if self.enabled:
            record_in(connection, entry(actor, action, target=target, rows=rows, detail=detail))

    def flush(self) -> int:
        """Write what is buffered now; returns how many entries were written. Entries that could
        not be written stay for the next flush."""
        with self._lock:
            pending, self._pending = self._pending, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            _log.error("audit: %d entries were dropped while the database could not take them", dropped)
        if not pending:
            return 0
        try:
            with write_connection(self._engine, SYSTEM) as connection:
                record_in(connection, *pending)
        except SQLAlchemyError as exc:
            _log.warning("audit: could not write %d entries, will retry: %s", len(pending), exc)
            with self._lock:
                self._pending[:0] = pending
            return 0
        return len(pending)

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="parley-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is left."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            self.flush()
