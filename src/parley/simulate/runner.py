"""Play many scripts at once: new conversations arrive at a rate, each plays its steps at their
moments, and when the run ends every conversation still going is fast-forwarded to its end, so
none is left ringing or in progress.

Everything runs on one event loop; a conversation is a task that mostly sleeps. ``wind_down``
and ``abandon`` may be called from any thread (a signal handler, ``serve --demo`` stopping).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from parley.simulate.api import Api, Rejected, SimulationError
from parley.simulate.audio import wav_bytes
from parley.simulate.scripts import Action, Mark, Script, Step, TurnDraft

_WIND_DOWN, _ABANDON = 1, 2


class Listener(Protocol):
    """Hears what happens, for a progress display; all called on the loop, so keep them quick."""

    def created(self, script: Script, conversation_id: str) -> None: ...

    def ended(self, script: Script, conversation_id: str) -> None: ...

    def failed(self, script: Script, conversation_id: str | None, reason: str) -> None: ...


@dataclass(slots=True)
class Tally:
    """What a run did."""

    created: list[str] = field(default_factory=list)  # conversation ids, in creation order
    channels: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # of the conversations that ended
    failed: int = 0  # conversations a request was rejected for; they stopped where they were
    fast_forwarded: int = 0  # still going when the run ended, played to their end at once
    seconds: float = 0.0
    error: SimulationError | None = None  # what stopped the run early, if anything


@dataclass(slots=True)
class _Live:
    """One conversation in play: its id once created, and the moments its steps stamp.

    A step's moment is when it was sent, or, when the run winds down and the step is sent
    early, when it was due: a call played to its end at once keeps a plausible length rather
    than lasting no time at all (its end may then lie a little in the future).
    """

    script: Script
    created: float  # loop time of creation
    created_at: datetime  # the same moment on the wall clock
    id: str | None = None
    moment: float = 0.0  # loop time of the step being sent
    started: float | None = None  # moment of Mark.STARTED
    offsets: dict[int, int] = field(default_factory=dict)  # seq -> offset_ms of its first post

    def wall(self) -> str:
        at = self.created_at + timedelta(seconds=self.moment - self.created)
        return at.isoformat(timespec="milliseconds")


class Simulation:
    def __init__(
        self,
        api: Api,
        scripts: Iterator[Script],
        listener: Listener,
        *,
        rate: float,
        duration: float | None = None,
        speed: float = 1.0,
        seed: int = 0,
        run: str = "run",
    ) -> None:
        if rate <= 0 or speed <= 0 or (duration is not None and duration < 0):
            raise ValueError("rate and speed must be positive and duration not negative")
        self._api = api
        self._scripts = scripts
        self._listener = listener
        self._rate = rate
        self._duration = duration
        self._speed = speed
        self._arrivals = random.Random(f"parley-simulate-arrivals:{seed}")
        self._run = run  # in every Idempotency-Key: keys must differ across runs
        self._clips: dict[int, bytes] = {}
        self._tally = Tally()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._winding: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._asked = 0  # _WIND_DOWN or _ABANDON once asked, from any thread

    def wind_down(self) -> None:
        """Start no more conversations and play the rest to their end without waiting."""
        # The flag first: a run starting meanwhile either sees it or has its loop seen here.
        self._asked = max(self._asked, _WIND_DOWN)
        loop, winding = self._loop, self._winding
        if loop is not None and winding is not None:
            loop.call_soon_threadsafe(winding.set)

    def abandon(self) -> None:
        """Stop at once: conversations in play stay as they are."""
        self._asked = _ABANDON
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._cancel_all)

    async def run(self) -> Tally:
        loop = self._loop = asyncio.get_running_loop()
        winding = self._winding = asyncio.Event()
        if self._asked:  # asked to stop before it started: start nothing
            winding.set()
        began = loop.time()
        deadline = None if self._duration is None else began + self._duration
        next_arrival = began  # the first conversation starts at once, so a run shows life right away
        try:
            while not winding.is_set():
                now = loop.time()
                if deadline is not None and now >= deadline:
                    break
                if now >= next_arrival:
                    self._start(next(self._scripts))
                    # Arrivals are a Poisson process: exponential gaps averaging 60 / rate seconds.
                    next_arrival += self._arrivals.expovariate(self._rate / 60.0)
                    continue
                until = next_arrival if deadline is None else min(next_arrival, deadline)
                await _wait(winding, until - now)
            winding.set()
            while self._tasks:
                await asyncio.wait(set(self._tasks))
        except asyncio.CancelledError:
            self._cancel_all()
            raise
        finally:
            self._tally.seconds = loop.time() - began
        return self._tally

    def _start(self, script: Script) -> None:
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._play(_Live(script, loop.time(), datetime.now(UTC))))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._winding is not None:
            self._winding.set()

    async def _play(self, live: _Live) -> None:
        assert self._loop is not None and self._winding is not None
        skipped = False
        try:
            for index, step in enumerate(live.script.steps):
                due = live.created + step.at / self._speed
                if not self._winding.is_set():
                    await _wait(self._winding, due - self._loop.time())
                if self._winding.is_set():
                    skipped = True
                    if step.partial:
                        continue  # the final version of this turn follows
                live.moment = max(self._loop.time(), due)
                await self._send(live, index, step)
        except Rejected as exc:
            self._tally.failed += 1
            self._listener.failed(live.script, live.id, exc.detail)
            return
        except SimulationError as exc:
            # The token stopped working or the server is gone: nothing else can succeed either.
            if self._tally.error is None:
                self._tally.error = exc
            self._cancel_all()
            return
        except Exception as exc:  # an answer not shaped as expected: this conversation only
            self._tally.failed += 1
            self._listener.failed(live.script, live.id, f"unexpected {exc!r}")
            return
        if skipped:
            self._tally.fast_forwarded += 1
        self._tally.outcomes[live.script.outcome] += 1
        assert live.id is not None
        self._listener.ended(live.script, live.id)

    async def _send(self, live: _Live, index: int, step: Step) -> None:
        key = f"sim-{self._run}-{live.script.number}-{index}"
        if step.action is Action.CREATE:
            body = self._stamped(live, step)
            body["created_at"] = live.wall()
            live.id = await self._api.create(body, key)
            self._tally.created.append(live.id)
            self._tally.channels[live.script.channel] += 1
            self._listener.created(live.script, live.id)
            return
        assert live.id is not None  # the create step comes first
        if step.action is Action.UPDATE:
            await self._api.update(live.id, self._stamped(live, step), key)
        elif step.action is Action.TURNS:
            await self._api.turns(live.id, [self._turn(live, t) for t in step.turns], key)
        else:
            assert step.clip is not None
            await self._api.recording(live.id, await self._clip(step.clip), key)

    def _stamped(self, live: _Live, step: Step) -> dict[str, Any]:
        body = dict(step.fields)
        if Mark.STARTED in step.marks:
            live.started = live.moment
            body["started_at"] = live.wall()
        if Mark.ENDED in step.marks:
            body["ended_at"] = live.wall()
            if live.started is not None:
                body["duration_seconds"] = round(live.moment - live.started)
        return body

    def _turn(self, live: _Live, draft: TurnDraft) -> dict[str, Any]:
        if draft.seq not in live.offsets:
            # A turn starts when its first words were posted; later versions keep that offset.
            since = 0.0 if live.started is None else live.moment - live.started
            earlier = max(live.offsets.values(), default=-1)
            live.offsets[draft.seq] = max(int(since * 1000), earlier + 1)  # strictly in order
        return {
            "seq": draft.seq,
            "speaker": draft.speaker,
            "text": draft.text,
            "offset_ms": live.offsets[draft.seq],
            "final": draft.final,
        }

    async def _clip(self, index: int) -> bytes:
        if index not in self._clips:
            # Synthesising takes a moment of CPU: off the loop, so other conversations keep time.
            self._clips[index] = await asyncio.to_thread(wav_bytes, index)
        return self._clips[index]


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``event`` is set meanwhile."""
    if seconds <= 0:
        return
    with suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)
