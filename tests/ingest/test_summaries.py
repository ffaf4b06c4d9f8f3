"""Summaries Parley writes for conversations that finish without one: the extractive default, the
job that writes it through the API's own write path, and an OpenAI-compatible endpoint served by a
real HTTP server on loopback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from parley.app import create_app
from parley.config import Settings
from parley.db import tables
from parley.ingest import jobs
from parley.ingest.background import handlers
from parley.ingest.summaries import MAX_CHARS, SYSTEM_PROMPT, ExtractiveSummarizer
from tests.api.conftest import bearer
from tests.factories import OrgFixture, make_org

LIST = "/core/conversations"
TRANSCRIPT = [
    ("agent", "Hello, thanks for calling Acme Internet. How can I help you today?"),
    (
        "caller",
        "Hi. My internet has been dropping every evening since Tuesday. "
        "The router keeps restarting on its own.",
    ),
    (
        "agent",
        "I'm sorry to hear that. Let me look at your account. I can see the router firmware is out of date.",
    ),
    ("caller", "Okay."),
    (
        "agent",
        "I will push a firmware update to the router now. "
        "The router will restart once and the dropping should stop.",
    ),
    ("caller", "Great, and will I get a credit for the days without internet?"),
    ("agent", "Yes, I have added a credit of three days to your next bill."),
    ("caller", "Perfect, thank you. Bye."),
]


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def acme(engine: Engine) -> OrgFixture:
    return make_org(engine, "acme", agent_base=1000)


def _sentences(turns: list[tuple[str, str]]) -> set[str]:
    return {s for _, text in turns for s in re.split(r"(?<=[.!?])\s+", text)}


def _call(client: TestClient, org: OrgFixture, status: str = "in_progress", **fields: Any) -> str:
    headers = bearer(org.tokens["manage"])
    body = {"channel": "telephone", "direction": "inbound", "user_id": "+14155550111", "status": status}
    made = client.post(LIST, json={**body, **fields}, headers=headers)
    assert made.status_code == 201, made.text
    cid: str = made.json()["id"]
    turns = [
        {"seq": n, "speaker": "user" if speaker == "caller" else speaker, "text": text, "offset_ms": n * 1000}
        for n, (speaker, text) in enumerate(TRANSCRIPT)
    ]
    added = client.post(f"{LIST}/{cid}/turns", json={"turns": turns}, headers=headers)
    assert added.status_code == 200, added.text
    return cid


def _patch(client: TestClient, org: OrgFixture, cid: str, **fields: Any) -> dict[str, Any]:
    response = client.patch(f"{LIST}/{cid}", json=fields, headers=bearer(org.tokens["manage"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _detail(client: TestClient, org: OrgFixture, cid: str) -> dict[str, Any]:
    response = client.get(f"{LIST}/{cid}", headers=bearer(org.tokens["sensitive"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _found(client: TestClient, org: OrgFixture, q: str) -> list[str]:
    response = client.get(LIST, params={"q": q}, headers=bearer(org.tokens["sensitive"]))
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()["data"]]


def _jobs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(tables.jobs)).all())


def _run(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    return jobs.run_pending(engine, handlers(settings), now)


def _summary_events(engine: Engine, cid: str) -> list[dict[str, Any]]:
    e = tables.events
    with engine.connect() as conn:
        bodies = conn.execute(select(e.c.body).where(e.c.conversation_id == int(cid)).order_by(e.c.seq))
        return [body for body in map(orjson.loads, bodies.scalars()) if "summary" in body]


def test_the_extractive_summary_is_a_few_sentences_of_the_transcript() -> None:
    summary = ExtractiveSummarizer().summarize(TRANSCRIPT)
    assert summary and len(summary) <= MAX_CHARS
    picked = re.split(r"(?<=[.!?])\s+", summary)
    assert 1 <= len(picked) <= 3 and set(picked) <= _sentences(TRANSCRIPT)
    said = [s for _, text in TRANSCRIPT for s in re.split(r"(?<=[.!?])\s+", text)]
    assert [said.index(s) for s in picked] == sorted(said.index(s) for s in picked)  # in spoken order
    assert "router" in summary  # what the call was about, not the pleasantries
    assert not {"Okay.", "Perfect, thank you.", "Bye."} & set(picked)
    assert ExtractiveSummarizer().summarize(TRANSCRIPT) == summary  # deterministic


def test_the_extractive_summary_of_nothing_is_empty_and_of_a_long_sentence_is_cut() -> None:
    assert ExtractiveSummarizer().summarize([]) == ""
    assert ExtractiveSummarizer().summarize([("agent", "   "), ("caller", "Okay. Yes.")]) == ""
    long = " ".join(["The replacement modem arrives Thursday"] * 30) + "."
    cut = ExtractiveSummarizer().summarize([("agent", long)])
    assert len(cut) <= MAX_CHARS and cut.endswith("…") and long.startswith(cut[:-1])


def test_a_call_completed_without_a_summary_gets_one(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    cid = _call(client, acme)
    assert _jobs(engine) == []  # nothing to do while the call goes on
    answered = _patch(client, acme, cid, status="completed", duration_seconds=95)
    assert answered.get("summary") is None  # the request does not wait for it
    (job,) = _jobs(engine)
    assert job.kind == "summarize" and job.conversation_id == int(cid)
    assert _run(engine, settings) == 1
    assert _jobs(engine) == []
    shown = _detail(client, acme, cid)
    summary = shown["summary"]
    assert summary and len(summary) <= MAX_CHARS and shown["status"] == "completed"
    assert set(re.split(r"(?<=[.!?])\s+", summary)) <= _sentences(TRANSCRIPT)
    assert _summary_events(engine, cid) == [{"summary": summary}]  # the live feed hears of it
    assert cid in _found(client, acme, "firmware")
    # Finished again (a retry) once it has its summary: nothing more to do.
    _patch(client, acme, cid, status="completed")
    assert _jobs(engine) == []


def test_a_conversation_created_finished_gets_one_and_one_with_a_summary_keeps_it(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    made = _call(client, acme, status="completed")
    given = _call(client, acme, status="completed", summary="Router fixed; three days credited.")
    patched = _call(client, acme)
    _patch(client, acme, patched, status="transferred", summary="Handed to a technician.")
    assert [job.conversation_id for job in _jobs(engine)] == [int(made)]
    assert _run(engine, settings) == 1
    assert _detail(client, acme, made)["summary"]
    assert _detail(client, acme, given)["summary"] == "Router fixed; three days credited."
    assert _detail(client, acme, patched)["summary"] == "Handed to a technician."


def test_a_summary_that_arrives_before_the_job_runs_wins(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    cid = _call(client, acme)
    _patch(client, acme, cid, status="completed")
    _patch(client, acme, cid, summary="The provider's own summary.")
    assert _run(engine, settings) == 1
    assert _jobs(engine) == []
    assert _detail(client, acme, cid)["summary"] == "The provider's own summary."
    assert len(_summary_events(engine, cid)) == 1


def test_the_job_is_enqueued_once_when_a_patch_repeats(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    cid = _call(client, acme)
    for _ in range(3):
        _patch(client, acme, cid, status="completed", ended_reason="hangup")
    assert len(_jobs(engine)) == 1
    assert _run(engine, settings) == 1
    assert _run(engine, settings) == 0
    assert len(_summary_events(engine, cid)) == 1


def test_a_call_with_nothing_said_gets_no_summary(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    headers = bearer(acme.tokens["manage"])
    made = client.post(
        LIST, json={"channel": "telephone", "direction": "outbound", "status": "ringing"}, headers=headers
    )
    cid = made.json()["id"]
    _patch(client, acme, cid, status="no_answer")
    assert _run(engine, settings) == 1
    assert _jobs(engine) == [] and _detail(client, acme, cid).get("summary") is None


def test_a_transcript_that_arrives_after_the_end_gets_its_summary(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    headers = bearer(acme.tokens["manage"])
    made = client.post(
        LIST, json={"channel": "telephone", "direction": "inbound", "status": "in_progress"}, headers=headers
    )
    cid = made.json()["id"]
    _patch(client, acme, cid, status="completed")
    assert _run(engine, settings) == 1  # nothing said yet: no summary
    assert _detail(client, acme, cid).get("summary") is None
    turns = [
        {"seq": n, "speaker": "user" if speaker == "caller" else speaker, "text": text, "offset_ms": n * 1000}
        for n, (speaker, text) in enumerate(TRANSCRIPT)
    ]
    added = client.post(f"{LIST}/{cid}/turns", json={"turns": turns}, headers=headers)
    assert added.status_code == 200, added.text
    assert _run(engine, settings) == 1
    summary = _detail(client, acme, cid)["summary"]
    assert summary and set(re.split(r"(?<=[.!?])\s+", summary)) <= _sentences(TRANSCRIPT)
    # The same turns delivered again change nothing and ask for nothing.
    client.post(f"{LIST}/{cid}/turns", json={"turns": turns}, headers=headers)
    assert _jobs(engine) == []


@dataclass
class ChatServer:
    """A real HTTP server on loopback answering ``POST /v1/chat/completions``: each request takes
    the next (status, body) of ``answers``; the requests are kept."""

    url: str
    answers: list[tuple[int, bytes]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)


def completion(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
        }
    ).encode()


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    holder: list[ChatServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            server = holder[0]
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            status, payload = (
                server.answers.pop(0)
                if self.path == "/v1/chat/completions" and server.answers
                else (404, b"{}")
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(ChatServer(f"http://127.0.0.1:{httpd.server_address[1]}/v1/"))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_an_openai_compatible_endpoint_writes_it_and_a_failure_is_retried(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture, chat_server: ChatServer
) -> None:
    remote = settings.model_copy(
        update={"summary_url": chat_server.url, "summary_model": "tiny-model", "summary_api_key": "sk-test"}
    )
    cid = _call(client, acme)
    _patch(client, acme, cid, status="completed")
    chat_server.answers = [
        (500, b'{"error": {"message": "overloaded"}}'),
        (200, completion("  Caller's connection kept dropping; a flamingo firmware update fixed it.\n")),
    ]
    now = datetime.now(UTC)
    assert _run(engine, remote, now) == 1
    (job,) = _jobs(engine)
    assert job.attempts == 1 and "HTTP 500" in job.last_error and job.run_after == now + jobs.BASE_DELAY
    shown = _detail(client, acme, cid)
    assert shown.get("summary") is None and shown["status"] == "completed"  # the failure changed nothing
    _patch(client, acme, cid, sentiment="positive")  # nor holds the conversation up
    assert _run(engine, remote, now + timedelta(seconds=5)) == 0  # not due yet
    assert _run(engine, remote, now + jobs.BASE_DELAY) == 1
    assert _jobs(engine) == []
    summary = "Caller's connection kept dropping; a flamingo firmware update fixed it."
    assert _detail(client, acme, cid)["summary"] == summary
    assert _found(client, acme, "flamingo") == [cid]  # a word only the summary has
    assert len(chat_server.requests) == 2
    headers, body = chat_server.requests[-1]
    assert headers["authorization"] == "Bearer sk-test" and body["model"] == "tiny-model"
    system, user = body["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user" and user["content"].startswith("agent: Hello, thanks for calling")
    assert "caller: Okay." in user["content"]


def test_a_malformed_answer_is_retried_too(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture, chat_server: ChatServer
) -> None:
    remote = settings.model_copy(update={"summary_url": chat_server.url})
    cid = _call(client, acme, status="completed")
    chat_server.answers = [(200, b'{"choices": []}')]
    assert _run(engine, remote) == 1
    (job,) = _jobs(engine)
    assert "choices[0].message.content" in job.last_error and job.run_after < jobs.GAVE_UP
    assert "authorization" not in chat_server.requests[0][0]  # no key set, none sent
    assert _detail(client, acme, cid).get("summary") is None
