"""Writing a provider's delivery, in the transaction the caller holds: recorded first, so a
repeated delivery is ignored, then merged into the conversation the provider's call id names,
through ``parley.ingest.service``.

The merge makes the order deliveries arrive in not matter: statuses only move forward
(``is_forward``), so a late "started" cannot undo an end; a call first seen through a delivery
that does not say its status starts as ``queued``, the earliest listed one; started_at keeps the
earliest time heard, ended_at and the duration the latest; analysis fields are set by whichever
delivery carries them; turns go by seq, a final turn never replaced; who the call is with is set
by every delivery that says it. Any order of the same deliveries, repeats included, so ends in
the same conversation.

Texts (Twilio SMS) are threaded by the pair of numbers: a message joins the pair's latest
thread unless that thread has been quiet for ``THREAD_GAP``, when it starts a new one. A thread
is ``in_progress`` while open; a job closes it (``completed``) once the gap has passed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from parley.conversations.enums import FINISHED_STATUSES, Channel, Direction, Status
from parley.conversations.ids import truncate_to_millis
from parley.db import tables
from parley.db.engine import write_connection
from parley.errors import Conflict
from parley.ingest import jobs, service
from parley.ingest.jobs import Job
from parley.ingest.providers.common import CallDelivery, Delivery, Identity, MessageDelivery
from parley.ingest.records import NewConversation
from parley.ingest.service import TurnChange
from parley.ingest.transitions import is_forward
from parley.recordings import fetch

THREAD_GAP = timedelta(hours=24)
CLOSE_THREAD = "close_thread"
KEEP_DELIVERIES = timedelta(days=30)  # far longer than any provider retries for
MAX_KEY = 255  # hook_deliveries.delivery_key
c = tables.conversations
_d = tables.hook_deliveries


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"


@dataclass(frozen=True, slots=True)
class Applied:
    outcome: Outcome
    conversation_id: int | None = None
    obsolete_blob: str | None = None  # a recording the delivery replaced, to delete after commit


@dataclass(frozen=True, slots=True)
class Blob:
    """Audio a delivery carried, already written to the blob store."""

    key: str
    content_type: str
    size: int


def first_delivery(connection: Connection, org_id: int, provider: str, key: str, now: datetime) -> bool:
    """Record the delivery; False when it was recorded before (then nothing is to be written)."""
    if len(key) > MAX_KEY:  # a very long call id: its hash is as good a key
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    connection.execute(delete(_d).where(_d.c.org_id == org_id, _d.c.received_at < now - KEEP_DELIVERIES))
    try:
        with connection.begin_nested():
            connection.execute(
                insert(_d).values(org_id=org_id, provider=provider, delivery_key=key, received_at=now)
            )
    except IntegrityError:  # on PostgreSQL a concurrent twin waited for this one to commit
        return False
    return True


def apply(
    connection: Connection,
    org_id: int,
    provider: str,
    delivery: Delivery,
    now: datetime,
    blob: Blob | None = None,
) -> Applied:
    if not first_delivery(connection, org_id, provider, delivery.key, now):
        return Applied(Outcome.DUPLICATE)
    if isinstance(delivery, MessageDelivery):
        return Applied(Outcome.APPLIED, _apply_message(connection, org_id, delivery))
    return _apply_call(connection, org_id, delivery, now, blob)


def _identity_values(connection: Connection, org_id: int, identity: Identity) -> dict[str, Any]:
    """What the delivery says of who the call is with; unsaid parts are left as they are."""
    values: dict[str, Any] = {"channel": identity.channel.value, "direction": identity.direction.value}
    if identity.agent is not None:
        values["agent_id"] = service.ensure_agent(
            connection, org_id, identity.agent.external_id, identity.agent.name
        )
    for name in ("user_id", "agent_number", "caller_name"):
        if getattr(identity, name) is not None:
            values[name] = getattr(identity, name)
    return values


def _create(connection: Connection, org_id: int, d: CallDelivery, identity: Mapping[str, Any]) -> int | None:
    """The conversation for a call first heard of now; None if a concurrent delivery made it."""
    draft = NewConversation(
        id=0,
        created_at=d.created_at,
        channel=Channel(identity.get("channel", Channel.TELEPHONE)),
        direction=Direction(identity.get("direction", Direction.INBOUND)),
        status=d.status or Status.QUEUED,
        agent_id=identity.get("agent_id"),
        user_id=identity.get("user_id"),
        caller_name=identity.get("caller_name"),
        agent_number=identity.get("agent_number"),
        summary=d.summary,
        duration_seconds=d.duration_seconds,
        started_at=d.started_at,
        ended_at=d.ended_at,
        external_id=d.external_id,
        ended_reason=d.ended_reason,
        sentiment=d.sentiment.value if d.sentiment else None,
        successful=d.successful,
        tags=d.tags or (),
    )
    try:
        return service.create_conversation(connection, org_id, draft)
    except Conflict:
        return None


def _merge(connection: Connection, org_id: int, conversation_id: int, d: CallDelivery) -> None:
    row = connection.execute(
        select(
            c.c.status,
            c.c.started_at,
            c.c.ended_at,
            c.c.duration_seconds,
            c.c.summary,
            c.c.ended_reason,
            c.c.sentiment,
            c.c.successful,
        ).where(c.c.org_id == org_id, c.c.id == conversation_id)
    ).one()
    changes: dict[str, Any] = {}
    if d.status is not None and d.status != row.status and is_forward(Status(row.status), d.status):
        changes["status"] = d.status.value
    times: tuple[tuple[str, Any, Any], ...] = (
        ("started_at", d.started_at, min),
        ("ended_at", d.ended_at, max),
        ("duration_seconds", d.duration_seconds, max),
    )
    for name, value, keep in times:
        if value is not None:
            old = getattr(row, name)
            new = value if old is None else keep(old, value)
            if new != old:
                changes[name] = new
    sentiment = d.sentiment.value if d.sentiment else None
    analysis: tuple[tuple[str, Any], ...] = (
        ("summary", d.summary),
        ("ended_reason", d.ended_reason),
        ("sentiment", sentiment),
        ("successful", d.successful),
    )
    for name, value in analysis:
        if value is not None and value != getattr(row, name):
            changes[name] = value
    tags = None
    if d.tags is not None:
        g = tables.conversation_tags
        stored = connection.execute(
            select(g.c.tag).where(g.c.org_id == org_id, g.c.conversation_id == conversation_id)
        ).scalars()
        tags = list(d.tags) if set(stored) != set(d.tags) else None
    if changes or tags is not None:
        service.update_conversation(connection, org_id, conversation_id, changes, tags)


def _apply_call(
    connection: Connection, org_id: int, d: CallDelivery, now: datetime, blob: Blob | None
) -> Applied:
    identity = _identity_values(connection, org_id, d.identity) if d.identity else {}
    conversation_id = service.find_by_external_id(connection, org_id, d.external_id)
    if conversation_id is None:
        conversation_id = _create(connection, org_id, d, identity)
        created = conversation_id is not None
        conversation_id = conversation_id or service.find_by_external_id(connection, org_id, d.external_id)
        assert conversation_id is not None, "a conflicting conversation vanished"
    else:
        created = False
    if not created:
        if identity:
            service.set_identity(connection, org_id, conversation_id, identity)
        _merge(connection, org_id, conversation_id, d)
    if d.turns:
        service.append_turns(connection, org_id, conversation_id, d.turns)
    obsolete = None
    if blob is not None:
        obsolete = service.attach_recording(
            connection, org_id, conversation_id, blob.key, blob.content_type, blob.size, d.duration_seconds
        )
    elif d.recording is not None and _wants_recording(connection, org_id, conversation_id):
        payload = {"url": d.recording.url, "duration_seconds": d.recording.duration_seconds}
        jobs.enqueue(connection, org_id, fetch.KIND, conversation_id, payload, now)
    return Applied(Outcome.APPLIED, conversation_id, obsolete)


def _wants_recording(connection: Connection, org_id: int, conversation_id: int) -> bool:
    """No recording yet and none being fetched (call_ended and call_analyzed both link it)."""
    has = connection.execute(
        select(c.c.has_recording).where(c.c.org_id == org_id, c.c.id == conversation_id)
    ).scalar_one()
    return not has and not jobs.pending(connection, org_id, fetch.KIND, conversation_id)


def _lock_pair(connection: Connection, org_id: int, party: str, own: str) -> None:
    """On PostgreSQL, two first messages of a pair at once would each start a thread; the pair's
    advisory lock makes the second wait (SQLite's write lock already does)."""
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"{org_id}\0{party}\0{own}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _apply_message(connection: Connection, org_id: int, d: MessageDelivery) -> int:
    _lock_pair(connection, org_id, d.party, d.own_number)
    at = truncate_to_millis(d.at)
    thread = connection.execute(
        select(c.c.id, c.c.status, c.c.created_at, c.c.ended_at)
        .where(c.c.org_id == org_id, c.c.user_id == d.party, c.c.channel == Channel.TEXT.value)
        .where(c.c.agent_number == d.own_number)
        .order_by(c.c.created_at.desc(), c.c.id.desc())
        .limit(1)
    ).first()
    last = (thread.ended_at or thread.created_at) if thread is not None else None
    if thread is None or last is None or at - last >= THREAD_GAP:
        if thread is not None and Status(thread.status) not in FINISHED_STATUSES:
            service.update_conversation(
                connection, org_id, thread.id, {"status": Status.COMPLETED.value}, None
            )
        draft = NewConversation(
            id=0,
            created_at=at,
            channel=Channel.TEXT,
            direction=d.direction,
            status=Status.IN_PROGRESS,
            user_id=d.party,
            agent_number=d.own_number,
            started_at=at,
            ended_at=at,
            external_id=d.message_id,  # the thread is known by its first message
        )
        conversation_id = service.create_conversation(connection, org_id, draft)
        jobs.enqueue(connection, org_id, CLOSE_THREAD, conversation_id, {}, at + THREAD_GAP)
        started, seq = at, 0
    else:
        conversation_id, started = thread.id, thread.created_at
        if at > last:
            service.update_conversation(connection, org_id, conversation_id, {"ended_at": at}, None)
        t = tables.transcript_turns
        seq = connection.execute(
            select(func.coalesce(func.max(t.c.seq) + 1, 0)).where(
                t.c.org_id == org_id, t.c.conversation_id == conversation_id
            )
        ).scalar_one()
    speaker = "caller" if d.direction is Direction.INBOUND else "agent"
    offset = max(0, int((at - started).total_seconds() * 1000))
    service.append_turns(
        connection, org_id, conversation_id, [TurnChange(seq, speaker, d.text, offset, True)]
    )
    return conversation_id


def close_thread(engine: Engine, job: Job, now: datetime) -> datetime | None:
    """The job: close a text thread once it has been quiet for THREAD_GAP, or look again then."""
    with write_connection(engine, job.org_id) as connection:
        row = connection.execute(
            select(c.c.status, c.c.created_at, c.c.ended_at).where(
                c.c.org_id == job.org_id, c.c.id == job.conversation_id
            )
        ).first()
        if row is None or Status(row.status) in FINISHED_STATUSES:
            return None
        quiet_from: datetime = (row.ended_at or row.created_at) + THREAD_GAP
        if quiet_from > now:
            return quiet_from
        service.update_conversation(
            connection, job.org_id, job.conversation_id, {"status": Status.COMPLETED.value}, None
        )
    return None
