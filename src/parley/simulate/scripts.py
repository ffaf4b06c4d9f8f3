"""A conversation's life as data: the write requests that carry it from its first ring to its
end, each at a moment after its creation.

A script is built from a conversation the seeder's generator made (who, on which channel, what
was said, how it ended), so the simulator shares its vocabulary and proportions. Moments are
script seconds; the runner waits ``at / speed`` and may skip ahead when a run winds down.

What the wall clock decides is left out of the data and filled in by the runner when a step is
sent (``Mark``): started_at, ended_at, duration_seconds and a turn's offset_ms record what really
happened over HTTP, so a run at ``--speed 30`` or one cut short stays self-consistent.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from parley.conversations.enums import Channel, Direction, Speaker, Status
from parley.ingest.records import NewConversation, Turn
from parley.simulate.audio import clip_index
from parley.simulate.outcomes import TAG, analysis


class Action(StrEnum):
    CREATE = "create"  # POST /core/conversations
    UPDATE = "update"  # PATCH /core/conversations/{id}
    TURNS = "turns"  # POST /core/conversations/{id}/turns
    RECORDING = "recording"  # PUT /core/conversations/{id}/recording


class Mark(StrEnum):
    STARTED = "started"  # started_at = now; later turn offsets count from here
    ENDED = "ended"  # ended_at = now, and duration_seconds since STARTED when it started


@dataclass(frozen=True, slots=True)
class TurnDraft:
    """A turn without its offset_ms: the runner stamps when its first words were posted."""

    seq: int
    speaker: str  # "agent", "user" or "system", as the API takes them
    text: str
    final: bool


@dataclass(frozen=True, slots=True)
class Step:
    at: float  # script seconds after creation
    action: Action
    fields: Mapping[str, Any] = field(default_factory=dict)  # CREATE and UPDATE bodies
    turns: tuple[TurnDraft, ...] = ()
    marks: frozenset[Mark] = frozenset()
    clip: int | None = None  # RECORDING: which of audio.CLIPS
    partial: bool = False  # a growing turn; skipped when winding down, a later step finalises it


@dataclass(frozen=True, slots=True)
class Script:
    number: int  # the conversation's position in the run, from 0
    channel: str
    direction: str
    outcome: str  # the final status
    steps: tuple[Step, ...]

    @property
    def seconds(self) -> float:
        return self.steps[-1].at


# Speech runs at about 15 characters a second (150 words a minute); a recogniser sends a growing
# partial about once a second, at most three per turn so a long call stays a few requests a second.
_CHARS_PER_SECOND = 15.0
_PARTIAL_EVERY = 1.0
_MAX_PARTIALS = 3
# Written threads in real time would take hours (an email's median is about three); the demo
# should move, so replies come after these many seconds instead.
_WRITTEN_GAPS: dict[str, tuple[float, float]] = {Channel.EMAIL: (20.0, 90.0), Channel.TEXT: (5.0, 30.0)}
_API_SPEAKER = {Speaker.AGENT: "agent", Speaker.CALLER: "user", Speaker.SYSTEM: "system"}


def build_script(record: NewConversation, number: int, rng: random.Random, external_id: str) -> Script:
    """The steps of ``record``'s life; ``record`` must have reached a final status."""
    if Status(record.status) in (Status.TOKEN_CREATED, Status.QUEUED, Status.RINGING, Status.IN_PROGRESS):
        raise ValueError(f"a script needs a conversation that ended, not one that is {record.status}")
    voice = record.channel in (Channel.TELEPHONE, Channel.WEBRTC)
    steps = _voice_steps(record, rng) if voice else _written_steps(record, rng)
    body = _create_body(record, external_id, steps[0].fields["status"])
    steps[0] = Step(0.0, Action.CREATE, body, marks=steps[0].marks)
    steps.sort(key=lambda s: s.at)  # stable: steps given at the same moment keep their order
    return Script(number, record.channel, record.direction, record.status, tuple(steps))


