"""ElevenLabs Agents post-call webhooks: ``{"type": ..., "event_timestamp": ..., "data": {...}}``
with ``post_call_transcription`` (the whole conversation as its GET conversation API returns
it: transcript, analysis, metadata), ``post_call_audio`` (the audio itself, base64 MP3) and
``call_initiation_failure`` (an outbound call that never connected).

Signature: ``ElevenLabs-Signature: t=<unix seconds>,v0=<hex>``, the HMAC-SHA256 of
``{t}.{body}`` keyed with the webhook's shared secret, refused beyond 30 minutes (the SDK's
``construct_event`` window).
"""

from __future__ import annotations

import base64
import binascii
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
    InlineAudio,
    array,
    as_obj,
    check_age,
    epoch_time,
    hmac_hex,
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
    text,
    true_flags,
)
from parley.ingest.service import TurnChange

SIGNATURE_HEADER = "elevenlabs-signature"
TOLERANCE = timedelta(minutes=30)
_SUCCESS = {"success": True, "failure": False}
_FAILURES = {"busy": Status.BUSY, "no-answer": Status.NO_ANSWER}


def verify(inbound: Inbound, secret: HookSecret) -> None:
    header = inbound.header(SIGNATURE_HEADER)
    if not header:
        reject("The ElevenLabs-Signature header is missing.")
    parts = dict(part.strip().partition("=")[::2] for part in header.split(","))
    stamp, signature = parts.get("t", ""), parts.get("v0", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not signature:
        reject("The ElevenLabs-Signature header is not of the form t=<timestamp>,v0=<signature>.")
    check_age(int(stamp), inbound.received_at, TOLERANCE, "ElevenLabs-Signature")
    expected = hmac_hex(require_plain(secret), stamp.encode() + b"." + inbound.body)
    if not same(expected, signature):
        reject("The ElevenLabs-Signature signature does not match the body.")


def _phone(metadata: dict[str, Any]) -> dict[str, Any]:
    return obj(metadata, "phone_call", "data.metadata.phone_call")


def _identity(data: dict[str, Any], agent_id: str) -> Identity:
    phone = _phone(obj(data, "metadata", "data.metadata"))
    outbound = phone.get("direction") == "outbound"
    return Identity(
        channel=Channel.TELEPHONE if phone else Channel.WEBRTC,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        user_id=text(phone, "external_number", "data.metadata.phone_call.external_number", max_length=320)
        or text(data, "user_id", "data.user_id", max_length=320),
        agent_number=text(phone, "agent_number", "data.metadata.phone_call.agent_number", max_length=320),
        agent=Agent(agent_id, text(data, "agent_name", "data.agent_name", max_length=200)),
    )


def _turns(data: dict[str, Any]) -> tuple[TurnChange, ...]:
    """Spoken entries in order (tool calls without words are not turns)."""
    turns: list[TurnChange] = []
    for n, value in enumerate(array(data, "transcript", "data.transcript")):
        path = f"data.transcript[{n}]"
        item = as_obj(value, path)
        words = text(item, "message", f"{path}.message")
        if words is None:
            continue
        speaker = "caller" if item.get("role") == "user" else "agent"
        offset = number(item, "time_in_call_secs", f"{path}.time_in_call_secs")
        turns.append(TurnChange(len(turns), speaker, words, offset_ms(offset), True))
    return tuple(turns)


def _tags(analysis: dict[str, Any]) -> tuple[str, ...] | None:
    """Evaluation criteria met and data-collection items that came out true."""
    met: dict[str, Any] = {}
    for name, result in obj(
        analysis, "evaluation_criteria_results", "data.analysis.evaluation_criteria_results"
    ).items():
        met[name] = isinstance(result, dict) and result.get("result") == "success"
    for name, result in obj(
        analysis, "data_collection_results", "data.analysis.data_collection_results"
    ).items():
        met[name] = isinstance(result, dict) and result.get("value") is True
    return true_flags(met) if met else None


def _sentiment(analysis: dict[str, Any]) -> Any:
    """ElevenLabs has no sentiment of its own: a data-collection item named "sentiment" is it."""
    item = obj(analysis, "data_collection_results", "data.analysis.data_collection_results").get("sentiment")
    value = item.get("value") if isinstance(item, dict) else None
    return sentiment(value if isinstance(value, str) else None)


def parse(inbound: Inbound) -> CallDelivery | None:
    payload = json_object(inbound.body)
    kind = required_text(payload, "type", "type", max_length=64)
    if kind not in ("post_call_transcription", "post_call_audio", "call_initiation_failure"):
        return None
    data = obj(payload, "data", "data", required=True)
    conversation_id = required_text(data, "conversation_id", "data.conversation_id")
    agent_id = required_text(data, "agent_id", "data.agent_id")
    key = f"{kind}:{conversation_id}"
    if kind == "post_call_audio":
        encoded = required_text(data, "full_audio", "data.full_audio", max_length=2**40)
        try:
            audio = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("data.full_audio is not base64.", parameter="data.full_audio") from None
        # Audio alone says nothing of who called: the transcription delivery sets that.
        return CallDelivery(key, conversation_id, inbound.received_at, audio=InlineAudio(audio))
    if kind == "call_initiation_failure":
        reason = text(data, "failure_reason", "data.failure_reason", max_length=200)
        body = obj(obj(data, "metadata", "data.metadata"), "body", "data.metadata.body")
        return CallDelivery(
            key,
            conversation_id,
            inbound.received_at,
            identity=Identity(
                Channel.TELEPHONE,
                Direction.OUTBOUND,  # only outbound calls fail to be initiated
                user_id=text(body, "To", "data.metadata.body.To", max_length=320),
                agent_number=text(body, "From", "data.metadata.body.From", max_length=320),
                agent=Agent(agent_id),
            ),
            status=_FAILURES.get(reason or "", Status.FAILED),
            ended_reason=reason,
        )
    metadata = obj(data, "metadata", "data.metadata")
    start = epoch_time(metadata, "start_time_unix_secs", "data.metadata.start_time_unix_secs")
    duration = seconds(number(metadata, "call_duration_secs", "data.metadata.call_duration_secs"))
    analysis = obj(data, "analysis", "data.analysis")
    return CallDelivery(
        key=key,
        external_id=conversation_id,
        created_at=start or inbound.received_at,
        identity=_identity(data, agent_id),
        status=Status.FAILED if data.get("status") == "failed" else Status.COMPLETED,
        started_at=start,
        ended_at=start + timedelta(seconds=duration) if start and duration is not None else None,
        duration_seconds=duration,
        turns=_turns(data),
        summary=text(analysis, "transcript_summary", "data.analysis.transcript_summary"),
        ended_reason=text(metadata, "termination_reason", "data.metadata.termination_reason", max_length=200),
        sentiment=_sentiment(analysis),
        successful=_SUCCESS.get(str(analysis.get("call_successful"))),
        tags=_tags(analysis),
    )
