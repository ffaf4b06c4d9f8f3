"""The write side: every way a conversation enters or changes (the native API, provider webhooks,
the simulator) ends in these functions. Each runs inside the caller's transaction and appends its
events there too, last, so the org's event counter is held for as short a time as possible.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from parley.conversations.enums import FINISHED_STATUSES, Status
from parley.conversations.ids import new_conversation_id, truncate_to_millis
from parley.db import tables
from parley.db.clock import now
from parley.errors import Conflict, NotFound, Unprocessable, UnsupportedMediaType
from parley.ingest import documents, jobs
from parley.ingest.events import EventKind, append_events
from parley.ingest.records import NewConversation
from parley.ingest.transitions import check_transition
from parley.ingest.writer import insert_conversations
from parley.recordings.upload import AUDIO_TYPES

c = tables.conversations
_RNG = random.SystemRandom()
# The job that writes a summary for a conversation that finished without one (ingest.summaries).
SUMMARIZE = "summarize"


@dataclass(frozen=True, slots=True)
class TurnChange:
    seq: int
    speaker: str
    text: str
    offset_ms: int
    final: bool


@dataclass(frozen=True, slots=True)
class Current:
    """What a write needs to know of the conversation it changes."""

    id: int
    status: Status


def _owned(connection: Connection, org_id: int, conversation_id: int) -> Current:
    """The org's conversation, locked for this transaction on PostgreSQL (a concurrent update of
    the same conversation waits, so status checks see the last committed status)."""
    statement = select(c.c.id, c.c.status).where(c.c.org_id == org_id, c.c.id == conversation_id)
    if connection.dialect.name == "postgresql":
        statement = statement.with_for_update()
    row = connection.execute(statement).first()
    if row is None:
        raise NotFound(f"There is no conversation {str(conversation_id)!r}.")
    return Current(row.id, Status(row.status))


def resolve_agent(
    connection: Connection, org_id: int, agent_id: int | None, version: int | None, external_id: str | None
) -> tuple[int | None, int | None]:
    """The agent (and version) a new conversation names, by id or by external id; unknown ones
    are refused."""
    a, v = tables.agents, tables.agent_versions
    if agent_id is None and external_id is None:
        if version is not None:
            raise Unprocessable(
                "agent_version needs agent_id or agent_external_id.", parameter="agent_version"
            )
        return None, None
    if agent_id is not None:
        found = connection.execute(select(a.c.id).where(a.c.org_id == org_id, a.c.id == agent_id)).scalar()
        parameter = "agent_id"
    else:
        found = connection.execute(
            select(a.c.id).where(a.c.org_id == org_id, a.c.external_id == external_id)
        ).scalar()
        parameter = "agent_external_id"
    if found is None:
        raise Unprocessable(
            f"There is no agent {agent_id or external_id!r} in this org.", parameter=parameter
        )
    if version is not None:
        known = connection.execute(
            select(v.c.version).where(v.c.org_id == org_id, v.c.agent_id == found, v.c.version == version)
        ).scalar()
        if known is None:
            raise Unprocessable(f"The agent has no version {version}.", parameter="agent_version")
    return int(found), version


def ensure_agent(connection: Connection, org_id: int, external_id: str, name: str | None) -> int:
    """The agent a provider knows as ``external_id``, created on first sight."""
    a = tables.agents
    found = connection.execute(
        select(a.c.id).where(a.c.org_id == org_id, a.c.external_id == external_id)
    ).scalar()
    if found is not None:
        return int(found)
    moment = now()
    agent_id = new_conversation_id(moment, _RNG)
    try:
        with connection.begin_nested():
            connection.execute(
                insert(a).values(
                    org_id=org_id,
                    id=agent_id,
                    name=(name or external_id)[:200],
                    created_at=moment,
                    external_id=external_id,
                )
            )
    except IntegrityError:  # a concurrent first sight made it a moment ago: use that one
        return int(
            connection.execute(
                select(a.c.id).where(a.c.org_id == org_id, a.c.external_id == external_id)
            ).scalar_one()
        )
    return agent_id


def find_by_external_id(connection: Connection, org_id: int, external_id: str) -> int | None:
    found = connection.execute(
        select(c.c.id).where(c.c.org_id == org_id, c.c.external_id == external_id)
    ).scalar()
    return int(found) if found is not None else None


def create_conversation(connection: Connection, org_id: int, draft: NewConversation) -> int:
    """Store a new conversation (``draft.id`` is ignored: a fresh one is made from its time)."""
    created_at = truncate_to_millis(draft.created_at)
    conversation = replace(draft, id=new_conversation_id(created_at, _RNG), created_at=created_at)
    if conversation.external_id is not None:
        existing = find_by_external_id(connection, org_id, conversation.external_id)
        if existing is not None:
            raise Conflict(
                f"Conversation {existing} already has the external_id {conversation.external_id!r}.",
                parameter="external_id",
            )
    try:
        with connection.begin_nested():
            insert_conversations(connection, org_id, [conversation])
    except IntegrityError:  # a concurrent writer took the external id between the check and here
        raise Conflict(
            f"Another conversation already has the external_id {conversation.external_id!r}.",
            parameter="external_id",
        ) from None
    body = {
        name: value
        for name, value in (
            ("channel", conversation.channel),
            ("direction", conversation.direction),
            ("status", conversation.status),
            ("created_at", created_at.isoformat()),
            ("user_id", conversation.user_id),
            ("caller_name", conversation.caller_name),
            ("agent_number", conversation.agent_number),
            ("summary", conversation.summary),
        )
        if value is not None
    }
    if Status(conversation.status) in FINISHED_STATUSES:
        _want_summary(connection, org_id, conversation.id)
    append_events(connection, org_id, now(), [(conversation.id, EventKind.CREATED, body)])
    return conversation.id


def _want_summary(connection: Connection, org_id: int, conversation_id: int) -> None:
    """Enqueue the summary job for a finished conversation that has no summary, unless one is
    already waiting: in the caller's transaction, so it exists exactly when the write commits."""
    summary = connection.execute(
        select(c.c.summary).where(c.c.org_id == org_id, c.c.id == conversation_id)
    ).scalar()
    if summary is not None and summary.strip():
        return
    if not jobs.pending(connection, org_id, SUMMARIZE, conversation_id):
        jobs.enqueue(connection, org_id, SUMMARIZE, conversation_id, {}, now())


