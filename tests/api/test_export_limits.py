"""Exports are counted per org and per process, and give their slot back however they end."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

import anyio
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from starlette.types import Message

from parley.api.export_gate import RETRY_AFTER_SECONDS, ExportGate
from parley.api.export_response import ExportBudget, ExportResponse
from parley.app import create_app
from parley.config import Settings
from parley.errors import TooManyRequests
from tests.api.conftest import World, bearer

EXPORT = "/core/conversations/export.csv"


def test_the_gate_counts_per_org_and_per_process() -> None:
    gate = ExportGate(per_org=2, per_process=3)
    first, _second = gate.acquire(1), gate.acquire(1)
    with pytest.raises(TooManyRequests) as refused:
        gate.acquire(1)
    assert "Your org already has 2" in refused.value.detail
    assert refused.value.headers == {"Retry-After": str(RETRY_AFTER_SECONDS)}
    gate.acquire(2)
    with pytest.raises(TooManyRequests) as full:
        gate.acquire(3)  # an org with nothing running, but the process is full
    assert "as many exports as it can" in full.value.detail
    first.release()
    first.release()  # a second release gives nothing back twice
    assert gate.running() == 2
    gate.acquire(3)
    with pytest.raises(TooManyRequests):
        gate.acquire(1)


def test_an_org_at_its_limit_is_answered_429_and_other_orgs_are_not(client: TestClient, world: World) -> None:
    gate: ExportGate = client.app.state.exports.gate  # type: ignore[attr-defined]
    held = [gate.acquire(world.acme.id) for _ in range(gate.per_org)]
    refused = client.get(EXPORT, headers=bearer(world.acme.tokens["read"]))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"].endswith("/too-many-requests")
    assert int(refused.headers["retry-after"]) > 0
    assert client.get(EXPORT, headers=bearer(world.globex.tokens["read"])).status_code == 200
    for slot in held:
        slot.release()
    assert client.get(EXPORT, headers=bearer(world.acme.tokens["read"])).status_code == 200


def test_a_full_process_refuses_every_org(client: TestClient, world: World) -> None:
    gate: ExportGate = client.app.state.exports.gate  # type: ignore[attr-defined]
    held = [gate.acquire(org_id) for org_id in range(1_000_000, 1_000_000 + gate.per_process)]
    assert client.get(EXPORT, headers=bearer(world.globex.tokens["read"])).status_code == 429
    assert client.get("/core/conversations", headers=bearer(world.globex.tokens["read"])).status_code == 200
    held[0].release()
    assert client.get(EXPORT, headers=bearer(world.globex.tokens["read"])).status_code == 200


def test_finished_exports_give_their_slot_back(settings: Settings, engine: Engine, world: World) -> None:
    app = create_app(settings.model_copy(update={"exports_per_org": 1, "exports_per_process": 1}), engine)
    with TestClient(app) as client:
        for _ in range(3):  # one slot: each export must have freed it for the next
            response = client.get(EXPORT, headers=bearer(world.acme.tokens["read"]))
            assert response.status_code == 200
            assert response.text.count("\r\n") == 1 + len(client.get(
                "/core/conversations?limit=200", headers=bearer(world.acme.tokens["read"])
            ).json()["data"])  # fmt: skip


def test_exports_use_a_pool_of_their_own_sized_to_the_budget(settings: Settings, engine: Engine) -> None:
    budget = ExportBudget.from_settings(settings.model_copy(update={"exports_per_process": 3}), engine)
    try:
        assert budget.engine is not engine
        assert budget.engine.url == engine.url
        assert budget.engine.pool.size() == 3  # type: ignore[attr-defined]
    finally:
        budget.dispose()


# --- the response on its own, against a fake client: every way an export ends -------------------


@dataclass
class Chunks:
    """A stand-in for the CSV: ``count`` chunks (None: endless), then maybe an error."""

    count: int | None = 3
    error: Exception | None = None
    closed: bool = False
    produced: int = 0

    def __call__(self) -> Generator[bytes, None, None]:
        try:
            while self.count is None or self.produced < self.count:
                self.produced += 1
                yield b"row\r\n"
            if self.error is not None:
                raise self.error
        finally:
            self.closed = True


@dataclass
class Client:
    """Takes ``takes`` body messages, then stops reading (its send never returns); or, with
    ``leaves_after``, disconnects once it has that many."""

    takes: int | None = None
    leaves_after: int | None = None
    received: list[Message] = field(default_factory=list)
    left: anyio.Event = field(default_factory=anyio.Event)

    async def send(self, message: Message) -> None:
        bodies = [m for m in self.received if m["type"] == "http.response.body"]
        if message["type"] == "http.response.body" and self.takes is not None and len(bodies) >= self.takes:
            await anyio.sleep_forever()
        self.received.append(message)
        if self.leaves_after is not None and len(bodies) + 1 >= self.leaves_after:
            self.left.set()

    async def receive(self) -> Message:
        await self.left.wait()
        return {"type": "http.disconnect"}

    @property
    def complete(self) -> bool:
        return any(m["type"] == "http.response.body" and not m["more_body"] for m in self.received)


def serve(chunks: Chunks, client: Client, gate: ExportGate, send_timeout: float = 30) -> None:
    budget = ExportBudget(gate, create_engine("sqlite://"), send_timeout, owns_engine=False)
    response = ExportResponse(
        chunks(), gate.acquire(7), budget, media_type="text/csv", headers={"X-Test": "1"}
    )

    async def run() -> None:
        with anyio.fail_after(20):  # a guard: without the send timeout, a stalled client hangs forever
            await response({"type": "http"}, client.receive, client.send)

    anyio.run(run)


@pytest.fixture
def gate() -> ExportGate:
    return ExportGate(per_org=1, per_process=1)


def test_an_export_read_to_the_end_is_complete_and_frees_its_slot(gate: ExportGate) -> None:
    chunks, client = Chunks(), Client()
    serve(chunks, client, gate)
    assert client.complete
    assert b"".join(m.get("body", b"") for m in client.received) == b"row\r\n" * 3
    assert chunks.closed
    assert gate.running() == 0


def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(gate: ExportGate) -> None:
    chunks, client = Chunks(count=None), Client(takes=2)
    serve(chunks, client, gate, send_timeout=1)
    assert not client.complete  # cut off, so it cannot pass for a whole file
    assert chunks.closed  # the cursor and connection are let go
    assert gate.running() == 0


def test_a_client_that_leaves_frees_the_slot_of_an_endless_export(gate: ExportGate) -> None:
    chunks, client = Chunks(count=None), Client(leaves_after=2)
    serve(chunks, client, gate)
    assert not client.complete
    assert chunks.closed
    assert gate.running() == 0


def test_an_error_while_producing_is_raised_as_itself_and_frees_the_slot(gate: ExportGate) -> None:
    chunks, client = Chunks(count=1, error=RuntimeError("the database went away")), Client()
    with pytest.raises(RuntimeError, match="went away"):
        serve(chunks, client, gate)
    assert not client.complete
    assert chunks.closed
    assert gate.running() == 0
