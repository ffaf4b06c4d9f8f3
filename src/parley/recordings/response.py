"""A recording's audio with HTTP Range handled as RFC 9110 says (section 14).

Starlette's FileResponse answers a Range it cannot parse with a plain-text 400 and refuses the
whole request when any one range is out of bounds. RFC 9110 says otherwise: a Range that is not
a valid ``bytes`` ranges-specifier is ignored (the whole file, 200), ranges past the end are
dropped, and only when none is left is the answer 416, here as problem+json like every error.
Ranges are decided here; FileResponse then sees only a Range header it will honour as is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from parley.errors import RangeNotSatisfiable
from parley.recordings.upload import AUDIO_TYPES

# int-range or suffix-range (RFC 9110 14.1.1); list elements may be empty and have spaces around.
_RANGE_SPEC = re.compile(r"(?:([0-9]+)-([0-9]*)|-([0-9]+))")
_WEAK = "W/"
_BEYOND_ANY_FILE = 2**63  # stands for positions too long to convert (int() refuses over 4300 digits)


def satisfiable_ranges(header: str, size: int) -> list[tuple[int, int]] | None:
    """The inclusive byte ranges of ``header`` that lie in a file of ``size`` bytes, in request
    order; ``[]`` when it is valid but none does; ``None`` when it is to be ignored."""
    unit, equals, range_set = header.partition("=")
    if not equals or unit.strip().lower() != "bytes":
        return None
    elements = [element.strip() for element in range_set.split(",")]
    present = [element for element in elements if element]
    specs = [spec for spec in map(_RANGE_SPEC.fullmatch, present) if spec is not None]
    if not specs or len(specs) != len(present):
        return None
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        first, last, suffix = spec.groups()
        if suffix is not None:
            length = _position(suffix)
            if length > 0 and size > 0:
                ranges.append((max(size - length, 0), size - 1))
            continue
        start, end = _position(first), _position(last) if last else _BEYOND_ANY_FILE
        if end < start:
            return None  # an invalid int-range makes the whole header invalid
        if start < size:
            ranges.append((start, min(end, size - 1)))
    return ranges


def _position(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) < 19 else _BEYOND_ANY_FILE


def _if_range_holds(if_range: str | None, response: FileResponse) -> bool:
    """If-Range names the version the client already has part of: ranges only for that one
    (a strong ETag or the exact Last-Modified date), else the whole file."""
    if if_range is None:
        return True
    if if_range.startswith(_WEAK):
        return False
    return if_range in (response.headers.get("etag"), response.headers.get("last-modified"))


class _RangedFile(FileResponse):
    """FileResponse with the request's Range replaced by the ranges decided above (or by none)."""

    byte_ranges: list[tuple[int, int]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name.lower() != b"range"]
        if self.byte_ranges:
            spec = ",".join(f"{first}-{last}" for first, last in self.byte_ranges)
            headers.append((b"range", f"bytes={spec}".encode("latin-1")))
        await super().__call__({**scope, "headers": headers}, receive, send)


def served_type(stored: str) -> tuple[str, dict[str, str]]:
    """The content type to serve a stored recording as, and any header that goes with it.

    Only the audio types Parley takes are served as themselves. A row written before that rule
    (or by hand) could say ``text/html``: served as stored, a browser would run it on Parley's
    origin. Such a file is still the org's data, so it is not refused, but sent as opaque bytes to
    save, never to show (``nosniff`` keeps the browser from guessing again)."""
    if stored in AUDIO_TYPES:
        return stored, {}
    return "application/octet-stream", {"Content-Disposition": "attachment"}


def recording_response(
    request: Request, path: Path, stored_type: str, headers: Mapping[str, str]
) -> FileResponse:
    """The file at ``path``, whole (200) or in part (206); raises RangeNotSatisfiable (416)."""
    stat_result = path.stat()
    size = stat_result.st_size
    header = request.headers.get("range")
    media_type, type_headers = served_type(stored_type)
    response_headers = {**headers, **type_headers, "Accept-Ranges": "bytes"}
    ranges = satisfiable_ranges(header, size) if header is not None else None
    response = _RangedFile(path, media_type=media_type, headers=response_headers, stat_result=stat_result)
    if ranges is None or not _if_range_holds(request.headers.get("if-range"), response):
        return response
    if not ranges:
        raise RangeNotSatisfiable(
            f"No part of the requested range lies within the recording, which is {size} bytes long.",
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
        )
    response.byte_ranges = ranges
    return response
