"""Opaque, signed keyset cursors bound to an org and a filter set.

A cursor is ``base64url(payload).base64url(hmac)``; the payload holds the last row's
``(created_at, id)``, the org and the filters' fingerprint. Clients must treat it as opaque.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson

from parley.errors import BadRequest

_VERSION = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Position:
    """Where the previous page ended: the next page starts strictly after (older than) this row."""

    created_at: datetime
    id: int


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(key: str, payload: bytes) -> bytes:
    return hmac.new(key.encode(), b"cursor:" + payload, hashlib.sha256).digest()[:16]


def encode_cursor(key: str, org_id: int, fingerprint: str, position: Position) -> str:
    micros = (position.created_at - _EPOCH) // _MICROSECOND  # exact; floats would drift
    payload = orjson.dumps({"v": _VERSION, "o": org_id, "f": fingerprint, "t": micros, "i": position.id})
    return f"{_b64encode(payload)}.{_b64encode(_sign(key, payload))}"


def decode_cursor(key: str, cursor: str, org_id: int, fingerprint: str) -> Position:
    """The position a cursor points at, or BadRequest when it is malformed, forged or misapplied."""
    malformed = BadRequest(
        "The cursor is not valid; pass the next_cursor value of a previous page unchanged."
    )
    if len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
        raise malformed
    body, signature = cursor.split(".")
    try:
        payload, tag = _b64decode(body), _b64decode(signature)
    except (binascii.Error, ValueError):
        raise malformed from None
    if not hmac.compare_digest(tag, _sign(key, payload)):
        raise malformed
    try:
        data = orjson.loads(payload)
        version, cursor_org, cursor_filters = data["v"], data["o"], data["f"]
        position = Position(_EPOCH + int(data["t"]) * _MICROSECOND, int(data["i"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OverflowError):
        raise malformed from None
    if version != _VERSION or cursor_org != org_id or cursor_filters != fingerprint:
        raise BadRequest(
            "The cursor does not match this request: it was issued for a different org or a different "
            "set of filters. Start again without a cursor."
        )
    return position
