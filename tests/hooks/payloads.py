"""One call, told the way each provider tells it: the deliveries, in the order the provider
sends them, built from the providers' documented payloads. Retell's call objects and
ElevenLabs' conversation data are checked against the models of their own SDKs, so a field we
misnamed fails here rather than passing against our own idea of the payload."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import orjson
from elevenlabs.types import GetConversationResponseModel
from retell.types import PhoneCallResponse

START = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
CALLER = "+14155550123"
AGENT_NUMBER = "+18005550100"
DURATION = 95
TURNS = (  # (speaker, text, seconds from start)
    ("agent", "Thanks for calling Acme Health, how can I help?", 0.4),
    ("caller", "I need to move my appointment to Friday.", 3.1),
    ("agent", "Done, you are booked for Friday at ten.", 6.0),
)
SUMMARY = "The caller moved their appointment to Friday at ten."
# A tiny MP3 as far as sniffing goes: an ID3 header, then frames.
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64


@dataclass(frozen=True)
class Story:
    call_id: str
    agent_id: str = "agent_5f0c1e2d3b4a"
    recording_url: str = "http://127.0.0.1:9/never-fetched.wav"
    start: datetime = START
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=DURATION)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def body(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value)


# Retell ----------------------------------------------------------------------------------------


def _retell_turns(count: int, partial_last: bool = False) -> list[dict[str, Any]]:
    items = []
    for n, (speaker, text, at) in enumerate(TURNS[:count]):
        words = text.split()
        if partial_last and n == count - 1:
            words = words[:3]  # the live transcript had only heard the start of it
        items.append(
            {
                "role": "user" if speaker == "caller" else "agent",
                "content": " ".join(words),
                "words": [
                    {"word": w, "start": at + i * 0.3, "end": at + i * 0.3 + 0.25}
                    for i, w in enumerate(words)
                ],
            }
        )
    return items


def retell_call(story: Story, stage: str) -> dict[str, Any]:
    call: dict[str, Any] = {
        "call_type": "phone_call",
        "call_id": story.call_id,
        "agent_id": story.agent_id,
        "agent_version": 3,
        "agent_name": "Appointment Scheduler",
        "call_status": "ongoing",
        "direction": "inbound",
        "from_number": CALLER,
        "to_number": AGENT_NUMBER,
        "start_timestamp": ms(story.start),
        "metadata": {},
        "retell_llm_dynamic_variables": {"customer_name": "Ada"},
    }
    if stage == "transcript_1":
        call["transcript_object"] = _retell_turns(2, partial_last=True)
    elif stage == "transcript_2":
        call["transcript_object"] = _retell_turns(3, partial_last=True)
    elif stage in ("ended", "analyzed"):
        call.update(
            call_status="ended",
            end_timestamp=ms(story.end),
            duration_ms=DURATION * 1000,
            disconnection_reason="user_hangup",
            transcript="\n".join(f"{s}: {t}" for s, t, _ in TURNS),
            transcript_object=_retell_turns(3),
            recording_url=story.recording_url,
        )
    if stage == "analyzed":
        call["call_analysis"] = {
            "call_summary": SUMMARY,
            "user_sentiment": "Positive",
            "call_successful": True,
            "in_voicemail": False,
            "custom_analysis_data": {"rescheduled": True, "new_patient": False},
        }
    PhoneCallResponse.model_validate(call)  # the SDK's own model of a call
    return call


RETELL_EVENTS = (
    ("call_started", "started"),
    ("transcript_updated", "transcript_1"),
    ("transcript_updated", "transcript_2"),
    ("call_ended", "ended"),
    ("call_analyzed", "analyzed"),
)


def retell(story: Story) -> list[bytes]:
    return [body({"event": event, "call": retell_call(story, stage)}) for event, stage in RETELL_EVENTS]


# Vapi ------------------------------------------------------------------------------------------


def _vapi_messages(count: int, partial_last: bool = False) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [{"role": "system", "message": "You schedule appointments.", "time": 0}]
    for n, (speaker, text, at) in enumerate(TURNS[:count]):
        words = text.split()[:3] if partial_last and n == count - 1 else text.split()
        items.append(
            {
                "role": "user" if speaker == "caller" else "bot",
                "message": " ".join(words),
                "time": ms(START) + int(at * 1000),
                "endTime": ms(START) + int(at * 1000) + 2000,
                "secondsFromStart": at,
                "duration": 2000,
            }
        )
    return items


def vapi_message(story: Story, kind: str, **fields: Any) -> dict[str, Any]:
    call: dict[str, Any] = {
        "id": story.call_id,
        "orgId": "org_7a1c",
        "type": "inboundPhoneCall",
        "assistantId": story.agent_id,
        "phoneNumberId": "pn_3b9d",
        "customer": {"number": CALLER, "name": "Ada Lovelace"},
        "phoneNumber": {"number": AGENT_NUMBER},
        "createdAt": story.start.isoformat().replace("+00:00", "Z"),
        "status": fields.pop("call_status", "in-progress"),
    }
    if kind != "status-update" or fields.get("status") != "ringing":
        call["startedAt"] = call["createdAt"]
    if fields.pop("ended", False):
        call["endedAt"] = story.end.isoformat().replace("+00:00", "Z")
        call["endedReason"] = "customer-ended-call"
    return {
        "message": {
            "type": kind,
            "timestamp": ms(story.start) + 1000,
            "call": call,
            "assistant": {"name": "Appointment Scheduler"},
            "phoneNumber": {"number": AGENT_NUMBER},
            "customer": {"number": CALLER},
            **fields,
        }
    }


def vapi(story: Story) -> list[bytes]:
    end = story.end.isoformat().replace("+00:00", "Z")
    report = {
        "endedReason": "customer-ended-call",
        "startedAt": story.start.isoformat().replace("+00:00", "Z"),
        "endedAt": end,
        "durationSeconds": DURATION,
        "cost": 0.12,
        "artifact": {
            "messages": _vapi_messages(3),
            "transcript": "\n".join(f"{s}: {t}" for s, t, _ in TURNS),
            "recordingUrl": story.recording_url,
        },
        "analysis": {
            "summary": SUMMARY,
            "successEvaluation": "true",
            "structuredData": {"sentiment": "positive", "rescheduled": True, "new_patient": False},
        },
    }
    return [
        body(vapi_message(story, "status-update", status="ringing", call_status="ringing")),
        body(vapi_message(story, "status-update", status="in-progress")),
        body(vapi_message(story, "conversation-update", messages=_vapi_messages(2, partial_last=True))),
        body(vapi_message(story, "conversation-update", messages=_vapi_messages(3, partial_last=True))),
        body(
            vapi_message(
                story, "status-update", status="ended", endedReason="customer-ended-call", ended=True
            )
        ),
        body(vapi_message(story, "end-of-call-report", ended=True, call_status="ended", **report)),
    ]


# ElevenLabs ------------------------------------------------------------------------------------


def elevenlabs_data(story: Story) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agent_id": story.agent_id,
        "agent_name": "Appointment Scheduler",
        "conversation_id": story.call_id,
        "status": "done",
        "user_id": None,
        "transcript": [
            {"role": "user" if s == "caller" else "agent", "message": t, "time_in_call_secs": int(at)}
            for s, t, at in TURNS
        ]
        + [{"role": "agent", "message": None, "time_in_call_secs": 7, "tool_calls": []}],
        "metadata": {
            "start_time_unix_secs": int(story.start.timestamp()),
            "call_duration_secs": DURATION,
            "termination_reason": "Call ended by remote party",
            "phone_call": {
                "type": "twilio",
                "direction": "inbound",
                "phone_number_id": "pn_9c2e",
                "agent_number": AGENT_NUMBER,
                "external_number": CALLER,
                "stream_sid": "MZ00000000000000000000000000000001",
                "call_sid": "CA00000000000000000000000000000001",
            },
        },
        "analysis": {
            "call_successful": "success",
            "transcript_summary": SUMMARY,
            "evaluation_criteria_results": {
                "rescheduled": {"criteria_id": "rescheduled", "result": "success", "rationale": "Moved."},
                "upsold": {"criteria_id": "upsold", "result": "failure", "rationale": "No offer."},
            },
            "data_collection_results": {
                "sentiment": {
                    "data_collection_id": "sentiment",
                    "value": "positive",
                    "rationale": "Thanked.",
                },
            },
        },
        "has_audio": True,
        "has_user_audio": True,
        "has_response_audio": True,
        "has_auxiliary_audio": False,
    }
    GetConversationResponseModel.model_validate(data)  # the SDK's model of this data
    return data


def elevenlabs(story: Story) -> list[bytes]:
    stamp = int(story.end.timestamp()) + 5
    audio = {
        "agent_id": story.agent_id,
        "conversation_id": story.call_id,
        "full_audio": base64.b64encode(MP3).decode(),
    }
    return [
        body({"type": "post_call_transcription", "event_timestamp": stamp, "data": elevenlabs_data(story)}),
        body({"type": "post_call_audio", "event_timestamp": stamp, "data": audio}),
    ]


# Twilio ----------------------------------------------------------------------------------------


def _twilio_call(story: Story, status: str, at: datetime, sequence: int) -> dict[str, str]:
    params = {
        "AccountSid": "AC00000000000000000000000000000001",
        "ApiVersion": "2010-04-01",
        "CallSid": story.call_id,
        "CallStatus": status,
        "Direction": "inbound",
        "From": CALLER,
        "Caller": CALLER,
        "To": AGENT_NUMBER,
        "Called": AGENT_NUMBER,
        "CallerName": "LOVELACE ADA",
        "CallbackSource": "call-progress-events",
        "SequenceNumber": str(sequence),
        "Timestamp": format_datetime(at),
    }
    if status == "completed":
        params["CallDuration"] = str(DURATION - 5)
        params["Duration"] = "2"
    return params


def twilio(story: Story) -> list[dict[str, str]]:
    answered = story.start + timedelta(seconds=5)
    recording = {
        "AccountSid": "AC00000000000000000000000000000001",
        "CallSid": story.call_id,
        "RecordingSid": "RE" + story.call_id[2:],
        "RecordingUrl": story.recording_url,
        "RecordingStatus": "completed",
        "RecordingDuration": str(DURATION - 5),
        "RecordingChannels": "1",
        "RecordingSource": "StartCallRecordingAPI",
        "RecordingStartTime": format_datetime(answered),
    }
    return [
        _twilio_call(story, "initiated", story.start, 0),
        _twilio_call(story, "ringing", story.start + timedelta(seconds=1), 1),
        _twilio_call(story, "in-progress", answered, 2),
        _twilio_call(story, "completed", story.end, 3),
        recording,
    ]


def sms(message_sid: str, text: str, inbound: bool = True, status: str | None = None) -> dict[str, str]:
    sender, receiver = (CALLER, AGENT_NUMBER) if inbound else (AGENT_NUMBER, CALLER)
    params = {
        "AccountSid": "AC00000000000000000000000000000001",
        "ApiVersion": "2010-04-01",
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "From": sender,
        "To": receiver,
    }
    if inbound:
        params.update(
            SmsMessageSid=message_sid, SmsStatus="received", Body=text, NumMedia="0", NumSegments="1"
        )
    else:  # a status callback: no Body, as Twilio sends them
        params.update(MessageStatus=status or "sent", SmsStatus=status or "sent")
    return params
