"""The scripts of conversations' lives, as data: forward-only statuses, growing partial turns
finalised once, analysis at the end, recordings after it, and the same scripts for the same seed."""

from __future__ import annotations

import io
import wave
from collections import Counter
from itertools import islice, pairwise

from parley.conversations.enums import FINISHED_STATUSES, Status
from parley.ingest.transitions import is_forward
from parley.simulate.audio import CLIPS, wav_bytes
from parley.simulate.scripts import Action, Mark, Script
from parley.simulate.source import KnownAgent, agents_in, scripts

AGENTS = [
    KnownAgent("100000000001", "Billing Assistant", (1, 2)),
    KnownAgent("100000000002", "Tech Support", (1,)),
]


def take(count: int, seed: int = 1, agents: list[KnownAgent] = AGENTS) -> list[Script]:
    return list(islice(scripts("acme", agents, seed, "t"), count))


def test_the_same_seed_gives_the_same_scripts() -> None:
    assert take(40) == take(40)
    assert take(40, seed=2) != take(40)


def test_every_script_is_a_forward_life_that_ends() -> None:
    external_ids = set()
    for script in take(300):
        first = script.steps[0]
        assert (first.action, first.at) == (Action.CREATE, 0.0)
        assert first.fields["tags"] == ["simulated"]
        assert first.fields["agent_id"] in {a.id for a in AGENTS}
        external_ids.add(first.fields["external_id"])
        assert [s.at for s in script.steps] == sorted(s.at for s in script.steps)

        statuses = [first.fields["status"]] + [
            s.fields["status"] for s in script.steps if s.action is Action.UPDATE and "status" in s.fields
        ]
        for before, after in pairwise(statuses):
            assert before != after and is_forward(Status(before), Status(after)), statuses
        assert statuses[-1] == script.outcome
        assert Status(script.outcome) in FINISHED_STATUSES

        end = next(s for s in script.steps if Mark.ENDED in s.marks)
        assert end.fields["status"] == script.outcome and end.fields["ended_reason"]
        assert isinstance(end.fields["successful"], bool)
        started = [i for i, s in enumerate(script.steps) if Mark.STARTED in s.marks]
        turn_steps = [i for i, s in enumerate(script.steps) if s.action is Action.TURNS]
        if turn_steps:
            assert started and started[0] <= turn_steps[0] and turn_steps[-1] < script.steps.index(end)
            assert end.fields["sentiment"] in ("positive", "neutral", "negative")
        for step in script.steps:
            if step.action is Action.RECORDING:
                assert step.at > end.at and script.channel in ("telephone", "webrtc")
                assert script.outcome in ("completed", "transferred")
    assert len(external_ids) == 300


def test_partial_turns_grow_and_each_turn_is_finalised_once_in_order() -> None:
    partial_turns = 0
    for script in take(200):
        drafts = [t for s in script.steps if s.action is Action.TURNS for t in s.turns]
        finals = [t.seq for t in drafts if t.final]
        assert finals == list(range(len(finals)))
        assert [t.seq for t in drafts] == sorted(t.seq for t in drafts)  # one turn after another
        for seq in finals:
            versions = [t for t in drafts if t.seq == seq]
            assert versions[-1].final and not any(t.final for t in versions[:-1])
            texts = [t.text for t in versions]
            assert all(texts[-1].startswith(text) for text in texts)
            assert all(len(a) < len(b) for a, b in pairwise(texts))
            partial_turns += len(versions) > 1
        if script.channel in ("email", "text"):
            assert all(t.final for t in drafts)  # messages arrive whole
    assert partial_turns > 100


def test_the_mix_covers_every_channel_and_the_ways_calls_end() -> None:
    batch = take(400)
    assert set(Counter(s.channel for s in batch)) == {"telephone", "webrtc", "email", "text"}
    outcomes = Counter(s.outcome for s in batch)
    assert {"completed", "transferred", "failed", "no_answer", "busy", "voicemail", "canceled"} <= set(
        outcomes
    )
    assert sum(any(s.action is Action.RECORDING for s in x.steps) for x in batch) > 20
    firsts = Counter((s.channel, s.steps[0].fields["status"]) for s in batch)
    assert firsts[("telephone", "ringing")] and firsts[("telephone", "queued")]
    assert firsts[("webrtc", "token_created")] and firsts[("email", "in_progress")]


def test_without_agents_no_agent_is_named() -> None:
    assert all("agent_id" not in s.steps[0].fields for s in take(30, agents=[]))


def test_agents_are_read_from_a_list_page() -> None:
    page = {
        "data": [
            {"agent": {"id": "7", "name": "Sales", "version": 2}},
            {"agent": {"id": "7", "name": "Sales", "version": 3}},
            {"agent": None},
            {"agent": {"id": "5", "name": "Care", "version": None}},
        ]
    }
    assert agents_in(page) == [KnownAgent("5", "Care", ()), KnownAgent("7", "Sales", (2, 3))]


def test_clips_are_wav_files_of_their_length() -> None:
    data = wav_bytes(1)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as clip:
        assert clip.getframerate() == CLIPS[1].sample_rate
        assert clip.getnframes() == CLIPS[1].sample_rate * CLIPS[1].seconds
