"""One webhook request, from the URL to the database: find the hook, check the signature before
anything else is read, map the payload, and write it in one transaction.

Nothing is written unless the signature holds: a bad one is 401. A delivery of a kind Parley
does not store is acknowledged all the same, so the provider does not retry it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from parley.audit.rules import delivered
from parley.audit.trail import AuditTrail
from parley.db.engine import SYSTEM, read_connection, write_connection
from parley.errors import BadRequest, NotFound, PayloadTooLarge
from parley.ingest import deliveries
from parley.ingest.deliveries import Applied, Blob, Outcome
from parley.ingest.hooks import active_hook
from parley.ingest.providers import ADAPTERS
from parley.ingest.providers.common import CallDelivery, Inbound, InlineAudio
from parley.recordings.upload import AUDIO_TYPES, OWNED_PREFIX, delete_owned, sniff


@dataclass(frozen=True, slots=True)
class Ack:
    body: bytes
    media_type: str
    applied: Applied | None  # None: a kind of message Parley does not store


def _store_audio(root: Path, org_id: int, audio: InlineAudio, limit: int) -> Blob:
    if len(audio.data) > limit:
        raise PayloadTooLarge(f"A recording may be at most {limit:,} bytes.")
    content_type = sniff(audio.data[:12])
    if content_type is None:
        raise BadRequest("The audio in the delivery is not a format Parley knows.")
    key = f"{OWNED_PREFIX}{org_id}/hooks/{secrets.token_hex(8)}{AUDIO_TYPES[content_type]}"
    path = root.resolve() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(audio.data)
    return Blob(key, content_type, len(audio.data))


def receive(
    engine: Engine,
    instance_key: str,
    recordings_dir: Path,
    max_recording_bytes: int,
    provider: str,
    hook_id: str,
    inbound: Inbound,
    audit: AuditTrail,
    client: str | None,
) -> Ack:
    adapter = ADAPTERS.get(provider)
    if adapter is None:
        raise NotFound(f"There is no provider {provider[:40]!r}; Parley takes {', '.join(ADAPTERS)}.")
    with read_connection(engine, SYSTEM) as connection:  # the hook's id names its org
        hook = active_hook(connection, provider, hook_id, instance_key)
    adapter.verify(inbound, hook.secret)
    delivery = adapter.parse(inbound)
    if delivery is None:
        return Ack(adapter.ack, adapter.ack_type, None)
    blob = None
    if isinstance(delivery, CallDelivery) and delivery.audio is not None:
        blob = _store_audio(recordings_dir, hook.org_id, delivery.audio, max_recording_bytes)
    try:
        with write_connection(engine, hook.org_id) as connection:
            applied = deliveries.apply(connection, hook.org_id, provider, delivery, inbound.received_at, blob)
            if applied.outcome is not Outcome.DUPLICATE:  # a repeat changes nothing
                # The hook's id is in its URL, not a secret (the signature is), but a prefix names it.
                credential = f"hook:{provider}:{hook_id[:8]}"
                detail = {"provider": provider, "outcome": applied.outcome.value}
                delivered(audit, connection, hook.org_id, credential, client, applied.conversation_id, detail)
    except BaseException:
        if blob is not None:
            delete_owned(recordings_dir, [blob.key])
        raise
    if blob is not None and applied.outcome is Outcome.DUPLICATE:
        delete_owned(recordings_dir, [blob.key])
    if applied.obsolete_blob is not None:
        delete_owned(recordings_dir, [applied.obsolete_blob])
    return Ack(adapter.ack, adapter.ack_type, applied)