def update_conversation(
    connection: Connection,
    org_id: int,
    conversation_id: int,
    changes: Mapping[str, Any],
    tags: Sequence[str] | None,
) -> None:
    """Apply a merge patch: ``changes`` maps column names (``status``, ``duration_seconds``,
    ``summary``, ``started_at``, ``ended_at``, ``ended_reason``, ``sentiment``, ``successful``:
    what ``api.write_schemas.ConversationPatch`` admits) to new values (None clears one);
    ``tags``, when given, replaces the tags. An illegal status move is a Conflict."""
    current = _owned(connection, org_id, conversation_id)
    events: list[tuple[int, EventKind, Mapping[str, Any]]] = []
    values = dict(changes)
    if "status" in values:
        new = Status(values["status"])
        check_transition(current.status, new)
        if new == current.status:
            del values["status"]
        else:
            events.append((conversation_id, EventKind.STATUS_CHANGED, {"status": new.value}))
    if values:
        connection.execute(update(c).where(c.c.org_id == org_id, c.c.id == conversation_id).values(**values))
        if "summary" in values:
            documents.refresh(connection, org_id, conversation_id)
    if tags is not None:
        g = tables.conversation_tags
        connection.execute(delete(g).where(g.c.org_id == org_id, g.c.conversation_id == conversation_id))
        if tags:
            connection.execute(
                insert(g),
                [{"org_id": org_id, "conversation_id": conversation_id, "tag": t} for t in sorted(set(tags))],
            )
    # A final status named again (a repeated PATCH, a provider's later delivery) asks again: the
    # job may have found no transcript the first time; a waiting one is not doubled.
    if "status" in changes and Status(changes["status"]) in FINISHED_STATUSES:
        _want_summary(connection, org_id, conversation_id)
    updated = {k: _event_value(v) for k, v in values.items() if k != "status"}
    if tags is not None:
        updated["tags"] = sorted(set(tags))
    if updated:
        events.append((conversation_id, EventKind.UPDATED, updated))
    append_events(connection, org_id, now(), events)


# Who and what a conversation is. PATCH cannot change these (a client states them at creation),
# but a provider's delivery may arrive knowing only the call id (a recording callback) and
# another that says the rest may come later: it sets them then.
IDENTITY = frozenset({"channel", "direction", "agent_id", "user_id", "agent_number", "caller_name"})


def set_identity(
    connection: Connection, org_id: int, conversation_id: int, values: Mapping[str, Any]
) -> bool:
    """Set the IDENTITY columns named in ``values`` where they differ; returns whether any did."""
    _owned(connection, org_id, conversation_id)
    names = sorted(values)
    row = connection.execute(
        select(*(c.c[name] for name in names)).where(c.c.org_id == org_id, c.c.id == conversation_id)
    ).one()
    changed = {name: values[name] for name in names if row._mapping[name] != values[name]}
    if not changed:
        return False
    connection.execute(update(c).where(c.c.org_id == org_id, c.c.id == conversation_id).values(**changed))
    if changed.keys() & {"user_id", "agent_number", "caller_name"}:
        documents.refresh(connection, org_id, conversation_id)
    body = {name: value for name, value in changed.items() if name != "agent_id"}
    if "agent_id" in changed:  # the field table's name for it
        body["agent"] = {"id": str(changed["agent_id"])} if changed["agent_id"] is not None else None
    append_events(connection, org_id, now(), [(conversation_id, EventKind.UPDATED, body)])
    return True


