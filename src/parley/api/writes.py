"""The native write API under /core/conversations (scope conversations:manage). Thin: authorize,
parse, call one use case of ``api.writing`` in the thread pool, answer what it returns.

Handlers are ``async def`` because the idempotency fingerprint needs the raw body; the work
itself runs in the thread pool, one hop, on connections of its own.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from parley.api.conversation_params import ConversationIdPath, reject_unknown_params
from parley.api.deps import AuditDep, EngineDep, LinksDep, SettingsDep, WriterDep
from parley.api.schemas import NOT_FOUND, PROBLEM_RESPONSES, WRITE_RESPONSES, ConversationDetail
from parley.api.write_schemas import ConversationCreate, ConversationPatch, TurnsIn, TurnsOut
from parley.api.writing import Answer, Idempotency, add_turns, attach, create, patch, remove
from parley.conversations.ids import parse_conversation_id
from parley.errors import NotFound, PayloadTooLarge
from parley.ingest.idempotency import MAX_KEY_LENGTH, fingerprint
from parley.recordings.upload import AUDIO_TYPES, declared_type, delete_owned, receive

router = APIRouter(
    prefix="/core/conversations", tags=["writes"], responses={**PROBLEM_RESPONSES, **WRITE_RESPONSES}
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=MAX_KEY_LENGTH,
        # What ``check_key`` accepts: printable ASCII, spaces included.
        json_schema_extra={"pattern": f"^[ -~]{{1,{MAX_KEY_LENGTH}}}$"},
        description="Any unique string (a UUID): a retry with the same key and body is answered "
        "as the first request was, and changes nothing. Kept 24 hours.",
    ),
]


def _json(answer: Answer) -> Response:
    return Response(answer.body, status_code=answer.status, media_type="application/json")


def _conversation_id(reference: str) -> int:
    parsed = parse_conversation_id(reference)
    if parsed is None:
        raise NotFound(f"There is no conversation {reference!r}.")
    return parsed


async def _request(request: Request, key: str | None) -> Idempotency:
    return Idempotency(key, fingerprint(request.method, request.url.path, await request.body()))


@router.post("", status_code=201, response_model=ConversationDetail, summary="Create a conversation")
async def create_conversation(
    request: Request,
    access: WriterDep,
    audit: AuditDep,
    payload: ConversationCreate,
    engine: EngineDep,
    links: LinksDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_params(request, frozenset())
    answer = await run_in_threadpool(
        create, engine, access, audit, links, payload, await _request(request, idempotency_key)
    )
    return _json(answer)


@router.patch(
    "/{conversation_id}",
    response_model=ConversationDetail,
    responses=NOT_FOUND,
    summary="Update a conversation",
)
async def update_conversation(
    request: Request,
    conversation_id: ConversationIdPath,
    access: WriterDep,
    audit: AuditDep,
    payload: ConversationPatch,
    engine: EngineDep,
    links: LinksDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_params(request, frozenset())
    target = _conversation_id(conversation_id)
    answer = await run_in_threadpool(
        patch, engine, access, audit, links, target, payload, await _request(request, idempotency_key)
    )
    return _json(answer)


@router.post(
    "/{conversation_id}/turns",
    response_model=TurnsOut,
    responses=NOT_FOUND,
    summary="Add or replace transcript turns",
)
async def post_turns(
    request: Request,
    conversation_id: ConversationIdPath,
    access: WriterDep,
    audit: AuditDep,
    payload: TurnsIn,
    engine: EngineDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_params(request, frozenset())
    target = _conversation_id(conversation_id)
    answer = await run_in_threadpool(
        add_turns, engine, access, audit, target, payload, await _request(request, idempotency_key)
    )
    return _json(answer)


@router.put(
    "/{conversation_id}/recording",
    response_model=ConversationDetail,
    responses=NOT_FOUND,
    summary="Upload the recording (WAV, MP3, OGG/Opus, WebM or M4A), streamed",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in AUDIO_TYPES},
        }
    },
)
async def put_recording(
    request: Request,
    conversation_id: ConversationIdPath,
    access: WriterDep,
    audit: AuditDep,
    engine: EngineDep,
    links: LinksDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    reject_unknown_params(request, frozenset())
    target = _conversation_id(conversation_id)
    content_type = declared_type(request.headers.get("content-type"))
    limit = settings.max_recording_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"A recording may be at most {limit:,} bytes.")
    received = await receive(
        request.stream(), settings.recordings_dir, access.org_id, target, content_type, limit
    )
    idempotency = Idempotency(
        idempotency_key,
        fingerprint(request.method, request.url.path, f"{content_type}:{received.sha256}".encode()),
    )
    answer = await run_in_threadpool(
        attach, engine, access, audit, links, target, received, idempotency, settings.recordings_dir
    )
    return _json(answer)


@router.delete(
    "/{conversation_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Delete a conversation and everything it holds",
)
async def delete_conversation(
    request: Request,
    conversation_id: ConversationIdPath,
    access: WriterDep,
    audit: AuditDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    reject_unknown_params(request, frozenset())
    blobs = await run_in_threadpool(remove, engine, access, audit, _conversation_id(conversation_id))
    await run_in_threadpool(delete_owned, settings.recordings_dir, blobs)
    return Response(status_code=204)
