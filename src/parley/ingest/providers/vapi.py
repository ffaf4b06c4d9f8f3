"""Vapi server messages: ``{"message": {"type": ..., "call": {...}, ...}}``. Stored:
``status-update`` (queued, ringing, in-progress, forwarding, ended), ``conversation-update``
(the conversation so far, as partial turns) and ``end-of-call-report`` (final transcript,
analysis, recording). ``transcript`` fragments carry no turn index, so they are acknowledged
and left to ``conversation-update``; so are tool calls and the other request types.

Two ways to authenticate, chosen when the hook is made:
- ``hmac`` (the default): a Vapi custom credential of type HMAC with algorithm sha256, its
  defaults otherwise: ``x-signature`` = hex HMAC-SHA256 of ``{timestamp}.{body}``,
  ``x-timestamp`` = the Unix time (seconds or milliseconds), refused beyond five minutes.
- ``secret``: the server URL secret Vapi sends as ``x-vapi-secret``; only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from parley.conversations.enums import Channel, Direction, Status
from parley.errors import BadRequest
from parley.ingest.providers.common import (
    Agent,
    CallDelivery,
    HookSecret,
    Identity,
    Inbound,
    RecordingLink,
    array,
    as_obj,
    check_age,
    digest_key,
    hmac_hex,
    iso_time,
    json_object,
    number,
    obj,
    offset_ms,
    reject,
    require_plain,
    required_text,
    same,
    seconds,
    sentiment,
    sha256_hex,
    text,
    true_flags,
)
from parley.ingest.service import TurnChange

SECRET_HEADER = "x-vapi-secret"
SIGNATURE_HEADER = "x-signature"
TIMESTAMP_HEADER = "x-timestamp"
TOLERANCE = timedelta(minutes=5)
_MILLIS_FROM = 10**11  # a Unix time above this is in milliseconds (seconds pass it in 5138)

_STATUSES = {
    "scheduled": Status.QUEUED,
    "queued": Status.QUEUED,
    "ringing": Status.RINGING,
    "in-progress": Status.IN_PROGRESS,
    "forwarding": Status.IN_PROGRESS,  # the transfer's outcome comes with the end
}
_SPEAKERS = {"bot": "agent", "assistant": "agent", "user": "caller"}
_CALL_TYPES = {
    "inboundPhoneCall": (Channel.TELEPHONE, Direction.INBOUND),
    "outboundPhoneCall": (Channel.TELEPHONE, Direction.OUTBOUND),
    "webCall": (Channel.WEBRTC, Direction.INBOUND),
}


def verify(inbound: Inbound, secret: HookSecret) -> None:
    if secret.digest is not None:
        given = inbound.header(SECRET_HEADER)
        if not given:
            reject(f"The {SECRET_HEADER} header is missing.")
        if not same(secret.digest, sha256_hex(given.encode())):
            reject(f"The {SECRET_HEADER} header does not match this hook's secret.")
        return
    signature = inbound.header(SIGNATURE_HEADER)
    stamp = inbound.header(TIMESTAMP_HEADER)
    if not signature or not stamp:
        reject(f"The {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} headers are required.")
    stamp = stamp.strip()
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 16:
        reject(f"The {TIMESTAMP_HEADER} header is not a Unix time.")
    value = int(stamp)
    check_age(
        value / 1000 if value >= _MILLIS_FROM else value, inbound.received_at, TOLERANCE, TIMESTAMP_HEADER
    )
    expected = hmac_hex(require_plain(secret), stamp.encode() + b"." + inbound.body)
    given = signature.strip().removeprefix("sha256=")
    if not same(expected, given):
        reject(f"The {SIGNATURE_HEADER} signature does not match the body.")


def ended_status(reason: str | None) -> Status:
    """endedReason -> status: Vapi's reasons are hyphenated phrases, grouped by what they say."""
    r = reason or ""
    if "busy" in r:
        return Status.BUSY
    if "did-not-answer" in r or "no-answer" in r:
        return Status.NO_ANSWER
    if "voicemail" in r:
        return Status.VOICEMAIL
    if "forwarded" in r or "transfer" in r:
        return Status.TRANSFERRED
    if "canceled" in r or "cancelled" in r:
        return Status.CANCELED
    if any(word in r for word in ("error", "failed", "fault", "invalid", "microphone")):
        return Status.FAILED
    return Status.COMPLETED


