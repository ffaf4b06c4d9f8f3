"""Fetching a recording a provider only links to (Retell's recording_url, Vapi's recordingUrl,
Twilio's RecordingUrl): a background job streams it into the recordings folder, never more
than the size limit, and attaches it. Until then the conversation shows ``has_recording: false``.

The URL comes from a delivery whose signature was checked, so it is the provider's; only
http and https are followed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from sqlalchemy import Engine, select

from parley.db import tables
from parley.db.engine import read_connection, write_connection
from parley.errors import NotFound, ParleyError
from parley.ingest import service
from parley.ingest.jobs import Job, Permanent
from parley.recordings.upload import AUDIO_TYPES, OWNED_PREFIX, _duration, declared_type, delete_owned, sniff

KIND = "fetch_recording"
TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
_SNIFF_BYTES = 12


class FetchFailed(Exception):
    """The provider did not hand over audio this time (not there yet, an error page)."""


def _audio_type(head: bytes, header: str | None) -> str:
    found = sniff(head)
    if found is not None:
        return found
    try:
        return declared_type(header)  # a format Parley cannot sniff but the server names
    except ParleyError:
        raise FetchFailed(f"the response is not audio Parley knows (Content-Type {header!r})") from None


def download(url: str, root: Path, org_id: int, conversation_id: int, limit: int) -> tuple[str, int, str]:
    """Stream ``url`` into a new blob; returns its key, size and content type."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise Permanent(f"the recording URL is not http or https: {url[:100]!r}")
    stem = f"{OWNED_PREFIX}{org_id}/{conversation_id}/{secrets.token_hex(8)}"
    partial = root.resolve() / f"{stem}.part"
    partial.parent.mkdir(parents=True, exist_ok=True)
    size, head = 0, b""
    try:
        with (
            httpx2.Client(timeout=TIMEOUT, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise FetchFailed(f"the recording URL answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise Permanent(f"the recording is {int(declared):,} bytes, more than the {limit:,} allowed")
            with partial.open("wb") as out:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise Permanent(f"the recording is more than the {limit:,} bytes allowed")
                    if len(head) < _SNIFF_BYTES:
                        head += chunk[: _SNIFF_BYTES - len(head)]
                    out.write(chunk)
            content_type = _audio_type(head, response.headers.get("content-type"))
        if size == 0:
            raise FetchFailed("the recording URL answered with no bytes")
        key = stem + AUDIO_TYPES[content_type]
        partial.rename(root.resolve() / key)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return key, size, content_type


def fetch_recording(root: Path, limit: int, engine: Engine, job: Job, _now: datetime) -> None:
    """The job: fetch, attach, and drop the blob it replaces. A conversation deleted, or given a
    recording another way, in the meantime needs nothing more."""
    c = tables.conversations
    with read_connection(engine, job.org_id) as connection:
        has = connection.execute(
            select(c.c.has_recording).where(c.c.org_id == job.org_id, c.c.id == job.conversation_id)
        ).scalar()
    if has is None or has:
        return
    key, size, content_type = download(str(job.payload["url"]), root, job.org_id, job.conversation_id, limit)
    duration = job.payload.get("duration_seconds")
    if duration is None:
        duration = _duration(root.resolve() / key, content_type)
    try:
        with write_connection(engine, job.org_id) as connection:
            previous = service.attach_recording(
                connection, job.org_id, job.conversation_id, key, content_type, size, duration
            )
    except NotFound:
        delete_owned(root, [key])
        return
    except BaseException:
        delete_owned(root, [key])
        raise
    delete_owned(root, [previous] if previous else [])
