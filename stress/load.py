"""The load: readers paging the list as fast as they can, and one writer creating conversations
(with participants and transcript turns) through the native write API, each step retried with
its Idempotency-Key until it is acknowledged."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx2 as httpx

LIST = "/core/conversations?limit=50"
# Answers that say "not now": retried by the writer, expected from everyone during a fault.
TRANSIENT = {409, 429, 502, 503, 504}
_STUCK_CLAIM = 10


@dataclass
class Outcomes:
    """Every answer of the run, with when it came, so it can be judged against the fault windows."""

    answers: list[tuple[float, str, str]] = field(default_factory=list)  # (time, who, status)

    def add(self, who: str, status: str) -> None:
        self.answers.append((time.monotonic(), who, status))

    def tally(self, who: str) -> Counter[str]:
        return Counter(status for _, w, status in self.answers if w == who)


@dataclass
class Ledger:
    """What the writer was told: acknowledged conversations by external id, their turns, and
    the ones it gave up on (never acknowledged: may or may not exist, never twice)."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # external_id -> id
    turns: dict[str, int] = field(default_factory=dict)  # id -> turns acknowledged
    unacknowledged: set[str] = field(default_factory=set)


async def reader(client: httpx.AsyncClient, token: str, outcomes: Outcomes, stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    cursor: str | None = None
    while not stop.is_set():
        url = LIST + (f"&cursor={cursor}" if cursor else "")
        try:
            response = await client.get(url, headers=headers)
            outcomes.add("reader", str(response.status_code))
            if response.status_code == 200:
                # Walk a few pages deep now and then, then back to the first.
                cursor = response.json()["next_cursor"] if random.random() < 0.3 else None
            else:
                cursor = None
                await asyncio.sleep(0.2)
        except httpx.HTTPError as error:
            outcomes.add("reader", type(error).__name__)
            await asyncio.sleep(0.2)


async def _until_acknowledged(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, object],
    headers: dict[str, str],
    outcomes: Outcomes,
    give_up: float,
) -> httpx.Response | None:
    """Send until a 2xx or a refusal (4xx other than "not now"); None if ``give_up`` passes.

    A 409 "still being processed" that persists is a claim left by a request that died with its
    server (kept ``ingest.idempotency.STALE_CLAIM``, 5 minutes): after ``_STUCK_CLAIM`` of them
    the step is given up, never sent under another key (that could write it twice)."""
    delay = 0.1
    conflicts = 0
    while time.monotonic() < give_up:
        try:
            response = await client.request(method, path, json=body, headers=headers)
            outcomes.add("writer", str(response.status_code))
            conflicts = conflicts + 1 if response.status_code == 409 else 0
            if conflicts >= _STUCK_CLAIM:
                return None
            if response.status_code < 400 or response.status_code not in TRANSIENT | {500}:
                return response
        except httpx.HTTPError as error:
            outcomes.add("writer", type(error).__name__)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
    return None


async def writer(
    client: httpx.AsyncClient, token: str, outcomes: Outcomes, ledger: Ledger, stop: asyncio.Event
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        external_id = f"stress-{n}"
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"create-{external_id}"}
        body: dict[str, object] = {
            "channel": "email",
            "direction": "inbound",
            "status": "in_progress",
            "external_id": external_id,
            "user_id": f"caller{n}@example.com",
            "tags": ["stress"],
            "participants": [
                {"address": f"agent{n}@example.com", "role": "to"},
                {"address": f"cc{n}@example.com", "role": "cc"},
            ],
        }
        # A step started is seen through (within a minute) even if the run is stopping.
        give_up = time.monotonic() + 60
        created = await _until_acknowledged(
            client, "POST", "/core/conversations", body, headers, outcomes, give_up
        )
        if created is None or created.status_code != 201:
            ledger.unacknowledged.add(external_id)
            continue
        conversation_id = created.json()["id"]
        ledger.acknowledged[external_id] = conversation_id
        turns = {
            "turns": [
                {"seq": 0, "speaker": "user", "text": f"Message {n}: where is my parcel?", "offset_ms": 0},
                {"seq": 1, "speaker": "agent", "text": "It ships tomorrow.", "offset_ms": 1000},
            ]
        }
        headers["Idempotency-Key"] = f"turns-{external_id}"
        added = await _until_acknowledged(
            client, "POST", f"/core/conversations/{conversation_id}/turns", turns, headers, outcomes, give_up
        )
        if added is not None and added.status_code == 200:
            ledger.turns[conversation_id] = 2
