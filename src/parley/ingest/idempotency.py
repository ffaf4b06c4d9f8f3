"""Idempotency keys for writes (the IETF httpapi ``Idempotency-Key`` draft, as Stripe runs it).

A write that carries a key is claimed first, in a transaction of its own, so a concurrent retry
finds the claim and is answered 409. The write then records its answer in its own transaction,
so the change and the stored answer commit together: a retry with the same key and the same
request replays that answer and writes nothing. The same key with a different request is 422.
A client error (4xx) is stored like a success, so a retry of a bad request gets the same answer;
a server error releases the claim, so the retry runs again. A claim whose request died with its
process is taken over after ``STALE_CLAIM``. Keys are kept ``KEEP`` per org.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from parley.db import tables
from parley.db.engine import write_connection
from parley.errors import BadRequest, Conflict, Unprocessable

MAX_KEY_LENGTH = 255
KEEP = timedelta(hours=24)
STALE_CLAIM = timedelta(minutes=5)
_k = tables.idempotency_keys


@dataclass(frozen=True, slots=True)
class Stored:
    status_code: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters.",
            parameter="Idempotency-Key",
        )


def claim(engine: Engine, org_id: int, key: str, print_: str) -> Stored | None:
    """Claim ``key`` for a request with this fingerprint; returns the stored answer when the
    key's request already finished (replay it), None when this request may run."""
    check_key(key)
    moment = datetime.now(UTC)
    where = (_k.c.org_id == org_id, _k.c.key == key)
    with write_connection(engine, org_id) as connection:
        connection.execute(delete(_k).where(_k.c.org_id == org_id, _k.c.created_at < moment - KEEP))
        row = connection.execute(
            select(_k.c.fingerprint, _k.c.status_code, _k.c.response, _k.c.created_at).where(*where)
        ).first()
        if row is None:
            try:
                with connection.begin_nested():
                    connection.execute(
                        insert(_k).values(org_id=org_id, key=key, fingerprint=print_, created_at=moment)
                    )
            except IntegrityError:  # another request claimed it a moment ago
                raise _running() from None
            return None
        if row.fingerprint != print_:
            raise Unprocessable(
                "This Idempotency-Key was used for a different request; use a new key for a new request.",
                parameter="Idempotency-Key",
            )
        if row.status_code is not None:
            return Stored(int(row.status_code), str(row.response))
        if moment - row.created_at < STALE_CLAIM:
            raise _running()
        connection.execute(update(_k).where(*where).values(created_at=moment))  # the first one died
        return None


def _running() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry once it has finished.",
        parameter="Idempotency-Key",
        headers={"Retry-After": "1"},
    )


def record(connection: Connection, org_id: int, key: str, status_code: int, body: str) -> None:
    """Store the answer, in the write's own transaction."""
    connection.execute(
        update(_k)
        .where(_k.c.org_id == org_id, _k.c.key == key)
        .values(status_code=status_code, response=body)
    )


def release(engine: Engine, org_id: int, key: str) -> None:
    """Give the key up after a server error, so a retry runs the request again."""
    with write_connection(engine, org_id) as connection:
        connection.execute(
            delete(_k).where(_k.c.org_id == org_id, _k.c.key == key, _k.c.status_code.is_(None))
        )
