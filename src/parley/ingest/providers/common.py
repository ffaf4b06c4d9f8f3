"""What the provider adapters share: the request as it arrived, the deliveries an adapter maps
it to, and the small checks the signature schemes and payloads have in common.

An adapter verifies a request, maps its payload to one delivery (or None for a kind of message
Parley does not store) and names the delivery's dedupe key; ``parley.ingest.deliveries`` then
writes it through ``parley.ingest.service``. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import orjson

from parley.conversations.enums import Channel, Direction, Sentiment, Status
from parley.conversations.ids import RANDOM_BITS
from parley.errors import BadRequest, Unauthorized
from parley.ingest.service import TurnChange

MAX_TAGS = 50
MAX_TAG_LENGTH = 64
MAX_INT = 2**31 - 1  # the integer columns (durations, offsets)
# The latest moment a conversation id can carry: its high bits are milliseconds since 1970.
LATEST_SECONDS = (2 ** (63 - RANDOM_BITS) - 1) / 1000


@dataclass(frozen=True, slots=True)
class Inbound:
    """One webhook request: the URL the provider called (as it signed it), its headers with
    lower-cased names, the raw body and when it arrived."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    received_at: datetime

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True, slots=True)
class HookSecret:
    """A hook's secret as verification needs it: whole (``plain``, for HMAC schemes) or only
    its SHA-256 (``digest``, for schemes that send the secret itself)."""

    plain: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class Agent:
    external_id: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who and what a call is: set from every delivery that says it."""

    channel: Channel
    direction: Direction
    user_id: str | None = None
    agent_number: str | None = None
    caller_name: str | None = None
    agent: Agent | None = None


@dataclass(frozen=True, slots=True)
class RecordingLink:
    """A recording the provider links to; a background job fetches it."""

    url: str
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class InlineAudio:
    """A recording the provider sends in the delivery itself (ElevenLabs' post_call_audio)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class CallDelivery:
    """What one delivery says about one call. None means "this delivery does not say"."""

    key: str  # the dedupe key: a repeated delivery has the same one
    external_id: str  # the provider's call id
    created_at: datetime  # when the call began, as well as this delivery knows
    identity: Identity | None = None  # None: the delivery does not say (a recording callback)
    status: Status | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration_seconds: int | None = None
    turns: tuple[TurnChange, ...] = ()
    summary: str | None = None
    ended_reason: str | None = None
    sentiment: Sentiment | None = None
    successful: bool | None = None
    tags: tuple[str, ...] | None = None
    recording: RecordingLink | None = None
    audio: InlineAudio | None = None


@dataclass(frozen=True, slots=True)
class MessageDelivery:
    """One text message (Twilio SMS), threaded by its pair of numbers."""

    key: str
    message_id: str
    direction: Direction  # of this message
    party: str  # the other side's number
    own_number: str  # the agent's number
    text: str
    at: datetime


Delivery = CallDelivery | MessageDelivery


def reject(detail: str) -> NoReturn:
    raise Unauthorized(detail)


def same(expected: str, given: str) -> bool:
    """Compare signatures in constant time."""
    return hmac.compare_digest(expected.encode(), given.encode())


def hmac_hex(key: str, message: bytes, algorithm: str = "sha256") -> str:
    return hmac.new(key.encode(), message, algorithm).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def require_plain(secret: HookSecret) -> str:
    if secret.plain is None:  # a hook made for another scheme; the CLI never makes one
        reject("This hook has no signing secret for the scheme the request uses.")
    return secret.plain


def check_age(stamp_seconds: float, now: datetime, tolerance: timedelta, header: str) -> None:
    """A signed timestamp too far from now is a replay (or a badly wrong clock)."""
    if abs(now.timestamp() - stamp_seconds) > tolerance.total_seconds():
        minutes = int(tolerance.total_seconds() // 60)
        reject(f"The {header} timestamp is more than {minutes} minutes from now; the request is refused.")


def digest_key(body: bytes) -> str:
    """A dedupe key part for deliveries that repeat with new content (live transcripts): the
    same bytes again are the same delivery."""
    return sha256_hex(body)[:32]


def json_object(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise BadRequest("The body must be a JSON object.")
    return value


def as_obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{path} must be a JSON object.", parameter=path)
    return value


def obj(container: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> dict[str, Any]:
    value = container.get(key)
    if value is None:
        if required:
            raise BadRequest(f"{path} is missing from the payload.", parameter=path)
        return {}
    return as_obj(value, path)


def array(container: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"{path} must be a JSON array.", parameter=path)
    return value


def text(
    container: Mapping[str, Any], key: str, path: str, *, max_length: int = 20_000, strict: bool = False
) -> str | None:
    """A string field, or None when absent or empty. Longer than ``max_length``: cut there, as
    free text (a summary, a reason) is still worth keeping; refused when ``strict`` (ids, URLs)."""
    value = container.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{path} must be a string.", parameter=path)
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        if strict:
            raise BadRequest(f"{path} contains a NUL character.", parameter=path)
        value = value.replace("\x00", "")
    if len(value) > max_length:
        if strict:
            raise BadRequest(f"{path} is longer than {max_length:,} characters.", parameter=path)
        value = value[:max_length]
    return value or None


def required_text(container: Mapping[str, Any], key: str, path: str, *, max_length: int = 255) -> str:
    value = text(container, key, path, max_length=max_length, strict=True)
    if value is None:
        raise BadRequest(f"{path} is missing from the payload.", parameter=path)
    return value


def number(container: Mapping[str, Any], key: str, path: str) -> float | None:
    value = container.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{path} must be a number.", parameter=path)
    if not -1e15 < value < 1e15:  # far past any time or duration a call can have
        raise BadRequest(f"{path} is out of range.", parameter=path)
    return float(value)


def flag(container: Mapping[str, Any], key: str, path: str) -> bool | None:
    value = container.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise BadRequest(f"{path} must be true or false.", parameter=path)


def in_range(moment: datetime, path: str) -> datetime:
    """A time a call can have: from 1970 to the latest a conversation id can carry (2039)."""
    if not 0 <= moment.timestamp() <= LATEST_SECONDS:
        raise BadRequest(f"{path} is not a time a call can have.", parameter=path)
    return moment


def epoch_time(container: Mapping[str, Any], key: str, path: str, *, unit: float = 1.0) -> datetime | None:
    """A Unix time field, in seconds (``unit`` 1) or milliseconds (``unit`` 0.001)."""
    value = number(container, key, path)
    if value is None:
        return None
    if not 0 <= value * unit <= LATEST_SECONDS:
        raise BadRequest(f"{path} is not a time a call can have.", parameter=path)
    return datetime.fromtimestamp(value * unit, UTC)


def offset_ms(seconds_from_start: float | None) -> int:
    return max(0, min(round((seconds_from_start or 0) * 1000), MAX_INT))


def iso_time(container: Mapping[str, Any], key: str, path: str) -> datetime | None:
    value = text(container, key, path, max_length=64, strict=True)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{path} is not an ISO 8601 time.", parameter=path) from None
    return in_range(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC), path)


def seconds(value: float | None) -> int | None:
    if value is None:
        return None
    return max(0, min(round(value), MAX_INT))


def sentiment(value: str | None) -> Sentiment | None:
    """positive / neutral / negative in any case; anything else ("Unknown") is no sentiment."""
    try:
        return Sentiment(value.strip().lower()) if value else None
    except ValueError:
        return None


def true_flags(values: Mapping[str, Any]) -> tuple[str, ...]:
    """Tags from an analysis's custom fields: the names of those that are true."""
    names = sorted({name[:MAX_TAG_LENGTH].strip() for name, value in values.items() if value is True})
    return tuple(name for name in names if name)[:MAX_TAGS]
