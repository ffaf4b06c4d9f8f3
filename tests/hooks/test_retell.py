"""Retell deliveries end to end: signed with Retell's SDK, posted to the real app, read back
through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.config import Settings
from parley.ingest import summaries
from parley.recordings import fetch
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.conftest import AudioServer
from tests.hooks.helpers import agent_external_id, count, detail, job_rows, run_jobs
from tests.hooks.senders import Sender


def test_a_call_from_start_to_analysis(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    acme: OrgFixture,
    sender: Sender,
    audio_server: AudioServer,
) -> None:
    audio_server.files["/rec/call_1.wav"] = (200, "audio/wav", _wav())
    story = payloads.Story("call_a1b2c3", recording_url=audio_server.url("/rec/call_1.wav"))
    bodies = payloads.retell(story)

    sender.deliver("retell", bodies[0])  # call_started
    live = detail(client, acme, story.call_id, engine)
    assert live["status"] == "in_progress" and live["transcript"] == []
    assert live["external_id"] == "call_a1b2c3"
    assert (live["channel"], live["direction"]) == ("telephone", "inbound")
    assert (live["user_id"], live["agent_number"]) == (payloads.CALLER, payloads.AGENT_NUMBER)
    assert live["agent"]["name"] == "Appointment Scheduler"
    assert agent_external_id(engine, acme, live["agent"]["id"]) == story.agent_id

    sender.deliver("retell", bodies[1])  # a live transcript: partial turns
    turns = detail(client, acme, story.call_id, engine)["transcript"]
    assert [(t["seq"], t["final"]) for t in turns] == [(0, False), (1, False)]
    assert turns[1]["text"] == "I need to"

    for item in bodies[2:]:
        sender.deliver("retell", item)
    done = detail(client, acme, story.call_id, engine)
    assert done["status"] == "completed"
    assert [(t["speaker"], t["text"], t["final"]) for t in done["transcript"]] == [
        (speaker, text, True) for speaker, text, _ in payloads.TURNS
    ]
    assert [t["offset_ms"] for t in done["transcript"]] == [400, 3100, 6000]
    assert done["summary"] == payloads.SUMMARY
    assert (done["ended_reason"], done["sentiment"], done["successful"]) == ("user_hangup", "positive", True)
    assert done["tags"] == ["rescheduled"]
    assert done["duration_seconds"] == payloads.DURATION
    assert done["started_at"] == "2026-11-20T10:00:00.000Z" and done["ended_at"] == "2026-11-20T10:01:35.000Z"
    assert done["created_at"] == "2026-11-20T10:00:00.000Z"
    # The recording is only linked: fetched by the background job, not yet.
    assert done["has_recording"] is False
    assert count(engine, "agents") == 3  # the org's two, and this one made on first sight

    # The fetch, and the summary job call_ended asked for before call_analyzed brought Retell's
    # summary: that one finds the summary there and leaves it.
    assert run_jobs(engine, settings) == 2
    fetched = detail(client, acme, story.call_id, engine)
    assert fetched["has_recording"] is True and audio_server.hits == ["/rec/call_1.wav"]
    assert fetched["summary"] == payloads.SUMMARY
    audio = client.get(
        fetched["recording_url"], headers={"Authorization": f"Bearer {acme.tokens['sensitive']}"}
    )
    assert audio.status_code == 200 and audio.content == _wav()


def test_a_repeated_delivery_is_applied_once(
    client: TestClient, engine: Engine, acme: OrgFixture, sender: Sender
) -> None:
    story = payloads.Story("call_repeat")
    bodies = payloads.retell(story)
    for item in [bodies[0], bodies[3], bodies[3], bodies[4], bodies[0], bodies[4]]:
        sender.deliver("retell", item)
    assert count(engine, "hook_deliveries") == 3
    # call_ended and call_analyzed both link the recording: one fetch; and the summary job
    # call_ended asked for, once however often it came.
    assert sorted(job.kind for job in job_rows(engine)) == [fetch.KIND, summaries.KIND]
    with engine.connect() as conn:
        from sqlalchemy import text

        kinds = conn.execute(text("SELECT kind FROM events ORDER BY seq")).scalars().all()
        trail = conn.execute(
            text("SELECT org_id, credential, target, detail FROM audit_log WHERE action = 'hook.delivery'")
        ).all()
    assert kinds.count("created") == 1 and kinds.count("turns") == 1
    # Each delivery applied is in the audit trail, in its own transaction; the repeats are not.
    call = detail(client, acme, story.call_id, engine)["id"]
    assert len(trail) == 3
    assert {(r.org_id, r.credential.split(":")[:2] == ["hook", "retell"], r.target) for r in trail} == {
        (acme.id, True, call)
    }
    assert all('"outcome":"applied"' in r.detail for r in trail)


def _wav() -> bytes:
    import io
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x01" * 8000)
    return out.getvalue()