def _create_body(record: NewConversation, external_id: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": record.channel,
        "direction": record.direction,
        "status": status,
        "external_id": external_id,
        "tags": [TAG],
    }
    if record.agent_id:  # 0: the org has no agents the simulator could find
        body["agent_id"] = str(record.agent_id)
        if record.agent_version is not None:
            body["agent_version"] = record.agent_version
    optional = {
        "user_id": record.user_id,
        "caller_name": record.caller_name,
        "agent_number": record.agent_number,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if record.participants:
        body["participants"] = [{"address": p.address, "role": p.role} for p in record.participants]
    return body


def _seconds_after(record: NewConversation, moment: Any) -> float:
    return float((moment - record.created_at).total_seconds())


def _voice_steps(record: NewConversation, rng: random.Random) -> list[Step]:
    """A call or web call: it rings (or waits for a line, or for the visitor), is answered,
    the words arrive as they are spoken, and it ends; a recording may follow."""
    assert record.ended_at is not None  # a finished conversation has an end
    end = max(_seconds_after(record, record.ended_at), 1.0)
    answered = _seconds_after(record, record.started_at) if record.started_at else None
    before = answered if answered is not None else end
    first, then = _first_statuses(record)
    steps = [Step(0.0, Action.CREATE, {"status": first})]
    if then is not None:
        steps.append(Step(min(rng.uniform(0.5, 2.0), before / 2), Action.UPDATE, {"status": then}))
    if answered is not None:
        steps.append(
            Step(answered, Action.UPDATE, {"status": Status.IN_PROGRESS}, marks=frozenset({Mark.STARTED}))
        )
        steps.extend(_spoken_turns(record.turns, answered, end))
    steps.append(_end_step(record, end, rng))
    for recording in record.recordings[:1]:
        steps.append(Step(end + rng.uniform(1.0, 4.0), Action.RECORDING, clip=clip_index(recording.blob_key)))
    return steps


def _first_statuses(record: NewConversation) -> tuple[str, str | None]:
    """The status a call is created with and the one it moves to before it is answered."""
    if record.channel == Channel.WEBRTC:
        return Status.TOKEN_CREATED, Status.QUEUED  # the widget got a token; the visitor connects
    if record.direction == Direction.OUTBOUND:
        return Status.QUEUED, Status.RINGING  # waiting for a dial slot, then dialling
    return Status.RINGING, None


def _spoken_turns(turns: Sequence[Turn], answered: float, end: float) -> list[Step]:
    steps: list[Step] = []
    for seq, turn in enumerate(turns):
        begin = answered + turn.offset_ms / 1000
        limit = answered + turns[seq + 1].offset_ms / 1000 if seq + 1 < len(turns) else end
        # Done before the next turn begins, so turns are posted (and stamped) in order.
        window = max(limit - begin, 0.0)
        speaking = min(len(turn.text) / _CHARS_PER_SECOND, max(window - 0.2, window * 0.8))
        speaker = _API_SPEAKER[Speaker(turn.speaker)]
        words = turn.text.split(" ")
        # System notes ("Call transferred") are events, not speech: they arrive whole.
        pieces = (
            0 if speaker == "system" else min(_MAX_PARTIALS, int(speaking / _PARTIAL_EVERY), len(words) - 1)
        )
        for k in range(pieces):
            shown = " ".join(words[: max(1, len(words) * (k + 1) // (pieces + 1))])
            steps.append(
                Step(
                    begin + speaking * k / (pieces + 1),
                    Action.TURNS,
                    turns=(TurnDraft(seq, speaker, shown, False),),
                    partial=True,
                )
            )
        steps.append(Step(begin + speaking, Action.TURNS, turns=(TurnDraft(seq, speaker, turn.text, True),)))
    return steps


def _written_steps(record: NewConversation, rng: random.Random) -> list[Step]:
    """An email or text thread: opened by its first message, each reply whole, then closed.
    One that never got going (canceled) waits in the queue and is dropped."""
    if not record.turns:
        end = max(_seconds_after(record, record.ended_at), 1.0) if record.ended_at else 5.0
        return [Step(0.0, Action.CREATE, {"status": Status.QUEUED}), _end_step(record, end, rng)]
    low, high = _WRITTEN_GAPS[record.channel]
    steps = [Step(0.0, Action.CREATE, {"status": Status.IN_PROGRESS}, marks=frozenset({Mark.STARTED}))]
    at = 0.0
    for seq, turn in enumerate(record.turns):
        if seq:
            at += rng.uniform(low, high)
        draft = TurnDraft(seq, _API_SPEAKER[Speaker(turn.speaker)], turn.text, True)
        steps.append(Step(at, Action.TURNS, turns=(draft,)))
    steps.append(_end_step(record, at + rng.uniform(2.0, 8.0), rng))
    return steps


def _end_step(record: NewConversation, at: float, rng: random.Random) -> Step:
    fields = {"status": record.status}
    fields.update(analysis(rng, record.channel, record.status, bool(record.turns), record.summary))
    return Step(at, Action.UPDATE, fields, marks=frozenset({Mark.ENDED}))
