"""Twilio: voice status callbacks (``CallSid``, ``CallStatus``), recording status callbacks
(``RecordingSid``, ``RecordingUrl``) and SMS, both inbound messages and outbound status
callbacks (``MessageSid``, ``Body``), all form-encoded.

Signature: ``X-Twilio-Signature``, the base64 HMAC-SHA1 (HMAC-SHA256 when
``X-Twilio-Webhooks-Signature-Settings`` names it) of the full URL followed by every POST
parameter's name and value, sorted by name, keyed with the account's Auth Token (or the
shared key's secret). A JSON body is signed through the URL instead: its ``bodySHA256`` query
parameter must be the body's SHA-256. Twilio signs no timestamp, so there is no tolerance to
check; repeated deliveries are what dedupe catches.
"""

from __future__ import annotations

import base64
import hmac
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from parley.conversations.enums import Channel, Direction, Status
from parley.errors import BadRequest
from parley.ingest.providers.common import (
    CallDelivery,
    Delivery,
    HookSecret,
    Identity,
    Inbound,
    MessageDelivery,
    RecordingLink,
    in_range,
    json_object,
    reject,
    require_plain,
    required_text,
    same,
    seconds,
    sha256_hex,
    text,
)

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"
_ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
_CALL_STATUSES = {
    "queued": Status.QUEUED,
    "initiated": Status.QUEUED,
    "ringing": Status.RINGING,
    "in-progress": Status.IN_PROGRESS,
    "answered": Status.IN_PROGRESS,
    "completed": Status.COMPLETED,
    "busy": Status.BUSY,
    "failed": Status.FAILED,
    "no-answer": Status.NO_ANSWER,
    "canceled": Status.CANCELED,
}
_INBOUND_MESSAGE = {"received", "receiving"}
_OUTBOUND_MESSAGE = {
    "accepted",
    "scheduled",
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
}

Params = dict[str, list[str]]


def _algorithm(inbound: Inbound) -> str:
    """What X-Twilio-Webhooks-Signature-Settings names (key=...,algorithm=...); HMAC-SHA1 when absent."""
    for part in (inbound.header(SETTINGS_HEADER) or "").split(","):
        name, _, value = part.partition("=")
        if name.strip() == "algorithm" and value.strip():
            found = _ALGORITHMS.get(value.strip().upper())
            if found is None:
                reject(f"The signature algorithm {value.strip()!r} is not one Parley checks.")
            return found
    return "sha1"


def _json_signed(inbound: Inbound) -> str | None:
    """The bodySHA256 a JSON delivery's URL carries, or None for a form delivery."""
    values = parse_qs(urlsplit(inbound.url).query).get("bodySHA256")
    return values[0] if values else None


def _form(body: bytes) -> Params:
    try:
        return parse_qs(body.decode(), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 form data.") from None


def _signature(token: str, url: str, params: Params, algorithm: str) -> str:
    data = url + "".join(name + value for name in sorted(params) for value in sorted(set(params[name])))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), algorithm).digest()).decode()


