"""Routes under /core/conversations. Thin: parse, call the service, return."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy import Connection

from parley.api.conversation_params import FILTER_PARAMS, filters_from_query, reject_unknown_params
from parley.api.deps import LinksDep, ReadingDep, SecretKeyDep, SettingsDep
from parley.api.schemas import (
    PROBLEM_RESPONSES,
    RANGE_RESPONSES,
    ConversationDetail,
    ConversationPage,
    Problem,
)
from parley.auth.principal import Principal
from parley.auth.scopes import Scope
from parley.conversations import queries
from parley.conversations.cursor import MAX_CURSOR_LENGTH
from parley.conversations.export import parse_zone, stream_csv
from parley.conversations.filters import ConversationFilters
from parley.conversations.ids import parse_conversation_id
from parley.conversations.service import conversation_detail, list_page, require_filters_allowed
from parley.errors import NotFound
from parley.recordings.response import recording_response
from parley.recordings.store import LocalBlobStore

router = APIRouter(prefix="/core/conversations", tags=["conversations"], responses=PROBLEM_RESPONSES)
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "No such conversation.",
    }
}


def _on_event_loop(parse: Callable[..., Any]) -> Callable[..., Any]:
    """The same dependency (same parameters, same OpenAPI) as ``async def``: parsing query
    parameters is pure CPU work, and a plain ``def`` would cost a thread-pool hop per request."""

    async def dependency(**params: Any) -> Any:
        return parse(**params)

    dependency.__signature__ = inspect.signature(parse, eval_str=True)  # type: ignore[attr-defined]
    dependency.__name__ = parse.__name__
    dependency.__doc__ = parse.__doc__
    return dependency


FiltersDep = Annotated[ConversationFilters, Depends(_on_event_loop(filters_from_query))]


@router.get(
    "", response_model=ConversationPage, summary="List conversations across every channel, newest first"
)
async def list_conversations(
    request: Request,
    reading: ReadingDep,
    filters: FiltersDep,
    links: LinksDep,
    secret_key: SecretKeyDep,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page.")
    ] = None,
) -> Response:
    reject_unknown_params(request, FILTER_PARAMS | {"limit", "cursor"})

    def page(connection: Connection, principal: Principal) -> bytes:
        return orjson.dumps(list_page(connection, principal, filters, cursor, limit, links, secret_key))

    return Response(await reading.run(page), media_type="application/json")


@router.get(
    "/export.csv",
    summary="Export the filtered view as CSV",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV, streamed."}},
)
async def export_conversations(
    request: Request,
    reading: ReadingDep,
    filters: FiltersDep,
    links: LinksDep,
    tz: Annotated[str, Query(max_length=64, description="IANA zone for the Date and Time columns.")] = "UTC",
) -> StreamingResponse:
    reject_unknown_params(request, FILTER_PARAMS | {"tz"})
    principal = reading.principal
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
async def get_conversation(
    request: Request, conversation_id: str, reading: ReadingDep, links: LinksDep
) -> Response:
    reject_unknown_params(request, frozenset())

    def detail(connection: Connection, principal: Principal) -> bytes:
        return orjson.dumps(conversation_detail(connection, principal, conversation_id, links))

    return Response(await reading.run(detail), media_type="application/json")


@router.get(
    "/{conversation_id}/recording",
    summary="Stream a recording (supports HTTP Range)",
    response_class=FileResponse,
    responses={**NOT_FOUND, **RANGE_RESPONSES},
)
async def get_recording(
    request: Request,
    conversation_id: str,
    reading: ReadingDep,
    settings: SettingsDep,
    seq: Annotated[int, Query(ge=0, description="Which recording, when there are several.")] = 0,
) -> FileResponse:
    reject_unknown_params(request, frozenset({"seq"}))
    reading.principal.require(Scope.READ_SENSITIVE)
    parsed = parse_conversation_id(conversation_id)

    def find(connection: Connection, principal: Principal) -> Any:
        detail = queries.get_conversation(connection, principal.org_id, parsed) if parsed else None
        if detail is None:
            return None
        found = queries.recordings(connection, principal.org_id, detail.conversation.id)
        return next((r for r in found if r.seq == seq), None)

    recording = await reading.run(find)
    if recording is None:
        raise NotFound(f"Conversation {conversation_id!r} has no recording {seq}.")
    path = LocalBlobStore(settings.recordings_dir).path_for(recording.blob_key)
    return recording_response(
        request, path, recording.content_type, {"Cache-Control": "private, max-age=3600"}
    )
