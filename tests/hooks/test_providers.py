"""Vapi, ElevenLabs and Twilio voice deliveries end to end, read back through the API (Retell
has its own module)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.config import Settings
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.conftest import AudioServer
from tests.hooks.helpers import agent_external_id, detail, job_rows, run_jobs
from tests.hooks.senders import Sender
from tests.hooks.test_retell import _wav

FINAL_TURNS = [(speaker, text, True) for speaker, text, _ in payloads.TURNS]


def _turns(found: dict[str, object]) -> list[tuple[object, object, object]]:
    return [(t["speaker"], t["text"], t["final"]) for t in found["transcript"]]  # type: ignore[attr-defined, index]


def test_vapi_call(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    acme: OrgFixture,
    sender: Sender,
    audio_server: AudioServer,
) -> None:
    audio_server.files["/vapi.wav"] = (200, "audio/wav", _wav())
    story = payloads.Story(
        "0b6d4c1e-7a3f-4e2b-9c8d-5f1a2b3c4d5e", recording_url=audio_server.url("/vapi.wav")
    )
    bodies = payloads.vapi(story)
    sender.deliver("vapi", bodies[0])
    assert detail(client, acme, story.call_id, engine)["status"] == "ringing"
    sender.deliver("vapi", bodies[1])
    sender.deliver("vapi", bodies[2])
    live = detail(client, acme, story.call_id, engine)
    assert live["status"] == "in_progress"
    assert [(t["seq"], t["final"]) for t in live["transcript"]] == [
        (0, False),
        (1, False),
    ]  # the system prompt is no turn
    for item in bodies[3:]:
        sender.deliver("vapi", item)
    done = detail(client, acme, story.call_id, engine)
    assert done["status"] == "completed" and _turns(done) == FINAL_TURNS
    assert (done["user_id"], done["agent_number"], done["caller_name"]) == (
        payloads.CALLER,
        payloads.AGENT_NUMBER,
        "Ada Lovelace",
    )
    assert agent_external_id(engine, acme, done["agent"]["id"]) == story.agent_id
    assert (done["summary"], done["ended_reason"]) == (payloads.SUMMARY, "customer-ended-call")
    assert (done["sentiment"], done["successful"], done["tags"]) == ("positive", True, ["rescheduled"])
    assert done["duration_seconds"] == payloads.DURATION and done["has_recording"] is False
    run_jobs(engine, settings)
    assert detail(client, acme, story.call_id, engine)["has_recording"] is True


def test_vapi_ended_reasons(client: TestClient, engine: Engine, acme: OrgFixture, sender: Sender) -> None:
    expected = {
        "customer-busy": "busy",
        "customer-did-not-answer": "no_answer",
        "voicemail": "voicemail",
        "assistant-forwarded-call": "transferred",
        "pipeline-error-openai-llm-failed": "failed",
        "silence-timed-out": "completed",
    }
    for n, (reason, status) in enumerate(expected.items()):
        story = payloads.Story(f"vapi-reason-{n}")
        message = payloads.vapi_message(
            story, "status-update", status="ended", endedReason=reason, ended=True
        )
        sender.deliver("vapi", payloads.body(message))
        found = detail(client, acme, story.call_id, engine)
        assert (found["status"], found["ended_reason"]) == (status, reason)


def test_elevenlabs_conversation_with_inline_audio(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture, sender: Sender
) -> None:
    story = payloads.Story("conv_01jx8f3e2d1c0b9a")
    transcription, audio = payloads.elevenlabs(story)
    sender.deliver("elevenlabs", transcription)
    done = detail(client, acme, story.call_id, engine)
    assert done["status"] == "completed" and _turns(done) == FINAL_TURNS  # the tool call is no turn
    assert [t["offset_ms"] for t in done["transcript"]] == [0, 3000, 6000]
    assert (done["channel"], done["direction"]) == ("telephone", "inbound")
    assert (done["user_id"], done["agent_number"]) == (payloads.CALLER, payloads.AGENT_NUMBER)
    assert (done["summary"], done["ended_reason"]) == (payloads.SUMMARY, "Call ended by remote party")
    assert (done["sentiment"], done["successful"], done["tags"]) == ("positive", True, ["rescheduled"])
    assert done["created_at"] == "2026-11-20T10:00:00.000Z" and done["duration_seconds"] == payloads.DURATION
    assert done["has_recording"] is False
    sender.deliver("elevenlabs", audio)  # the audio itself: stored at once, no job
    with_audio = detail(client, acme, story.call_id, engine)
    assert with_audio["has_recording"] is True and job_rows(engine) == []
    token = {"Authorization": f"Bearer {acme.tokens['sensitive']}"}
    assert client.get(with_audio["recording_url"], headers=token).content == payloads.MP3
    sender.deliver("elevenlabs", audio)  # repeated: ignored, its file not kept
    files = [p for p in settings.recordings_dir.rglob("*") if p.is_file()]
    assert len(files) == 1


def test_elevenlabs_web_conversation_and_initiation_failure(
    client: TestClient, engine: Engine, acme: OrgFixture, sender: Sender
) -> None:
    story = payloads.Story("conv_web_1")
    data = payloads.elevenlabs_data(story)
    del data["metadata"]["phone_call"]
    data["user_id"] = "visitor-42"
    sender.deliver("elevenlabs", payloads.body({"type": "post_call_transcription", "data": data}))
    web = detail(client, acme, story.call_id, engine)
    assert (web["channel"], web["user_id"], web["agent_number"]) == ("webrtc", "visitor-42", None)
    failure = {
        "type": "call_initiation_failure",
        "data": {
            "agent_id": story.agent_id,
            "conversation_id": "conv_failed_1",
            "failure_reason": "busy",
            "metadata": {"type": "twilio", "body": {"From": payloads.AGENT_NUMBER, "To": payloads.CALLER}},
        },
    }
    sender.deliver("elevenlabs", payloads.body(failure))
    failed = detail(client, acme, "conv_failed_1", engine)
    assert (failed["status"], failed["direction"], failed["user_id"]) == ("busy", "outbound", payloads.CALLER)


def test_twilio_call_and_recording(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    acme: OrgFixture,
    sender: Sender,
    audio_server: AudioServer,
) -> None:
    audio_server.files["/2010-04-01/Accounts/AC1/Recordings/RE1"] = (200, "audio/x-wav", _wav())
    url = audio_server.url("/2010-04-01/Accounts/AC1/Recordings/RE1")
    story = payloads.Story("CA0123456789abcdef0123456789abcdef", recording_url=url)
    callbacks = payloads.twilio(story)
    sender.deliver("twilio", callbacks[0])
    assert detail(client, acme, story.call_id, engine)["status"] == "queued"
    sender.deliver("twilio", callbacks[1])
    assert detail(client, acme, story.call_id, engine)["status"] == "ringing"
    for item in callbacks[2:]:
        sender.deliver("twilio", item)
    done = detail(client, acme, story.call_id, engine)
    assert done["status"] == "completed" and done["agent"] is None  # Twilio has no agents
    assert (done["user_id"], done["agent_number"], done["caller_name"]) == (
        payloads.CALLER,
        payloads.AGENT_NUMBER,
        "LOVELACE ADA",
    )
    assert done["started_at"] == "2026-11-20T10:00:05.000Z" and done["ended_at"] == "2026-11-20T10:01:35.000Z"
    assert done["duration_seconds"] == 90 and done["has_recording"] is False
    run_jobs(engine, settings)
    fetched = detail(client, acme, story.call_id, engine)
    assert fetched["has_recording"] is True
    assert fetched["recordings"][0]["content_type"] == "audio/wav"


def test_twilio_outcomes(client: TestClient, engine: Engine, acme: OrgFixture, sender: Sender) -> None:
    for n, (value, status) in enumerate(
        [("busy", "busy"), ("no-answer", "no_answer"), ("canceled", "canceled")]
    ):
        story = payloads.Story(f"CA{n:032d}")
        params = {**payloads.twilio(story)[0], "CallStatus": value, "Direction": "outbound-api"}
        sender.deliver("twilio", params)
        found = detail(client, acme, story.call_id, engine)
        # Outbound: the agent's number is From, the person called is To.
        assert (found["status"], found["direction"], found["user_id"]) == (
            status,
            "outbound",
            payloads.AGENT_NUMBER,
        )
    machine = payloads.Story("CA" + "9" * 32)
    completed = {**payloads.twilio(machine)[3], "AnsweredBy": "machine_end_beep"}
    sender.deliver("twilio", completed)
    assert detail(client, acme, machine.call_id, engine)["status"] == "voicemail"
