"""Bulk writes of conversations with everything that hangs off them, search documents included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, text

from parley.db import tables
from parley.ingest.records import NewConversation


def search_identifiers(conversation: NewConversation) -> str:
    """What the trigram index holds: every identifier a user may paste a fragment of."""
    parts = [str(conversation.id), conversation.user_id or "", conversation.agent_number or ""]
    parts.extend(p.address for p in conversation.participants)
    return " ".join(p for p in parts if p)


def transcript_text(conversation: NewConversation) -> str:
    return "\n".join(turn.text for turn in conversation.turns)


def insert_conversations(connection: Connection, org_id: int, batch: Sequence[NewConversation]) -> None:
    """Insert a batch in a handful of multi-row statements (executemany), inside the caller's transaction."""
    if not batch:
        return
    connection.execute(
        insert(tables.conversations),
        [
            {
                "org_id": org_id,
                "id": c.id,
                "created_at": c.created_at,
                "channel": c.channel,
                "direction": c.direction,
                "status": c.status,
                "agent_id": c.agent_id,
                "agent_version": c.agent_version,
                "user_id": c.user_id,
                "caller_name": c.caller_name,
                "agent_number": c.agent_number,
                "summary": c.summary,
                "duration_seconds": c.duration_seconds,
                "started_at": c.started_at,
                "ended_at": c.ended_at,
                "has_recording": bool(c.recordings),
                "participant_count": len(c.participants),
            }
            for c in batch
        ],
    )
    turns = [
        {
            "org_id": org_id,
            "conversation_id": c.id,
            "seq": seq,
            "speaker": t.speaker,
            "text": t.text,
            "offset_ms": t.offset_ms,
        }
        for c in batch
        for seq, t in enumerate(c.turns)
    ]
    if turns:
        connection.execute(insert(tables.transcript_turns), turns)
    people = [
        {"org_id": org_id, "conversation_id": c.id, "address": p.address, "role": p.role}
        for c in batch
        for p in c.participants
    ]
    if people:
        connection.execute(insert(tables.participants), people)
    recs = [
        {
            "org_id": org_id,
            "conversation_id": c.id,
            "seq": seq,
            "blob_key": r.blob_key,
            "content_type": r.content_type,
            "bytes": r.bytes,
            "duration_seconds": r.duration_seconds,
            "created_at": c.ended_at or c.created_at,
        }
        for c in batch
        for seq, r in enumerate(c.recordings)
    ]
    if recs:
        connection.execute(insert(tables.recordings), recs)
    _index_for_search(connection, org_id, batch)


def _index_for_search(connection: Connection, org_id: int, batch: Sequence[NewConversation]) -> None:
    documents: list[dict[str, Any]] = [
        {
            "org_id": org_id,
            "id": c.id,
            "summary": c.summary,
            "caller_name": c.caller_name,
            "transcript": transcript_text(c),
            "idents": search_identifiers(c),
        }
        for c in batch
    ]
    if connection.dialect.name == "sqlite":
        connection.execute(
            text(
                "INSERT INTO conversation_text (rowid, summary, caller_name, transcript) "
                "VALUES (:id, :summary, :caller_name, :transcript)"
            ),
            documents,
        )
        connection.execute(
            text("INSERT INTO conversation_idents (rowid, idents) VALUES (:id, :idents)"), documents
        )
        return
    connection.execute(
        text(
            "INSERT INTO conversation_text (org_id, conversation_id, summary, caller_name, transcript, idents) "
            "VALUES (:org_id, :id, :summary, :caller_name, :transcript, :idents)"
        ),
        documents,
    )
