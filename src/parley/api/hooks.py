"""Provider webhooks: ``POST /hooks/{provider}/{hook_id}``. The hook's URL names the org and the
secret; the provider's signature is the credential, so there is no bearer token here."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio.to_thread
from fastapi import APIRouter, Request, Response

from parley.api.deps import EngineDep, SecretKeyDep, SettingsDep
from parley.audit.rules import client_of
from parley.config import Settings
from parley.errors import PayloadTooLarge
from parley.ingest.providers.common import Inbound
from parley.ingest.receive import receive

router = APIRouter(tags=["webhooks"])
_SLACK = 1024 * 1024  # JSON around a base64 recording


def body_limit(settings: Settings) -> int:
    """The largest body a hook reads: a recording sent inline (ElevenLabs' post_call_audio) is
    base64, a third larger than the audio."""
    return settings.max_recording_bytes * 4 // 3 + _SLACK


def signed_url(request: Request, settings: Settings) -> str:
    """The URL the provider called, as it signed it (Twilio signs the URL): PARLEY_PUBLIC_URL
    when set, since a proxy in front may have changed the scheme, host or port."""
    if not settings.public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{settings.public_url.rstrip('/')}{request.url.path}{query}"


@router.post(
    "/hooks/{provider}/{hook_id}",
    summary="Receive a provider webhook (Retell, Vapi, ElevenLabs, Twilio)",
    response_class=Response,
    responses={
        200: {"description": "Received: applied, a repeat that was ignored, or a kind not stored."},
        401: {"description": "The provider's signature is missing or wrong; nothing was written."},
        404: {"description": "No active hook of this provider at this address."},
        413: {"description": "The body is larger than the largest recording allowed."},
    },
)
async def receive_hook(
    provider: str,
    hook_id: str,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    secret_key: SecretKeyDep,
) -> Response:
    limit = body_limit(settings)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"A webhook body may be at most {limit:,} bytes.")
        chunks.append(chunk)
    inbound = Inbound(
        url=signed_url(request, settings),
        headers={name.lower(): value for name, value in request.headers.items()},
        body=b"".join(chunks),
        received_at=datetime.now(UTC),
    )
    ack = await anyio.to_thread.run_sync(
        receive,
        engine,
        secret_key,
        settings.recordings_dir,
        settings.max_recording_bytes,
        provider,
        hook_id,
        inbound,
        request.app.state.audit,
        client_of(request),
    )
    return Response(ack.body, media_type=ack.media_type)
