"""What the routes call: one function per read, combining the policy, the queries and the cursor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from parley.auth.principal import Principal
from parley.conversations import queries
from parley.conversations.cursor import decode_cursor, encode_cursor
from parley.conversations.filters import ConversationFilters
from parley.conversations.ids import parse_conversation_id
from parley.conversations.links import Links
from parley.conversations.policy import Access, Source, View, authorize_read
from parley.conversations.rows import DetailRow
from parley.conversations.snippets import Snippet, page_snippets
from parley.db import AnyRow
from parley.errors import NotFound


def list_page(
    connection: Connection,
    principal: Principal,
    filters: ConversationFilters,
    cursor: str | None,
    limit: int,
    links: Links,
    secret_key: str,
) -> dict[str, Any]:
    access = authorize_read(principal, filters)
    fingerprint = filters.fingerprint()
    after = decode_cursor(secret_key, cursor, access.org_id, fingerprint) if cursor else None
    page = queries.list_conversations(connection, access.visible, filters, after, limit)
    participants: dict[int, list[AnyRow]] = {}
    snippets: dict[int, Snippet] = {}
    if access.shows("participants"):
        with_people = [row.id for row in page.rows if row.participant_count]
        participants = queries.participants_by_conversation(connection, access.visible, with_people)
    if filters.q is not None and access.shows("match"):
        snippets = page_snippets(connection, access.visible, filters.q, page.rows, participants)
    console = links.console
    return {
        "data": [
            access.present(Source(row, links, console, participants.get(row.id, ()), snippets.get(row.id)))
            for row in page.rows
        ],
        "next_cursor": (
            encode_cursor(secret_key, access.org_id, fingerprint, page.next_position)
            if page.next_position is not None
            else None
        ),
    }


COUNT_CAP = 10_000  # counted exactly up to here; beyond, the answer is "10,000+"


def count(connection: Connection, principal: Principal, filters: ConversationFilters) -> dict[str, Any]:
    """How many conversations the list would show under ``filters``: the same check, the same
    visible set; exact up to COUNT_CAP, and ``{"count": COUNT_CAP, "exact": False}`` beyond."""
    access = authorize_read(principal, filters)
    found = queries.count_conversations(connection, access.visible, filters, COUNT_CAP + 1)
    return {"count": min(found, COUNT_CAP), "exact": found <= COUNT_CAP}


def find_conversation(connection: Connection, access: Access, conversation_ref: str) -> DetailRow:
    """A visible conversation by the id a client sent; NotFound for anything else, foreign ids
    included, so they cannot be told from missing ones."""
    conversation_id = parse_conversation_id(conversation_ref)
    found = queries.get_conversation(connection, access.visible, conversation_id) if conversation_id else None
    if found is None:
        raise NotFound(f"There is no conversation {conversation_ref!r}.")
    return found


def conversation_detail(
    connection: Connection, principal: Principal, conversation_ref: str, links: Links
) -> dict[str, Any]:
    access = authorize_read(principal)
    return present_detail(connection, access, find_conversation(connection, access, conversation_ref), links)


def present_detail(connection: Connection, access: Access, detail: DetailRow, links: Links) -> dict[str, Any]:
    """A found conversation as the detail endpoint shows it to ``access``."""
    row, visible = detail.conversation, access.visible
    source = Source(
        row,
        links,
        links.console,
        participants=queries.participants_by_conversation(connection, visible, [row.id]).get(row.id, [])
        if access.shows("participants")
        else (),
        detail=detail,
        turns=queries.transcript(connection, visible, row.id) if access.shows("transcript") else (),
        recordings=queries.recordings(connection, visible, row.id) if access.shows("recordings") else (),
        tags=queries.tags(connection, visible, row.id),
    )
    return access.present(source, View.DETAIL)


def find_recording(connection: Connection, principal: Principal, conversation_ref: str, seq: int) -> AnyRow:
    """A recording's stored row; needs read_sensitive, like the recordings field."""
    access = authorize_read(principal, reveals=("recordings",))
    detail = find_conversation(connection, access, conversation_ref)
    found = queries.recordings(connection, access.visible, detail.conversation.id)
    recording = next((r for r in found if r.seq == seq), None)
    if recording is None:
        raise NotFound(f"Conversation {conversation_ref!r} has no recording {seq}.")
    return recording
