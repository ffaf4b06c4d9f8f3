"""Receiving a recording: streamed to storage, never held whole in memory, refused when too large
or when its first bytes are not the audio its Content-Type claims."""

from __future__ import annotations

import hashlib
import io
import secrets
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio

from parley.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

# The audio formats Parley takes, by what their files start with.
AUDIO_TYPES = {
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/webm": ".webm",
    "audio/mp4": ".m4a",
}
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
}
_SNIFF_BYTES = 12
OWNED_PREFIX = "uploads/"  # blobs Parley wrote for one conversation (seeded ones share a pool)


def sniff(head: bytes) -> str | None:
    """The audio type a file's first bytes show, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[:4] == b"OggS":
        return "audio/ogg"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if head[4:8] == b"ftyp":
        return "audio/mp4"
    return None


def declared_type(content_type: str | None) -> str:
    """The audio type a request's Content-Type names (parameters dropped), or 415."""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    base = _ALIASES.get(base, base)
    if base not in AUDIO_TYPES:
        allowed = ", ".join(AUDIO_TYPES)
        raise UnsupportedMediaType(
            f"Content-Type {content_type or '(none)'!r} is not a recording type Parley takes: {allowed}.",
            parameter="Content-Type",
        )
    return base


@dataclass(frozen=True, slots=True)
class Received:
    blob_key: str
    path: Path
    content_type: str
    size: int
    sha256: str
    duration_seconds: int | None


async def receive(
    chunks: AsyncIterator[bytes], root: Path, org_id: int, conversation_id: int, content_type: str, limit: int
) -> Received:
    """Write the body to a new blob under ``root``; on any refusal nothing is left behind."""
    key = f"{OWNED_PREFIX}{org_id}/{conversation_id}/{secrets.token_hex(8)}{AUDIO_TYPES[content_type]}"
    path = root.resolve() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        async with await anyio.open_file(path, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"A recording may be at most {limit:,} bytes.")
                if len(head) < _SNIFF_BYTES:
                    head += chunk[: _SNIFF_BYTES - len(head)]
                digest.update(chunk)
                await out.write(chunk)
        if size == 0:
            raise BadRequest("The recording is empty.")
        found = sniff(head)
        if found != content_type:
            what = f"{found} audio" if found else "no audio format Parley knows"
            raise UnsupportedMediaType(
                f"The file's first bytes show {what}, not the {content_type} its Content-Type says.",
                parameter="Content-Type",
            )
        duration = await anyio.to_thread.run_sync(_duration, path, content_type)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Received(key, path, content_type, size, digest.hexdigest(), duration)


def _duration(path: Path, content_type: str) -> int | None:
    """Whole seconds, where the format says it in its header (WAV); None otherwise."""
    if content_type != "audio/wav":
        return None
    try:
        with wave.open(str(path), "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() / rate) if rate else None
    except (wave.Error, EOFError, io.UnsupportedOperation):
        return None


def delete_owned(root: Path, keys: list[str]) -> None:
    """Remove blobs Parley wrote for one conversation; shared (seeded) ones stay."""
    for key in keys:
        if key.startswith(OWNED_PREFIX):
            path = (root.resolve() / key).resolve()
            if path.is_relative_to(root.resolve()):
                path.unlink(missing_ok=True)
