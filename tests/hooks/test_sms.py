"""Twilio texts: one thread per pair of numbers, a new one after a quiet day; a thread closes
when the gap has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from parley.audit.trail import AuditTrail
from parley.config import Settings
from parley.db import tables
from parley.ingest import summaries
from parley.ingest.deliveries import THREAD_GAP
from parley.ingest.providers.common import Inbound
from parley.ingest.receive import receive
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.helpers import detail, job_rows, run_jobs
from tests.hooks.senders import Sender, twilio_headers

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _deliver_at(
    engine: Engine, settings: Settings, sender: Sender, params: dict[str, str], at: datetime
) -> None:
    """Through the use case, at a chosen time: Twilio's texts carry none of their own."""
    path = sender.path("twilio")
    url = f"http://testserver{path}"
    headers = {k.lower(): v for k, v in twilio_headers(url, params).items()}
    inbound = Inbound(url, headers, urlencode(params).encode(), at)
    assert settings.secret_key
    receive(
        engine,
        settings.secret_key,
        settings.recordings_dir,
        settings.max_recording_bytes,
        "twilio",
        sender.hooks["twilio"],
        inbound,
        AuditTrail(engine),
        None,
    )


def _threads(engine: Engine, org: OrgFixture) -> list[tuple[int, str, str]]:
    c = tables.conversations
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.c.id, c.c.status, c.c.external_id)
            .where(c.c.org_id == org.id, c.c.channel == "text")
            .order_by(c.c.id)
        ).all()
    return [(row.id, row.status, row.external_id) for row in rows]


def test_inbound_and_outbound_texts_share_a_thread(
    client: TestClient, engine: Engine, acme: OrgFixture, sender: Sender
) -> None:
    sender.deliver("twilio", payloads.sms("SM001", "Can I move my appointment?"))
    sender.deliver("twilio", payloads.sms("SM002", "", inbound=False, status="sent"))
    sender.deliver("twilio", payloads.sms("SM002", "", inbound=False, status="delivered"))  # same message
    sender.deliver("twilio", payloads.sms("SM003", "Friday works, thanks!"))
    sender.deliver("twilio", payloads.sms("SM003", "Friday works, thanks!"))  # Twilio retried
    thread = detail(client, acme, "SM001", engine)
    assert (thread["channel"], thread["direction"], thread["status"]) == ("text", "inbound", "in_progress")
    assert (thread["user_id"], thread["agent_number"]) == (payloads.CALLER, payloads.AGENT_NUMBER)
    assert [(t["seq"], t["speaker"], t["text"]) for t in thread["transcript"]] == [
        (0, "caller", "Can I move my appointment?"),
        (1, "agent", ""),  # an outbound status callback carries no Body
        (2, "caller", "Friday works, thanks!"),
    ]
    assert len(_threads(engine, acme)) == 1
    other = {**payloads.sms("SM004", "Hi"), "From": "+447700900123"}  # another person: another thread
    sender.deliver("twilio", other)
    assert len(_threads(engine, acme)) == 2


def test_a_quiet_gap_starts_a_new_thread_and_closes_the_old(
    engine: Engine, settings: Settings, acme: OrgFixture, sender: Sender
) -> None:
    _deliver_at(engine, settings, sender, payloads.sms("SM101", "Hello"), T0)
    _deliver_at(
        engine,
        settings,
        sender,
        payloads.sms("SM102", "Still there?"),
        T0 + THREAD_GAP - timedelta(minutes=1),
    )
    assert [t[2] for t in _threads(engine, acme)] == ["SM101"]
    # The close job looks when the gap may have passed, sees the later message and waits on.
    (job,) = job_rows(engine)
    assert job.run_after == T0 + THREAD_GAP
    assert run_jobs(engine, settings, now=T0 + THREAD_GAP) == 1
    (job,) = job_rows(engine)
    assert job.run_after == T0 + 2 * THREAD_GAP - timedelta(minutes=1) and job.last_error is None
    assert _threads(engine, acme)[0][1] == "in_progress"

    later = T0 + 2 * THREAD_GAP
    _deliver_at(engine, settings, sender, payloads.sms("SM103", "Back again"), later)
    (first, second) = _threads(engine, acme)
    assert (first[1], first[2]) == ("completed", "SM101")  # closed when the new one began
    assert (second[1], second[2]) == ("in_progress", "SM103")
    run_jobs(engine, settings, now=later + THREAD_GAP)
    assert [t[1] for t in _threads(engine, acme)] == ["completed", "completed"]
    # Each closed thread asked for its summary, due at the (real) time it was closed.
    assert [job.kind for job in job_rows(engine)] == [summaries.KIND] * 2
    assert run_jobs(engine, settings) == 2
    assert job_rows(engine) == []
