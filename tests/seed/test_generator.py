"""The generator's records: deterministic, plausible, and consistent with themselves."""

from __future__ import annotations

import dataclasses
import random
import re
import wave
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from string import Formatter

import pytest

from parley.conversations.enums import FINISHED_STATUSES, Channel, Direction, ParticipantRole, Speaker, Status
from parley.conversations.ids import created_millis, to_millis
from parley.ingest.records import NewConversation
from parley.seed import generator, vocabulary
from parley.seed.audio import CONTENT_TYPE, POOL_SIZE, PoolFile, ensure_audio_pool
from parley.seed.generator import SeedAgent, SeedVersion, generate_conversations, make_seed_agent

END = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday afternoon
DAYS = 7
START = END - timedelta(days=DAYS)
COUNT = 4000

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
EMAIL = re.compile(r"^[a-z0-9._-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
GUEST = re.compile(r"^guest_[0-9a-f]{12}$")
WIDGET = re.compile(r"^wdg_[0-9a-f]{6}$")
LIVE = {Status.QUEUED, Status.RINGING, Status.IN_PROGRESS}
NEVER_CONNECTED = {Status.TOKEN_CREATED, Status.QUEUED, Status.RINGING, Status.NO_ANSWER, Status.BUSY}


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> list[PoolFile]:
    return ensure_audio_pool(tmp_path_factory.mktemp("recordings"))


def agents() -> list[SeedAgent]:
    versions = [
        SeedVersion(1, START - timedelta(days=30)),
        SeedVersion(2, START + timedelta(days=3)),
        SeedVersion(3, START + timedelta(days=5)),
    ]
    names = ["Billing Assistant", "Appointment Scheduler", "Customer Care", "A Bot Nobody Named"]
    return [
        make_seed_agent(500_000_000_000 + i, name, versions, "acme-health.com")
        for i, name in enumerate(names)
    ]


def generate(pool: list[PoolFile], seed: int = 1, count: int = COUNT) -> list[NewConversation]:
    return list(generate_conversations(random.Random(seed), count, agents(), START, END, pool))


@pytest.fixture(scope="module")
def rows(pool: list[PoolFile]) -> list[NewConversation]:
    return generate(pool)


def test_same_seed_gives_the_same_records_and_another_seed_does_not(pool: list[PoolFile]) -> None:
    first, again, other = generate(pool, 7, 300), generate(pool, 7, 300), generate(pool, 8, 300)
    assert first == again
    assert {c.id for c in first}.isdisjoint({c.id for c in other})
    assert [c.summary for c in first] != [c.summary for c in other]


def test_count_window_order_and_ids(rows: list[NewConversation]) -> None:
    assert len(rows) == COUNT
    assert len({c.id for c in rows}) == COUNT
    for c in rows:
        assert START <= c.created_at < END
        assert c.created_at.microsecond % 1000 == 0
        assert created_millis(c.id) == to_millis(c.created_at)
    assert [c.id for c in rows] == sorted(c.id for c in rows)  # oldest first, ids grow with time


def test_zero_and_invalid_counts(pool: list[PoolFile]) -> None:
    assert generate(pool, count=0) == []
    with pytest.raises(ValueError):
        generate(pool, count=-1)
    with pytest.raises(ValueError):
        list(generate_conversations(random.Random(1), 5, [], START, END, pool))


def test_channels_in_plausible_proportions(rows: list[NewConversation]) -> None:
    share = {channel: n / COUNT for channel, n in Counter(c.channel for c in rows).items()}
    assert set(share) == {c.value for c in Channel}
    assert 0.38 < share[Channel.TELEPHONE] < 0.52
    assert 0.19 < share[Channel.WEBRTC] < 0.31
    assert 0.13 < share[Channel.EMAIL] < 0.23
    assert 0.08 < share[Channel.TEXT] < 0.16


def test_every_status_occurs_and_completed_dominates(rows: list[NewConversation]) -> None:
    counts = Counter(c.status for c in rows)
    assert set(counts) == {s.value for s in Status}
    ranked = [status for status, _ in counts.most_common()]
    assert ranked[:2] == [Status.COMPLETED, Status.TRANSFERRED]
    assert counts[Status.COMPLETED] > COUNT / 2


def test_statuses_and_directions_fit_the_channel(rows: list[NewConversation]) -> None:
    webrtc = [c for c in rows if c.channel == Channel.WEBRTC]
    assert all(c.direction == Direction.INBOUND for c in webrtc)
    assert 0.01 < sum(c.status == Status.TOKEN_CREATED for c in webrtc) / len(webrtc) < 0.08
    for c in rows:
        if c.status in (Status.RINGING, Status.NO_ANSWER, Status.BUSY, Status.VOICEMAIL):
            assert c.channel == Channel.TELEPHONE, c
        if c.status in (Status.NO_ANSWER, Status.BUSY, Status.VOICEMAIL):
            assert c.direction == Direction.OUTBOUND, c
        if c.status == Status.TOKEN_CREATED:
            assert c.channel == Channel.WEBRTC, c
    outbound = Counter(c.channel for c in rows if c.direction == Direction.OUTBOUND)
    assert outbound[Channel.TELEPHONE] > 0 and outbound[Channel.EMAIL] > 0 and outbound[Channel.TEXT] > 0


def test_live_statuses_are_rare_and_recent(rows: list[NewConversation]) -> None:
    live = [c for c in rows if c.status in LIVE]
    assert 0 < len(live) < COUNT * 0.02
    for c in live:
        # Email and text threads may stay open for a day or two; calls are live for minutes.
        horizon = timedelta(days=2) if c.channel in (Channel.EMAIL, Channel.TEXT) else timedelta(hours=2)
        assert c.created_at >= END - horizon, c
        if c.status in (Status.QUEUED, Status.RINGING):
            assert c.created_at >= END - timedelta(minutes=10), c


def test_caller_ids_and_names_fit_the_channel(rows: list[NewConversation]) -> None:
    for c in rows:
        if c.user_id is None:
            assert c.channel in (Channel.TELEPHONE, Channel.WEBRTC), c
        elif c.channel in (Channel.TELEPHONE, Channel.TEXT):
            assert E164.match(c.user_id), c.user_id
        elif c.channel == Channel.EMAIL:
            assert EMAIL.match(c.user_id), c.user_id
        else:
            assert GUEST.match(c.user_id) or EMAIL.match(c.user_id), c.user_id
        if c.user_id and c.user_id.startswith("guest_"):
            assert c.channel == Channel.WEBRTC
    webrtc = [c for c in rows if c.channel == Channel.WEBRTC]
    assert sum(bool(c.user_id and c.user_id.startswith("guest_")) for c in webrtc) > len(webrtc) * 0.6
    assert any(c.user_id and "@" in c.user_id for c in webrtc)
    assert any(c.user_id is None for c in rows)
    assert len({c.user_id[:3] for c in rows if c.channel == Channel.TELEPHONE and c.user_id}) > 3  # countries
    assert 0.5 < sum(c.caller_name is not None for c in rows) / COUNT < 0.7
    repeat = Counter(c.user_id for c in rows if c.channel == Channel.TELEPHONE and c.user_id)
    assert repeat.most_common(1)[0][1] > 1  # some customers call more than once


def test_each_agent_owns_one_address_per_channel(rows: list[NewConversation]) -> None:
    numbers: defaultdict[tuple[int | None, str], set[str | None]] = defaultdict(set)
    for c in rows:
        numbers[c.agent_id, c.channel].add(c.agent_number)
        assert c.agent_number is not None
        if c.channel in (Channel.TELEPHONE, Channel.TEXT):
            assert E164.match(c.agent_number), c.agent_number
        elif c.channel == Channel.EMAIL:
            assert c.agent_number.endswith("@acme-health.com"), c.agent_number
        else:
            assert WIDGET.match(c.agent_number), c.agent_number
    assert all(len(found) == 1 for found in numbers.values())
    assert {c.agent_id for c in rows} == {a.id for a in agents()}


def test_agent_versions_follow_release_dates(rows: list[NewConversation]) -> None:
    released = {v.version: v.created_at for v in agents()[0].versions}
    missing = 0
    for c in rows:
        if c.agent_version is None:
            missing += 1
            continue
        assert c.created_at >= released[c.agent_version] or c.agent_version == 1
    assert 0 < missing < COUNT * 0.08
    late = Counter(c.agent_version for c in rows if c.created_at > START + timedelta(days=6))
    assert late.most_common(1)[0][0] == 3


def test_email_participants(rows: list[NewConversation]) -> None:
    emails = [c for c in rows if c.channel == Channel.EMAIL]
    sizes = Counter(len(c.participants) for c in emails)
    assert max(sizes) <= 5 and sizes[0] > 0 and sizes[2] + sizes[3] + sizes[4] + sizes[5] > 0
    assert (sizes[0] + sizes[1]) / len(emails) > 0.65
    roles = {ParticipantRole.CC.value, ParticipantRole.TO.value, ParticipantRole.BCC.value}
    for c in emails:
        addresses = [p.address for p in c.participants]
        assert len(set(addresses)) == len(addresses)
        assert c.user_id not in addresses
        assert all(EMAIL.match(a) for a in addresses)
        assert {p.role for p in c.participants} <= roles
    assert all(not c.participants for c in rows if c.channel != Channel.EMAIL)


def test_durations_and_timestamps_are_consistent(rows: list[NewConversation]) -> None:
    for c in rows:
        finished = c.status in FINISHED_STATUSES
        assert (c.ended_at is not None) == finished, c
        if c.status in (*LIVE, Status.TOKEN_CREATED, Status.NO_ANSWER, Status.BUSY, Status.CANCELED):
            assert c.duration_seconds is None, c
        if c.status in (Status.COMPLETED, Status.TRANSFERRED, Status.VOICEMAIL):
            assert c.duration_seconds is not None, c
        if c.started_at is not None:
            assert c.started_at >= c.created_at
        if c.status in NEVER_CONNECTED:
            assert c.started_at is None, c
        if c.ended_at is not None:
            assert c.ended_at >= c.created_at
            assert c.ended_at <= END
        if c.duration_seconds is not None:
            assert c.started_at is not None and c.ended_at is not None
            assert c.ended_at - c.started_at == timedelta(seconds=c.duration_seconds)
    calls = [
        c.duration_seconds for c in rows if c.channel == Channel.TELEPHONE and c.status == Status.COMPLETED
    ]
    assert all(d is not None and 30 <= d <= 6000 for d in calls)
    assert 120 < sorted(d for d in calls if d is not None)[len(calls) // 2] < 480  # median: minutes
    threads = [
        c.duration_seconds for c in rows if c.channel == Channel.EMAIL and c.status == Status.COMPLETED
    ]
    assert max(d for d in threads if d is not None) > 6 * 3600  # emails can take hours


def test_transcripts(rows: list[NewConversation]) -> None:
    for c in rows:
        if c.status in NEVER_CONNECTED or c.status == Status.CANCELED:
            assert c.turns == (), c
            continue
        if c.status == Status.VOICEMAIL:
            assert [t.speaker for t in c.turns] == [Speaker.AGENT]
            continue
        offsets = [t.offset_ms for t in c.turns]
        assert offsets == sorted(set(offsets)) and all(o >= 0 for o in offsets)
        if c.duration_seconds is not None:
            assert offsets[-1] <= c.duration_seconds * 1000
        spoken = [t.speaker for t in c.turns if t.speaker != Speaker.SYSTEM]
        assert all(a != b for a, b in pairwise(spoken)), c.turns
        if c.status in (Status.COMPLETED, Status.TRANSFERRED):
            assert 4 <= len(c.turns) <= 24, c
        if c.status == Status.TRANSFERRED or (c.status == Status.FAILED and c.turns):
            assert c.turns[-1].speaker == Speaker.SYSTEM, c.turns  # "Call transferred to ...", "Call dropped"
        for t in c.turns:
            assert t.text and "{" not in t.text and "}" not in t.text, t
    assert any(t.speaker == Speaker.SYSTEM for c in rows for t in c.turns)


def test_summaries_only_for_finished_dialogues(rows: list[NewConversation]) -> None:
    for c in rows:
        if c.summary is None:
            assert c.status not in (Status.COMPLETED, Status.TRANSFERRED, Status.VOICEMAIL), c
            continue
        assert c.status in FINISHED_STATUSES and c.turns, c
        assert "{" not in c.summary and "}" not in c.summary
        sentences = [s for s in re.split(r"(?<!Dr)\.\s", c.summary) if s]
        assert 1 <= len(sentences) <= 3, c.summary
        if c.caller_name:
            assert c.caller_name in c.summary or c.status == Status.FAILED or "voicemail" in c.summary


def test_recordings_only_on_answered_calls_and_chats(
    rows: list[NewConversation], pool: list[PoolFile]
) -> None:
    by_key = {p.blob_key: p for p in pool}
    eligible = [
        c
        for c in rows
        if c.status in (Status.COMPLETED, Status.TRANSFERRED)
        and c.channel in (Channel.TELEPHONE, Channel.WEBRTC)
    ]
    recorded = [c for c in rows if c.recordings]
    assert all(c in eligible for c in recorded)
    assert 0.3 < len(recorded) / len(eligible) < 0.5
    for c in recorded:
        (recording,) = c.recordings
        clip = by_key[recording.blob_key]
        assert recording.content_type == CONTENT_TYPE == "audio/wav"
        assert (recording.bytes, recording.duration_seconds) == (clip.bytes, clip.duration_seconds)
    assert len({c.recordings[0].blob_key for c in recorded}) > 6


def test_busier_on_weekday_business_hours(rows: list[NewConversation]) -> None:
    def business(moment: datetime) -> bool:
        local = moment - timedelta(hours=5)
        return local.weekday() < 5 and 9 <= local.hour < 17

    # 40 of 168 hours a week are business hours; they should carry most of the traffic.
    assert sum(business(c.created_at) for c in rows) / COUNT > 0.5


def test_audio_pool_is_small_valid_and_idempotent(tmp_path: Path) -> None:
    pool = ensure_audio_pool(tmp_path)
    assert len(pool) == POOL_SIZE
    for clip in pool:
        path = tmp_path / clip.blob_key
        assert clip.blob_key.startswith("seed/") and path.stat().st_size == clip.bytes
        with wave.open(str(path), "rb") as audio:
            assert audio.getnchannels() == 1 and audio.getsampwidth() == 2
            assert audio.getframerate() == clip.sample_rate
            assert clip.sample_rate in (8000, 16000)
            assert audio.getnframes() == clip.sample_rate * clip.duration_seconds
            assert 2 <= clip.duration_seconds <= 8
            samples = audio.readframes(audio.getnframes())
        assert max(samples) > 0  # not silence
    stamps = {clip.blob_key: (tmp_path / clip.blob_key).stat().st_mtime_ns for clip in pool}
    assert ensure_audio_pool(tmp_path) == pool
    assert {clip.blob_key: (tmp_path / clip.blob_key).stat().st_mtime_ns for clip in pool} == stamps
    damaged = tmp_path / pool[3].blob_key
    damaged.write_bytes(damaged.read_bytes()[:100])
    assert ensure_audio_pool(tmp_path) == pool
    assert damaged.stat().st_size == pool[3].bytes


def test_every_placeholder_in_the_vocabulary_can_be_filled() -> None:
    per_conversation = {"first", "company", "agent", "team", "medium", "caller", "reached_out", "callback"}
    known = per_conversation | {"voicemail"} | set(generator._SLOT_MAKERS)
    used: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            used.update(name for _, name, _, _ in Formatter().parse(value) if name)
        elif isinstance(value, tuple | list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            walk(list(value.values()))
        elif dataclasses.is_dataclass(value):
            walk([getattr(value, f.name) for f in dataclasses.fields(value)])

    walk([getattr(vocabulary, name) for name in dir(vocabulary) if name.isupper()])
    assert used and used <= known, used - known
    for topic in vocabulary.TOPICS:
        assert topic.cases and topic.agent_lines and topic.caller_lines
        assert topic.voicemail and not topic.voicemail.endswith(".")  # it ends "calling about ..."
