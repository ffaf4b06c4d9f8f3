"""Routes under /core/conversations. Thin: parse, call the service, return."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from parley.api.conversation_params import FILTER_PARAMS, FiltersDep, reject_unknown_params
from parley.api.deps import ConnectionDep, LinksDep, ReaderDep, SecretKeyDep, SettingsDep
from parley.api.schemas import PROBLEM_RESPONSES, ConversationDetail, ConversationPage, Problem
from parley.auth.scopes import Scope
from parley.conversations import queries
from parley.conversations.cursor import MAX_CURSOR_LENGTH
from parley.conversations.export import parse_zone, stream_csv
from parley.conversations.ids import parse_conversation_id
from parley.conversations.service import conversation_detail, list_page, require_filters_allowed
from parley.errors import NotFound
from parley.recordings.store import LocalBlobStore

router = APIRouter(prefix="/core/conversations", tags=["conversations"], responses=PROBLEM_RESPONSES)
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "No such conversation.",
    }
}


def json_response(body: object) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "", response_model=ConversationPage, summary="List conversations across every channel, newest first"
)
def list_conversations(
    request: Request,
    principal: ReaderDep,
    connection: ConnectionDep,
    filters: FiltersDep,
    links: LinksDep,
    secret_key: SecretKeyDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page.")
    ] = None,
) -> Response:
    reject_unknown_params(request, FILTER_PARAMS | {"limit", "cursor"})
    return json_response(list_page(connection, principal, filters, cursor, limit, links, secret_key))


@router.get(
    "/export.csv",
    summary="Export the filtered view as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV, streamed."}},
)
def export_conversations(
    request: Request,
    principal: ReaderDep,
    filters: FiltersDep,
    links: LinksDep,
    tz: Annotated[str, Query(max_length=64, description="IANA zone for the Date and Time columns.")] = "UTC",
) -> StreamingResponse:
    reject_unknown_params(request, FILTER_PARAMS | {"tz"})
    require_filters_allowed(principal, filters)
    zone = parse_zone(tz)
    filename = f"parley-{principal.org_slug}-conversations-{datetime.now(UTC):%Y-%m-%d}.csv"
    return StreamingResponse(
        stream_csv(request.app.state.engine, principal, filters, links, zone),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/{conversation_id}", response_model=ConversationDetail, responses=NOT_FOUND, summary="One conversation"
)
def get_conversation(
    request: Request, conversation_id: str, principal: ReaderDep, connection: ConnectionDep, links: LinksDep
) -> Response:
    reject_unknown_params(request, frozenset())
    return json_response(conversation_detail(connection, principal, conversation_id, links))


@router.get(
    "/{conversation_id}/recording",
    summary="Stream a recording (supports HTTP Range)",
    response_class=FileResponse,
    responses={**NOT_FOUND, 206: {"description": "Partial content for a Range request."}},
)
def get_recording(
    conversation_id: str,
    principal: ReaderDep,
    connection: ConnectionDep,
    settings: SettingsDep,
    seq: Annotated[int, Query(ge=0, description="Which recording, when there are several.")] = 0,
) -> FileResponse:
    principal.require(Scope.READ_SENSITIVE)
    parsed = parse_conversation_id(conversation_id)
    row = queries.get_conversation(connection, principal.org_id, parsed) if parsed else None
    recording = next(
        (r for r in queries.recordings(connection, principal.org_id, row.id) if r.seq == seq)
        if row
        else iter(()),
        None,
    )
    if recording is None:
        raise NotFound(f"Conversation {conversation_id!r} has no recording {seq}.")
    path = LocalBlobStore(settings.recordings_dir).path_for(recording.blob_key)
    return FileResponse(
        path, media_type=recording.content_type, headers={"Cache-Control": "private, max-age=3600"}
    )
