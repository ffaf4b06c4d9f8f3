"""What the routes call: one function per read, combining queries, cursor and field policy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from parley.auth.principal import Principal
from parley.auth.scopes import Scope
from parley.conversations import queries
from parley.conversations.cursor import decode_cursor, encode_cursor
from parley.conversations.filters import ConversationFilters
from parley.conversations.ids import parse_conversation_id
from parley.conversations.policy import Links, present, present_detail
from parley.conversations.search import SearchTerms, Snippet, identifier_snippet, word_snippets
from parley.errors import Forbidden, NotFound


def require_filters_allowed(principal: Principal, filters: ConversationFilters) -> None:
    """Filtering by a sensitive value would reveal it through which rows match."""
    if filters.uses_sensitive_values and not principal.sensitive:
        name = "q" if filters.q is not None else "user_id"
        raise Forbidden(f"Filtering by {name} needs the {Scope.READ_SENSITIVE.value} scope.", parameter=name)


def list_page(
    connection: Connection,
    principal: Principal,
    filters: ConversationFilters,
    cursor: str | None,
    limit: int,
    links: Links,
    secret_key: str,
) -> dict[str, Any]:
    require_filters_allowed(principal, filters)
    fingerprint = filters.fingerprint()
    after = decode_cursor(secret_key, cursor, principal.org_id, fingerprint) if cursor else None
    page = queries.list_conversations(connection, principal.org_id, filters, after, limit)
    participants: dict[int, list[Any]] = {}
    snippets: dict[int, Snippet] = {}
    if principal.sensitive:
        with_people = [row.id for row in page.rows if row.participant_count]
        participants = queries.participants_by_conversation(connection, principal.org_id, with_people)
        if filters.q is not None:
            snippets = _snippets(connection, principal.org_id, filters.q, page.rows, participants)
    console = links.console
    return {
        "data": [
            present(
                row,
                principal,
                links,
                participants=participants.get(row.id, ()),
                snippet=snippets.get(row.id),
                console=console,
            )
            for row in page.rows
        ],
        "next_cursor": (
            encode_cursor(secret_key, principal.org_id, fingerprint, page.next_position)
            if page.next_position is not None
            else None
        ),
    }


def _snippets(
    connection: Connection,
    org_id: int,
    q: str,
    rows: list[queries.ConversationRow],
    participants: dict[int, list[Any]],
) -> dict[int, Snippet]:
    terms = SearchTerms.parse(q)
    found = word_snippets(connection, terms, [row.id for row in rows], org_id)
    if terms.fragment:
        for row in rows:
            if row.id in found:
                continue
            snippet = identifier_snippet(
                terms.fragment, {"user_id": row.user_id, "agent_number": row.agent_number, "id": str(row.id)}
            )
            for person in participants.get(row.id, ()):
                snippet = snippet or identifier_snippet(terms.fragment, {"participants": person.address})
            if snippet is not None:
                found[row.id] = snippet
    return found


def conversation_detail(
    connection: Connection, principal: Principal, conversation_ref: str, links: Links
) -> dict[str, Any]:
    conversation_id = parse_conversation_id(conversation_ref)
    detail = (
        queries.get_conversation(connection, principal.org_id, conversation_id) if conversation_id else None
    )
    if detail is None:
        raise NotFound(f"There is no conversation {conversation_ref!r}.")
    row = detail.conversation
    sensitive = principal.sensitive
    org = principal.org_id
    return present_detail(
        detail,
        principal,
        links,
        participants=queries.participants_by_conversation(connection, org, [row.id]).get(row.id, [])
        if sensitive
        else [],
        turns=queries.transcript(connection, org, row.id) if sensitive else [],
        recordings=queries.recordings(connection, org, row.id) if sensitive else [],
    )
