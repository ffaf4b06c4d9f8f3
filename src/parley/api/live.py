"""Live streams (Server-Sent Events): the org's conversations as they change, or one of them.

Registered before the conversation routes, so ``/core/conversations/live`` is not read as an id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from parley.api.conversation_params import (
    FILTER_PARAMS,
    ConversationIdPath,
    FiltersDep,
    reject_unknown_params,
)
from parley.api.deps import AuditDep, EngineDep, LinksDep, PrincipalDep, resolve_principal
from parley.api.schemas import PROBLEM_RESPONSES
from parley.audit import rules as audit_rules
from parley.auth.principal import ORG_HEADER, Principal
from parley.conversations.filters import ConversationFilters
from parley.conversations.policy import authorize_read
from parley.conversations.service import find_conversation
from parley.db.engine import read_connection
from parley.errors import BadRequest, Forbidden
from parley.live.stream import Viewer, events

router = APIRouter(prefix="/core/conversations", tags=["live"], responses=PROBLEM_RESPONSES)

# Proxies buffer responses unless told not to; a stream must reach the browser as it is written.
# Events hold personal data: never stored (see ``api.headers``).
STREAM_HEADERS = {"Cache-Control": "private, no-store", "X-Accel-Buffering": "no"}
LastEventIdHeader = Annotated[
    str | None, Header(alias="Last-Event-ID", description="Resume after this event (EventSource sends it).")
]
LastEventIdQuery = Annotated[
    str | None,
    Query(max_length=20, description="The same as the Last-Event-ID header, for clients that cannot set it."),
]
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "The stream."}
}


def _resume_from(header: str | None, query: str | None) -> int | None:
    value = header if header is not None else query
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise BadRequest(
            "Last-Event-ID must be the id of an event this stream sent.", parameter="Last-Event-ID"
        )
    return int(value)


def _recheck(request: Request, principal: Principal) -> Callable[[], Awaitable[None]]:
    """Re-authenticate the stream's caller as it first was; Forbidden once that no longer holds."""
    authorization = request.headers.get("authorization")
    org_ref = request.headers.get(ORG_HEADER)

    def check() -> None:
        with read_connection(request.app.state.engine, None) as connection:
            now = resolve_principal(request, connection, authorization, org_ref)
        if now.org_id != principal.org_id or now.sensitive != principal.sensitive:
            raise Forbidden("Your access to this org has changed; reconnect to see what it allows now.")

    async def recheck() -> None:
        await run_in_threadpool(check)

    return recheck


def _stream(request: Request, principal: Principal, viewer: Viewer, after: int | None) -> EventSourceResponse:
    """The response: heartbeats, no proxy buffering, and a client that stops reading for
    PARLEY_LIVE_SEND_TIMEOUT_SECONDS is cut off rather than holding its place."""
    engine = request.app.state.engine
    settings = request.app.state.settings
    every = settings.live_recheck_seconds
    stream = events(request.app.state.hub, engine, viewer, after, _recheck(request, principal), every)
    return EventSourceResponse(
        stream,
        ping=settings.live_heartbeat_seconds,
        headers=STREAM_HEADERS,
        send_timeout=settings.live_send_timeout_seconds,
    )


@router.get(
    "/live", summary="Watch the org's conversations as they change (Server-Sent Events)", responses=_STREAM
)
async def live_conversations(
    request: Request,
    principal: PrincipalDep,
    filters: FiltersDep,
    engine: EngineDep,
    links: LinksDep,
    audit: AuditDep,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: Annotated[LastEventIdQuery, Query(alias="last_event_id")] = None,
) -> EventSourceResponse:
    reject_unknown_params(request, (FILTER_PARAMS - {"q"}) | {"last_event_id"})
    access = authorize_read(principal, filters)
    after = _resume_from(last_event_id, last_event_id_query)
    audit_rules.live_opened(audit, filters, None)
    return _stream(request, principal, Viewer(access, links, filters), after)


@router.get(
    "/{conversation_id}/live",
    summary="Watch one conversation as it happens (Server-Sent Events)",
    responses=_STREAM,
)
async def live_conversation(
    request: Request,
    conversation_id: ConversationIdPath,
    principal: PrincipalDep,
    engine: EngineDep,
    links: LinksDep,
    audit: AuditDep,
    last_event_id: LastEventIdHeader = None,
    last_event_id_query: Annotated[LastEventIdQuery, Query(alias="last_event_id")] = None,
) -> EventSourceResponse:
    reject_unknown_params(request, frozenset({"last_event_id"}))
    access = authorize_read(principal)
    after = _resume_from(last_event_id, last_event_id_query)

    def find() -> int:
        with read_connection(engine, access.org_id) as connection:
            return find_conversation(connection, access, conversation_id).conversation.id

    target = await run_in_threadpool(find)
    audit_rules.live_opened(audit, None, str(target))
    return _stream(request, principal, Viewer(access, links, ConversationFilters(), target), after)
