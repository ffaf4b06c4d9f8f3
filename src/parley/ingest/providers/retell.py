"""Retell AI: ``call_started``, ``transcript_updated``, ``call_ended`` and ``call_analyzed``,
each ``{"event": ..., "call": {...}}`` with the call object of Retell's get-call API.

Signature: ``x-retell-signature: v=<unix ms>,d=<hex>``, the HMAC-SHA256 of the raw body
followed by the timestamp, keyed with the Retell API key (the one with the webhook badge), and
refused beyond five minutes either way, as the SDK's ``verify`` does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from parley.conversations.enums import Channel, Direction, Status
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
    epoch_time,
    flag,
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

SIGNATURE_HEADER = "x-retell-signature"
TOLERANCE = timedelta(minutes=5)
_SIGNATURE = re.compile(r"v=(\d{1,16}),d=([0-9a-f]{64})")

_LIVE = {"call_started": Status.IN_PROGRESS, "transcript_updated": Status.IN_PROGRESS}
_FINISHED_EVENTS = {"call_ended", "call_analyzed"}

# disconnection_reason -> status; every reason not named here ends a call that was answered
# and hung up normally (user_hangup, agent_hangup, inactivity, max_duration_reached, ...).
_REASONS = {
    "call_transfer": Status.TRANSFERRED,
    "transfer_bridged": Status.TRANSFERRED,
    "voicemail_reached": Status.VOICEMAIL,
    "dial_busy": Status.BUSY,
    "user_declined": Status.BUSY,
    "dial_no_answer": Status.NO_ANSWER,
    "registered_call_timeout": Status.CANCELED,
}
_FAILED_REASONS = {
    "dial_failed",
    "invalid_destination",
    "telephony_provider_permission_denied",
    "telephony_provider_unavailable",
    "sip_routing_error",
    "marked_as_spam",
    "network_blocked",
    "concurrency_limit_reached",
    "no_concurrency_fallback",
    "no_valid_payment",
    "credit_exhausted",
    "budget_reached",
    "scam_detected",
}


def verify(inbound: Inbound, secret: HookSecret) -> None:
    header = inbound.header(SIGNATURE_HEADER)
    if not header:
        reject(f"The {SIGNATURE_HEADER} header is missing.")
    match = _SIGNATURE.fullmatch(header.strip())
    if match is None:
        reject(f"The {SIGNATURE_HEADER} header is not of the form v=<timestamp>,d=<signature>.")
    stamp = int(match.group(1))
    check_age(stamp / 1000, inbound.received_at, TOLERANCE, SIGNATURE_HEADER)
    expected = hmac_hex(require_plain(secret), inbound.body + str(stamp).encode())
    if not same(expected, match.group(2)):
        reject(f"The {SIGNATURE_HEADER} signature does not match the body.")


def status_of(call: dict[str, Any], event: str) -> Status | None:
    if event in _LIVE:
        return _LIVE[event]
    reason = text(call, "disconnection_reason", "call.disconnection_reason", max_length=200)
    if reason in _REASONS:
        return _REASONS[reason]
    if reason in _FAILED_REASONS or (reason or "").startswith("error_"):
        return Status.FAILED
    if reason is None and call.get("call_status") in ("not_connected", "error"):
        return Status.FAILED
    return Status.COMPLETED


def _identity(call: dict[str, Any], agent_id: str) -> Identity:
    web = call.get("call_type") == "web_call"
    outbound = call.get("direction") == "outbound"
    caller = text(call, "from_number", "call.from_number", max_length=320)
    callee = text(call, "to_number", "call.to_number", max_length=320)
    return Identity(
        channel=Channel.WEBRTC if web else Channel.TELEPHONE,
        direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
        user_id=callee if outbound else caller,
        agent_number=caller if outbound else callee,
        agent=Agent(agent_id, text(call, "agent_name", "call.agent_name", max_length=200)),
    )


def _turns(call: dict[str, Any], final: bool) -> tuple[TurnChange, ...]:
    """transcript_object, one utterance per turn, its index the seq. A transfer target is a
    person on the agent's side, so it speaks as the agent."""
    turns = []
    for seq, value in enumerate(array(call, "transcript_object", "call.transcript_object")):
        path = f"call.transcript_object[{seq}]"
        item = as_obj(value, path)
        words = array(item, "words", f"{path}.words")
        first = as_obj(words[0], f"{path}.words[0]") if words else {}
        start = number(first, "start", f"{path}.words[0].start")
        speaker = "caller" if item.get("role") == "user" else "agent"
        content = text(item, "content", f"{path}.content") or ""
        turns.append(TurnChange(seq, speaker, content, offset_ms(start), final))
    return tuple(turns)


def parse(inbound: Inbound) -> CallDelivery | None:
    payload = json_object(inbound.body)
    # "event" in the webhook docs; some of Retell's pages show "event_type": either is taken.
    event = text(payload, "event", "event", max_length=64, strict=True) or required_text(
        payload, "event_type", "event", max_length=64
    )
    call = obj(payload, "call", "call", required=True)
    if event not in _LIVE and event not in _FINISHED_EVENTS:
        return None  # transfer and chat events: nothing the inbox stores
    call_id = required_text(call, "call_id", "call.call_id")
    agent_id = required_text(call, "agent_id", "call.agent_id")
    started = epoch_time(call, "start_timestamp", "call.start_timestamp", unit=0.001)
    ended = epoch_time(call, "end_timestamp", "call.end_timestamp", unit=0.001)
    duration_ms = number(call, "duration_ms", "call.duration_ms")
    analysis = obj(call, "call_analysis", "call.call_analysis")
    custom = obj(analysis, "custom_analysis_data", "call.call_analysis.custom_analysis_data")
    recording_url = text(call, "recording_url", "call.recording_url", max_length=2000, strict=True)
    finished = event in _FINISHED_EVENTS
    key = f"{event}:{call_id}"
    if event == "transcript_updated":  # sent on every turn: each new body is a new delivery
        key += f":{digest_key(inbound.body)}"
    return CallDelivery(
        key=key,
        external_id=call_id,
        created_at=started or inbound.received_at,
        identity=_identity(call, agent_id),
        status=status_of(call, event),
        started_at=started,
        ended_at=ended if finished else None,
        duration_seconds=seconds(duration_ms / 1000) if duration_ms is not None and finished else None,
        turns=_turns(call, final=finished),
        summary=text(analysis, "call_summary", "call.call_analysis.call_summary"),
        ended_reason=text(call, "disconnection_reason", "call.disconnection_reason", max_length=200)
        if finished
        else None,
        sentiment=sentiment(
            text(analysis, "user_sentiment", "call.call_analysis.user_sentiment", max_length=32)
        ),
        successful=flag(analysis, "call_successful", "call.call_analysis.call_successful"),
        tags=true_flags(custom) if custom else None,
        recording=RecordingLink(recording_url, seconds(duration_ms / 1000) if duration_ms else None)
        if recording_url and finished
        else None,
    )