def _identity(message: dict[str, Any], call: dict[str, Any]) -> Identity:
    channel, direction = _CALL_TYPES.get(str(call.get("type")), (Channel.TELEPHONE, Direction.INBOUND))
    customer = obj(call, "customer", "message.call.customer") or obj(message, "customer", "message.customer")
    phone = obj(call, "phoneNumber", "message.call.phoneNumber") or obj(
        message, "phoneNumber", "message.phoneNumber"
    )
    assistant = obj(message, "assistant", "message.assistant") or obj(
        call, "assistant", "message.call.assistant"
    )
    assistant_id = text(call, "assistantId", "message.call.assistantId", max_length=255)
    name = text(assistant, "name", "message.assistant.name", max_length=200)
    return Identity(
        channel=channel,
        direction=direction,
        user_id=text(customer, "number", "message.call.customer.number", max_length=320),
        agent_number=text(phone, "number", "message.phoneNumber.number", max_length=320),
        caller_name=text(customer, "name", "message.call.customer.name", max_length=200),
        # A transient assistant (sent inline, never saved in Vapi) has no id to know it by.
        agent=Agent(assistant_id, name) if assistant_id else None,
    )


def _turns(items: list[Any], path: str, final: bool) -> tuple[TurnChange, ...]:
    """Spoken messages in order, their index among spoken ones the seq (system prompts and
    tool calls are not turns)."""
    turns: list[TurnChange] = []
    for n, value in enumerate(items):
        item = as_obj(value, f"{path}[{n}]")
        speaker = _SPEAKERS.get(str(item.get("role")))
        if speaker is None:
            continue
        words = text(item, "message", f"{path}[{n}].message") or text(item, "content", f"{path}[{n}].content")
        offset = number(item, "secondsFromStart", f"{path}[{n}].secondsFromStart")
        turns.append(TurnChange(len(turns), speaker, words or "", offset_ms(offset), final))
    return tuple(turns)


def _success(value: Any) -> bool | None:
    """successEvaluation is "true"/"false" with the default rubric; a score or grade is not a
    yes or no, so it is left out."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def parse(inbound: Inbound) -> CallDelivery | None:
    payload = json_object(inbound.body)
    message = obj(payload, "message", "message", required=True)
    kind = required_text(message, "type", "message.type", max_length=64)
    if kind not in ("status-update", "conversation-update", "end-of-call-report"):
        return None
    call = obj(message, "call", "message.call", required=True)
    call_id = required_text(call, "id", "message.call.id")
    key = f"{kind}:{call_id}"
    reason = text(message, "endedReason", "message.endedReason", max_length=200) or text(
        call, "endedReason", "message.call.endedReason", max_length=200
    )
    if kind == "status-update":
        value = required_text(message, "status", "message.status", max_length=32)
        if value != "ended" and value not in _STATUSES:
            return None  # not-found, deletion-failed: nothing about the call itself
        final = value == "ended"
        status = ended_status(reason) if final else _STATUSES[value]
        key += f":{value}"
    elif kind == "conversation-update":  # sent on every turn: each new body is a new delivery
        final, status = False, Status.IN_PROGRESS
        key += f":{digest_key(inbound.body)}"
    else:
        final, status = True, ended_status(reason)
    artifact = obj(message, "artifact", "message.artifact")
    spoken = "message.artifact.messages"
    items = array(artifact, "messages", spoken)
    if not items:
        spoken = "message.messages"
        items = array(message, "messages", spoken)
    created = iso_time(call, "createdAt", "message.call.createdAt")
    started = iso_time(message, "startedAt", "message.startedAt") or iso_time(
        call, "startedAt", "message.call.startedAt"
    )
    ended = iso_time(message, "endedAt", "message.endedAt") or iso_time(
        call, "endedAt", "message.call.endedAt"
    )
    duration = number(message, "durationSeconds", "message.durationSeconds")
    if duration is None and started and ended:
        duration = (ended - started).total_seconds()
    analysis = obj(message, "analysis", "message.analysis") or obj(call, "analysis", "message.call.analysis")
    structured = analysis.get("structuredData")
    if structured is not None and not isinstance(structured, dict):
        raise BadRequest(
            "message.analysis.structuredData must be a JSON object.",
            parameter="message.analysis.structuredData",
        )
    recording_url = text(
        artifact, "recordingUrl", "message.artifact.recordingUrl", max_length=2000, strict=True
    ) or text(message, "recordingUrl", "message.recordingUrl", max_length=2000, strict=True)
    return CallDelivery(
        key=key,
        external_id=call_id,
        created_at=created or started or inbound.received_at,
        identity=_identity(message, call),
        status=status,
        started_at=started,
        ended_at=ended if final else None,
        duration_seconds=seconds(duration) if final else None,
        turns=_turns(items, spoken, final=kind == "end-of-call-report") if kind != "status-update" else (),
        summary=text(analysis, "summary", "message.analysis.summary")
        or text(message, "summary", "message.summary"),
        ended_reason=reason if final else None,
        sentiment=sentiment(
            text(structured or {}, "sentiment", "message.analysis.structuredData.sentiment", max_length=32)
        ),
        successful=_success(analysis.get("successEvaluation")),
        tags=true_flags(structured) if structured else None,
        recording=RecordingLink(recording_url, seconds(duration)) if recording_url and final else None,
    )