def _url_forms(url: str) -> set[str]:
    """The URL with and without its default port: Twilio signs either, as its own validator
    accepts."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        return {url, urlunsplit(parts._replace(netloc=host))}
    port = 443 if parts.scheme == "https" else 80
    return {url, urlunsplit(parts._replace(netloc=f"{host}:{port}"))}


def verify(inbound: Inbound, secret: HookSecret) -> None:
    given = inbound.header(SIGNATURE_HEADER)
    if not given:
        reject("The X-Twilio-Signature header is missing.")
    algorithm = _algorithm(inbound)
    body_hash = _json_signed(inbound)
    if body_hash is not None:
        if not same(sha256_hex(inbound.body), body_hash):
            reject("The body's SHA-256 does not match the bodySHA256 the URL was signed with.")
        params: Params = {}
    else:
        params = _form(inbound.body)
    token = require_plain(secret)
    if not any(
        same(_signature(token, url, params, algorithm), given.strip()) for url in _url_forms(inbound.url)
    ):
        reject("The X-Twilio-Signature signature does not match the URL and parameters.")


def _flat(inbound: Inbound) -> dict[str, Any]:
    if _json_signed(inbound) is not None:
        return json_object(inbound.body)
    return {name: values[0] for name, values in _form(inbound.body).items()}


def _moment(params: dict[str, Any], name: str, fallback: datetime) -> datetime:
    value = text(params, name, name, max_length=64, strict=True)
    if value is None:
        return fallback
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise BadRequest(f"{name} is not an RFC 2822 date.", parameter=name) from None
    if moment.tzinfo is None:  # "-0000": a time in UTC of unknown origin
        moment = moment.replace(tzinfo=UTC)
    return in_range(moment, name)


def _whole(params: dict[str, Any], name: str) -> int | None:
    value = text(params, name, name, max_length=12, strict=True)
    if value is None:
        return None
    if not value.isascii() or not value.isdigit():
        raise BadRequest(f"{name} must be a whole number of seconds.", parameter=name)
    return seconds(int(value))


def _call(params: dict[str, Any], received_at: datetime) -> CallDelivery | None:
    call_sid = required_text(params, "CallSid", "CallSid", max_length=64)
    value = required_text(params, "CallStatus", "CallStatus", max_length=32)
    status = _CALL_STATUSES.get(value)
    if status is None:
        return None
    if status == Status.COMPLETED and str(params.get("AnsweredBy", "")).startswith("machine"):
        status = Status.VOICEMAIL  # answering machine detection said so
    at = _moment(params, "Timestamp", received_at)
    duration = _whole(params, "CallDuration")
    finished = status not in (Status.QUEUED, Status.RINGING, Status.IN_PROGRESS)
    answered = in_range(at - timedelta(seconds=duration), "CallDuration") if finished and duration else None
    outbound = str(params.get("Direction", "")).startswith("outbound")
    caller = text(params, "From", "From", max_length=320)
    callee = text(params, "To", "To", max_length=320)
    return CallDelivery(
        key=f"call:{call_sid}:{value}",
        external_id=call_sid,
        created_at=answered or at,
        identity=Identity(
            Channel.TELEPHONE,
            Direction.OUTBOUND if outbound else Direction.INBOUND,
            user_id=callee if outbound else caller,
            agent_number=caller if outbound else callee,
            caller_name=None if outbound else text(params, "CallerName", "CallerName", max_length=200),
        ),
        status=status,
        started_at=at if status == Status.IN_PROGRESS else answered,
        ended_at=at if finished else None,
        duration_seconds=duration if finished else None,
    )


def _recording(params: dict[str, Any], received_at: datetime) -> CallDelivery | None:
    recording_sid = required_text(params, "RecordingSid", "RecordingSid", max_length=64)
    value = text(params, "RecordingStatus", "RecordingStatus", max_length=32) or "completed"
    if value != "completed":
        return None  # in-progress, absent, failed: nothing to fetch
    call_sid = required_text(params, "CallSid", "CallSid", max_length=64)
    url = required_text(params, "RecordingUrl", "RecordingUrl", max_length=2000)
    return CallDelivery(
        key=f"recording:{recording_sid}:{value}",
        external_id=call_sid,
        created_at=_moment(params, "RecordingStartTime", received_at),
        recording=RecordingLink(url, _whole(params, "RecordingDuration")),
    )


def _message(params: dict[str, Any], received_at: datetime) -> MessageDelivery | None:
    sid = required_text(params, "MessageSid", "MessageSid", max_length=64)
    value = text(params, "MessageStatus", "MessageStatus", max_length=32) or text(
        params, "SmsStatus", "SmsStatus", max_length=32
    )
    inbound = value in _INBOUND_MESSAGE or (value is None and "Body" in params)
    if not inbound and value not in _OUTBOUND_MESSAGE:
        return None
    sender = required_text(params, "From", "From", max_length=320)
    receiver = required_text(params, "To", "To", max_length=320)
    return MessageDelivery(
        # One turn per message: its later statuses (delivered, read) repeat it.
        key=f"sms:{sid}",
        message_id=sid,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        party=sender if inbound else receiver,
        own_number=receiver if inbound else sender,
        # Outbound status callbacks usually carry no Body; the turn is then stored empty.
        text=text(params, "Body", "Body") or "",
        at=received_at,  # Twilio's message webhooks carry no time of their own
    )


def parse(inbound: Inbound) -> Delivery | None:
    params = _flat(inbound)
    if "RecordingSid" in params:
        return _recording(params, inbound.received_at)
    if "MessageSid" in params and "CallSid" not in params:
        return _message(params, inbound.received_at)
    if "CallSid" in params:
        return _call(params, inbound.received_at)
    raise BadRequest("The body has none of CallSid, RecordingSid or MessageSid.")
