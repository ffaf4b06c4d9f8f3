"""The background job runner and the recording fetch, against a real HTTP server on loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.app import create_app
from parley.config import Settings
from parley.db.engine import SYSTEM, write_connection
from parley.ingest import jobs, service
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.conftest import AudioServer
from tests.hooks.helpers import conversation_id, detail, job_rows, run_jobs
from tests.hooks.senders import Sender
from tests.hooks.test_retell import _wav


def _ended(sender: Sender, call_id: str, url: str) -> None:
    # call_analyzed: the ended call, linking its recording, with Retell's own summary, so the
    # recording's fetch is the only job (no summary job of Parley's).
    sender.deliver("retell", payloads.retell(payloads.Story(call_id, recording_url=url))[4])


def test_a_failed_fetch_is_retried_with_back_off(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    acme: OrgFixture,
    sender: Sender,
    audio_server: AudioServer,
) -> None:
    audio_server.files["/late.wav"] = (503, "text/plain", b"try later")
    _ended(sender, "call_late", audio_server.url("/late.wav"))
    now = datetime.now(UTC)
    assert run_jobs(engine, settings, now) == 1
    (job,) = job_rows(engine)
    assert job.attempts == 1 and "HTTP 503" in job.last_error
    assert job.run_after == now + jobs.BASE_DELAY
    assert run_jobs(engine, settings, now + timedelta(seconds=10)) == 0  # not due yet
    audio_server.files["/late.wav"] = (200, "text/html", b"<html>an error page</html>")
    assert run_jobs(engine, settings, now + jobs.BASE_DELAY) == 1
    (job,) = job_rows(engine)
    assert job.attempts == 2 and "not audio" in job.last_error
    assert job.run_after == now + jobs.BASE_DELAY + 2 * jobs.BASE_DELAY  # doubled
    assert detail(client, acme, "call_late", engine)["has_recording"] is False
    audio_server.files["/late.wav"] = (200, "application/octet-stream", _wav())  # sniffed as WAV
    assert run_jobs(engine, settings, now + timedelta(hours=1)) == 1
    assert job_rows(engine) == []
    found = detail(client, acme, "call_late", engine)
    assert found["has_recording"] is True and found["recordings"][0]["content_type"] == "audio/wav"
    assert found["recordings"][0]["duration_seconds"] == payloads.DURATION  # as Retell reported it
    assert audio_server.hits == ["/late.wav"] * 3


def test_a_recording_over_the_limit_is_given_up(
    engine: Engine,
    settings: Settings,
    acme: OrgFixture,
    sender: Sender,
    audio_server: AudioServer,
    client: TestClient,
) -> None:
    small = settings.model_copy(update={"max_recording_bytes": 1000})
    audio_server.files["/big.wav"] = (200, "audio/wav", _wav())
    audio_server.files["/streamed.wav"] = (200, "audio/wav", _wav())
    audio_server.unsized.add("/streamed.wav")  # no Content-Length: the limit is met mid-stream
    _ended(sender, "call_big", audio_server.url("/big.wav"))
    _ended(sender, "call_streamed", audio_server.url("/streamed.wav"))
    assert run_jobs(engine, small) == 2
    errors = sorted(job.last_error for job in job_rows(engine))
    assert all(job.run_after == jobs.GAVE_UP for job in job_rows(engine))
    assert errors == [
        "the recording is 16,044 bytes, more than the 1,000 allowed",
        "the recording is more than the 1,000 bytes allowed",
    ]
    assert run_jobs(engine, small, datetime(9000, 1, 1, tzinfo=UTC)) == 0
    assert not [p for p in settings.recordings_dir.rglob("*") if p.is_file()]  # nothing half-written left
    assert detail(client, acme, "call_big", engine)["has_recording"] is False


def test_attempts_run_out(
    engine: Engine, settings: Settings, sender: Sender, audio_server: AudioServer
) -> None:
    _ended(sender, "call_gone", audio_server.url("/missing.wav"))  # 404 for ever
    moment = datetime.now(UTC)
    for _ in range(jobs.MAX_ATTEMPTS):
        assert run_jobs(engine, settings, moment) == 1
        moment += jobs.MAX_DELAY
    (job,) = job_rows(engine)
    assert (
        job.run_after == jobs.GAVE_UP and job.attempts == jobs.MAX_ATTEMPTS and "HTTP 404" in job.last_error
    )
    assert len(audio_server.hits) == jobs.MAX_ATTEMPTS


def test_a_conversation_deleted_before_the_fetch_needs_nothing(
    engine: Engine, settings: Settings, acme: OrgFixture, sender: Sender, audio_server: AudioServer
) -> None:
    audio_server.files["/x.wav"] = (200, "audio/wav", _wav())
    _ended(sender, "call_deleted", audio_server.url("/x.wav"))
    with write_connection(engine, SYSTEM) as conn:
        service.delete_conversation(conn, acme.id, conversation_id(engine, acme, "call_deleted"))
    assert run_jobs(engine, settings) == 1
    assert job_rows(engine) == [] and audio_server.hits == []


def test_a_link_that_is_not_http_is_given_up(engine: Engine, settings: Settings, sender: Sender) -> None:
    _ended(sender, "call_file", "file:///etc/passwd")
    run_jobs(engine, settings)
    (job,) = job_rows(engine)
    assert job.run_after == jobs.GAVE_UP and "not http" in job.last_error


def test_the_app_runs_the_worker_when_enabled(
    engine: Engine, settings: Settings, acme: OrgFixture, audio_server: AudioServer
) -> None:
    audio_server.files["/live.wav"] = (200, "audio/wav", _wav())
    enabled = settings.model_copy(update={"workers_enabled": True})
    with TestClient(create_app(enabled, engine)) as client:
        assert settings.secret_key
        from tests.hooks.senders import make_hooks

        sender = Sender(client, make_hooks(engine, acme.id, settings.secret_key))
        _ended(sender, "call_live", audio_server.url("/live.wav"))
        deadline = time.monotonic() + 20
        while job_rows(engine) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert detail(client, acme, "call_live", engine)["has_recording"] is True
    threads = [t.name for t in __import__("threading").enumerate()]
    assert "parley-jobs" not in threads  # stopped with the app