def _event_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def append_turns(
    connection: Connection, org_id: int, conversation_id: int, turns: Sequence[TurnChange]
) -> int:
    """Add or replace transcript turns by ``seq``: a new seq is added, a partial turn is replaced
    by a later version, a final one is never changed. Returns how many turns changed, so a
    retried or reordered delivery changes nothing twice."""
    current = _owned(connection, org_id, conversation_id)
    t = tables.transcript_turns
    seqs = sorted({turn.seq for turn in turns})
    stored = {
        row.seq: row
        for row in connection.execute(
            select(t.c.seq, t.c.speaker, t.c.text, t.c.offset_ms, t.c.final).where(
                t.c.org_id == org_id, t.c.conversation_id == conversation_id, t.c.seq.in_(seqs)
            )
        )
    }
    latest: dict[int, TurnChange] = {}
    for turn in turns:  # in the order given: a later version of a seq in the same batch wins
        before = latest.get(turn.seq) or stored.get(turn.seq)
        if before is not None and before.final:
            continue
        if before is not None and (before.speaker, before.text, before.offset_ms, before.final) == (
            turn.speaker,
            turn.text,
            turn.offset_ms,
            turn.final,
        ):
            continue
        latest[turn.seq] = turn
    if not latest:
        return 0
    replaced = [seq for seq in latest if seq in stored]
    if replaced:
        connection.execute(
            delete(t).where(
                t.c.org_id == org_id, t.c.conversation_id == conversation_id, t.c.seq.in_(replaced)
            )
        )
    connection.execute(
        insert(t),
        [
            {
                "org_id": org_id,
                "conversation_id": conversation_id,
                "seq": turn.seq,
                "speaker": turn.speaker,
                "text": turn.text,
                "offset_ms": turn.offset_ms,
                "final": turn.final,
            }
            for turn in latest.values()
        ],
    )
    documents.refresh(connection, org_id, conversation_id)
    body = {
        "transcript": [
            {"seq": x.seq, "speaker": x.speaker, "text": x.text, "offset_ms": x.offset_ms, "final": x.final}
            for x in sorted(latest.values(), key=lambda x: x.seq)
        ]
    }
    append_events(connection, org_id, now(), [(conversation_id, EventKind.TURNS, body)])
    # Providers often send the transcript after the end-of-call status (Retell's call_analyzed,
    # an email thread's late reply): a finished conversation still without a summary asks again.
    if current.status in FINISHED_STATUSES:
        _want_summary(connection, org_id, conversation_id)
    return len(latest)


def attach_recording(
    connection: Connection,
    org_id: int,
    conversation_id: int,
    blob_key: str,
    content_type: str,
    size: int,
    duration_seconds: int | None,
) -> str | None:
    """Make ``blob_key`` the conversation's recording; returns the blob it replaces, if any,
    for the caller to delete once this commits. Only the audio types Parley serves are stored:
    every writer (upload, provider fetch, a delivery's inline audio) has its type checked here."""
    if content_type not in AUDIO_TYPES:
        raise UnsupportedMediaType(
            f"{content_type!r} is not a recording type Parley takes: {', '.join(AUDIO_TYPES)}."
        )
    _owned(connection, org_id, conversation_id)
    r = tables.recordings
    where = (r.c.org_id == org_id, r.c.conversation_id == conversation_id, r.c.seq == 0)
    previous = connection.execute(select(r.c.blob_key).where(*where)).scalar()
    connection.execute(delete(r).where(*where))
    moment = now()
    connection.execute(
        insert(r).values(
            org_id=org_id,
            conversation_id=conversation_id,
            seq=0,
            blob_key=blob_key,
            content_type=content_type,
            bytes=size,
            duration_seconds=duration_seconds,
            created_at=moment,
        )
    )
    connection.execute(
        update(c).where(c.c.org_id == org_id, c.c.id == conversation_id).values(has_recording=True)
    )
    body = {
        "recordings": [{"content_type": content_type, "bytes": size, "duration_seconds": duration_seconds}]
    }
    append_events(connection, org_id, moment, [(conversation_id, EventKind.RECORDING_READY, body)])
    return str(previous) if previous is not None and previous != blob_key else None


def delete_conversation(connection: Connection, org_id: int, conversation_id: int) -> list[str]:
    """Forget a conversation: its row, turns, participants, tags, recordings and search
    documents. Returns the recording blobs, for the caller to delete once this commits."""
    _owned(connection, org_id, conversation_id)
    r = tables.recordings
    blobs = list(
        connection.execute(
            select(r.c.blob_key).where(r.c.org_id == org_id, r.c.conversation_id == conversation_id)
        ).scalars()
    )
    documents.remove(connection, org_id, conversation_id)
    connection.execute(delete(c).where(c.c.org_id == org_id, c.c.id == conversation_id))
    append_events(connection, org_id, now(), [(conversation_id, EventKind.DELETED, {})])
    return blobs
