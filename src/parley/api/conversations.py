"""Routes under /core/conversations. Thin: parse, call the service, return.

The handlers are plain ``def``: FastAPI runs each in the thread pool, in one hop, on a
connection of its own (see ``api.deps``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from parley.api.conversation_params import (
    FILTER_PARAMS,
    ConversationIdPath,
    FiltersDep,
    reject_unknown_params,
)
from parley.api.deps import AuditDep, EngineDep, LinksDep, PrincipalDep, SecretKeyDep, SettingsDep
from parley.api.export_response import ExportBudget, ExportResponse
from parley.api.schemas import (
    NOT_FOUND,
    PROBLEM_RESPONSES,
    RANGE_RESPONSES,
    ConversationCount,
    ConversationDetail,
    ConversationPage,
    Problem,
)
from parley.audit import rules as audit_rules
from parley.conversations.cursor import MAX_CURSOR_LENGTH
from parley.conversations.export.stream import stream_csv
from parley.conversations.export.zones import parse_zone, zone_enum
from parley.conversations.policy import authorize_read
from parley.conversations.service import conversation_detail, count, find_recording, list_page
from parley.db.engine import read_connection
from parley.recordings.response import recording_response
from parley.recordings.store import LocalBlobStore

router = APIRouter(prefix="/core/conversations", tags=["conversations"], responses=PROBLEM_RESPONSES)


@router.get(
    "", response_model=ConversationPage, summary="List conversations across every channel, newest first"
)
def list_conversations(
    request: Request,
    principal: PrincipalDep,
    filters: FiltersDep,
    engine: EngineDep,
    links: LinksDep,
    secret_key: SecretKeyDep,
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page.")
    ] = None,
) -> Response:
    reject_unknown_params(request, FILTER_PARAMS | {"limit", "cursor"})
    with read_connection(engine, principal.org_id) as connection:
        page = list_page(connection, principal, filters, cursor, limit, links, secret_key)
    audit_rules.listed(audit, filters, len(page["data"]))
    return Response(orjson.dumps(page), media_type="application/json")


@router.get(
    "/count",
    response_model=ConversationCount,
    summary="How many conversations the list shows under these filters (exact up to 10,000)",
)
def count_conversations(
    request: Request, principal: PrincipalDep, filters: FiltersDep, engine: EngineDep
) -> Response:
    """Its own request, so a client can show the list's first page without waiting for it."""
    reject_unknown_params(request, FILTER_PARAMS)
    with read_connection(engine, principal.org_id) as connection:
        answer = count(connection, principal, filters)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.get(
    "/export.csv",
    summary="Export the filtered view as CSV",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The CSV, streamed."},
        429: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "As many exports as allowed are running (for the org or the server); "
            "try again after Retry-After seconds.",
        },
    },
)
async def export_conversations(
    request: Request,
    principal: PrincipalDep,
    filters: FiltersDep,
    links: LinksDep,
    audit: AuditDep,
    tz: Annotated[
        str,
        Query(
            max_length=64,
            description="IANA zone for the Date and Time columns.",
            json_schema_extra=zone_enum,
        ),
    ] = "UTC",
) -> Response:
    reject_unknown_params(request, FILTER_PARAMS | {"tz"})
    access = authorize_read(principal, filters)
    zone = parse_zone(tz)
    filename = f"parley-{principal.org_slug}-conversations-{datetime.now(UTC):%Y-%m-%d}.csv"
    budget: ExportBudget = request.app.state.exports
    chunks = stream_csv(budget.engine, access, filters, links, zone, audit_rules.export_ended(audit, filters))
    # Taken last, once nothing else can refuse the request: from here the response owns the slot.
    slot = budget.gate.acquire(principal.org_id)
    return ExportResponse(
        chunks,
        slot,
        budget,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{conversation_id}", response_model=ConversationDetail, responses=NOT_FOUND, summary="One conversation"
)
def get_conversation(
    request: Request,
    conversation_id: ConversationIdPath,
    principal: PrincipalDep,
    engine: EngineDep,
    links: LinksDep,
    audit: AuditDep,
) -> Response:
    reject_unknown_params(request, frozenset())
    with read_connection(engine, principal.org_id) as connection:
        detail = conversation_detail(connection, principal, conversation_id, links)
    audit_rules.read_detail(audit, detail["id"])
    return Response(orjson.dumps(detail), media_type="application/json")


@router.get(
    "/{conversation_id}/recording",
    summary="Stream a recording (supports HTTP Range)",
    response_class=FileResponse,
    responses={**NOT_FOUND, **RANGE_RESPONSES},
)
def get_recording(
    request: Request,
    conversation_id: ConversationIdPath,
    principal: PrincipalDep,
    engine: EngineDep,
    settings: SettingsDep,
    audit: AuditDep,
    seq: Annotated[int, Query(ge=0, description="Which recording, when there are several.")] = 0,
) -> FileResponse:
    reject_unknown_params(request, frozenset({"seq"}))
    with read_connection(engine, principal.org_id) as connection:
        recording = find_recording(connection, principal, conversation_id, seq)
    audit_rules.played(audit, conversation_id, seq, request.headers.get("range"))
    path = LocalBlobStore(settings.recordings_dir).path_for(recording.blob_key)
    # Not stored, even privately: a cached recording outlived the logout by an hour. Seeking does
    # not need a cache, since the player asks for each range it wants (206).
    return recording_response(request, path, recording.content_type, {"Cache-Control": "private, no-store"})
