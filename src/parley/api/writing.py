"""The native write API's use cases, between the routes and the ingest functions, one each:
claim the request's idempotency key, make the change in one transaction, and answer what the
detail endpoint shows of the result.

Each returns an ``Answer`` (status and JSON bytes) that the route sends as it is, so a replayed
request gets byte for byte what the first one got.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine

from parley.api.write_schemas import ConversationCreate, ConversationPatch, TurnsIn
from parley.audit.rules import Audit
from parley.audit.trail import Action
from parley.conversations import queries
from parley.conversations.links import Links
from parley.conversations.policy import Access
from parley.conversations.service import present_detail
from parley.db.engine import write_connection
from parley.errors import NotFound
from parley.ingest import idempotency, service
from parley.ingest.records import NewConversation, Participant
from parley.ingest.service import TurnChange
from parley.recordings.upload import Received, delete_owned


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Idempotency:
    """The request's ``Idempotency-Key`` (None: none sent) and its fingerprint."""

    key: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class _Claim:
    """A request's hold on its key: ``held`` is the key when this request runs under it (None
    without one); ``stored``, the answer to replay instead when the key's request already ran."""

    org_id: int
    held: str | None = None
    stored: Answer | None = None

    def record(self, connection: Connection, answer: Answer) -> None:
        if self.held is not None:
            idempotency.record(connection, self.org_id, self.held, answer.status, answer.body.decode())


@contextmanager
def _claimed(engine: Engine, org_id: int, request: Idempotency) -> Iterator[_Claim]:
    """Claim the key (or replay what it stored); release it if the request then fails, so a
    retry runs again. A request without a key claims nothing."""
    if request.key is None:
        yield _Claim(org_id)
        return
    stored = idempotency.claim(engine, org_id, request.key, request.fingerprint)
    if stored is not None:
        yield _Claim(org_id, stored=Answer(stored.status_code, stored.body.encode()))
        return
    try:
        yield _Claim(org_id, held=request.key)
    except BaseException:
        idempotency.release(engine, org_id, request.key)
        raise


def _detail(connection: Connection, access: Access, conversation_id: int, links: Links) -> bytes:
    found = queries.get_conversation(connection, access.visible, conversation_id)
    if found is None:  # the write just made or kept it: only a concurrent delete gets here
        raise NotFound(f"There is no conversation {str(conversation_id)!r}.")
    return orjson.dumps(present_detail(connection, access, found, links))


def create(
    engine: Engine,
    access: Access,
    audit: Audit,
    links: Links,
    payload: ConversationCreate,
    request: Idempotency,
) -> Answer:
    with _claimed(engine, access.org_id, request) as claim:
        if claim.stored is not None:
            return claim.stored
        with write_connection(engine, access.org_id) as connection:
            agent_id, version = service.resolve_agent(
                connection,
                access.org_id,
                int(payload.agent_id) if payload.agent_id is not None else None,
                payload.agent_version,
                payload.agent_external_id,
            )
            draft = NewConversation(
                id=0,
                created_at=payload.created_at or datetime.now(UTC),
                channel=payload.channel,
                direction=payload.direction,
                status=payload.status,
                agent_id=agent_id,
                agent_version=version,
                user_id=payload.user_id,
                caller_name=payload.caller_name,
                agent_number=payload.agent_number,
                summary=payload.summary,
                duration_seconds=payload.duration_seconds,
                started_at=payload.started_at,
                ended_at=payload.ended_at,
                participants=tuple(Participant(p.address, p.role) for p in _unique(payload.participants)),
                external_id=payload.external_id,
                ended_reason=payload.ended_reason,
                sentiment=payload.sentiment,
                successful=payload.successful,
                tags=tuple(sorted(set(payload.tags or ()))),
            )
            conversation_id = service.create_conversation(connection, access.org_id, draft)
            audit.wrote(connection, Action.CREATE, conversation_id)
            answer = Answer(201, _detail(connection, access, conversation_id, links))
            claim.record(connection, answer)
        return answer


def _unique(participants: list[Any]) -> list[Any]:
    """One entry per address (the last role given wins): an address is in a thread once."""
    return list({p.address: p for p in participants}.values())


def patch(
    engine: Engine,
    access: Access,
    audit: Audit,
    links: Links,
    conversation_id: int,
    payload: ConversationPatch,
    request: Idempotency,
) -> Answer:
    given = payload.model_dump(exclude_unset=True)
    tags = given.pop("tags", None) if "tags" in given else None
    if "tags" in payload.model_fields_set and tags is None:
        tags = []  # null clears them
    with _claimed(engine, access.org_id, request) as claim:
        if claim.stored is not None:
            return claim.stored
        with write_connection(engine, access.org_id) as connection:
            service.update_conversation(connection, access.org_id, conversation_id, given, tags)
            audit.wrote(connection, Action.UPDATE, conversation_id)
            answer = Answer(200, _detail(connection, access, conversation_id, links))
            claim.record(connection, answer)
        return answer


def add_turns(
    engine: Engine,
    access: Access,
    audit: Audit,
    conversation_id: int,
    payload: TurnsIn,
    request: Idempotency,
) -> Answer:
    turns = [
        TurnChange(t.seq, "caller" if t.speaker == "user" else t.speaker, t.text, t.offset_ms, t.final)
        for t in payload.turns
    ]
    with _claimed(engine, access.org_id, request) as claim:
        if claim.stored is not None:
            return claim.stored
        with write_connection(engine, access.org_id) as connection:
            changed = service.append_turns(connection, access.org_id, conversation_id, turns)
            audit.wrote(connection, Action.TURNS, conversation_id, rows=len(turns))
            answer = Answer(200, orjson.dumps({"changed": changed}))
            claim.record(connection, answer)
        return answer


def remove(engine: Engine, access: Access, audit: Audit, conversation_id: int) -> list[str]:
    """Delete; returns the recording blobs to delete once it has committed."""
    with write_connection(engine, access.org_id) as connection:
        blobs = service.delete_conversation(connection, access.org_id, conversation_id)
        audit.wrote(connection, Action.DELETE, conversation_id)
        return blobs


def attach(
    engine: Engine,
    access: Access,
    audit: Audit,
    links: Links,
    conversation_id: int,
    received: Received,
    request: Idempotency,
    root: Path,
) -> Answer:
    """Make an uploaded file the conversation's recording. The file is removed again when the
    write fails or replays an earlier upload; the blob it replaces, once this has committed."""
    replaced: str | None = None
    try:
        with _claimed(engine, access.org_id, request) as claim:
            if claim.stored is not None:
                delete_owned(root, [received.blob_key])
                return claim.stored
            with write_connection(engine, access.org_id) as connection:
                replaced = service.attach_recording(
                    connection,
                    access.org_id,
                    conversation_id,
                    received.blob_key,
                    received.content_type,
                    received.size,
                    received.duration_seconds,
                )
                audit.wrote(connection, Action.UPLOAD, conversation_id)
                answer = Answer(200, _detail(connection, access, conversation_id, links))
                claim.record(connection, answer)
    except BaseException:
        delete_owned(root, [received.blob_key])
        raise
    if replaced is not None:
        delete_owned(root, [replaced])
    return answer
