"""Realistic synthetic conversations, made without touching a database.

Everything comes from the ``rng`` passed in, consumed in a fixed order, so the same seed and
inputs give the same records, ids included. Conversations come out in creation order: the ids
grow with time, which keeps every index insert near the right-hand edge of its B-tree and lets
id collisions be checked within one millisecond instead of against a set of a million ids.

Speed matters (a million rows should take minutes, not hours), so per-row work is kept to
random draws, small dict lookups and ``str.format_map`` on pre-written templates.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from operator import itemgetter
from typing import TypeVar

from parley.conversations.enums import Channel, Direction, ParticipantRole, Speaker, Status
from parley.conversations.ids import new_conversation_id, to_millis, truncate_to_millis
from parley.ingest.records import NewConversation, Participant, Recording, Turn
from parley.seed import vocabulary as vocab
from parley.seed.audio import CONTENT_TYPE, PoolFile

_T = TypeVar("_T")

HOUR_MS = 3_600_000
_DAY_MS = 24 * HOUR_MS
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Module-level names: looking a member up on its enum class costs more than the comparison.
TELEPHONE, WEBRTC, EMAIL, TEXT = Channel.TELEPHONE, Channel.WEBRTC, Channel.EMAIL, Channel.TEXT
INBOUND, OUTBOUND = Direction.INBOUND, Direction.OUTBOUND
AGENT, CALLER, SYSTEM = Speaker.AGENT, Speaker.CALLER, Speaker.SYSTEM
TOKEN_CREATED = Status.TOKEN_CREATED
QUEUED = Status.QUEUED
RINGING = Status.RINGING
IN_PROGRESS = Status.IN_PROGRESS
COMPLETED = Status.COMPLETED
TRANSFERRED = Status.TRANSFERRED
FAILED = Status.FAILED
NO_ANSWER = Status.NO_ANSWER
BUSY = Status.BUSY
CANCELED = Status.CANCELED
VOICEMAIL = Status.VOICEMAIL

CHANNEL_WEIGHTS: tuple[tuple[Channel, float], ...] = ((TELEPHONE, 45), (WEBRTC, 25), (EMAIL, 18), (TEXT, 12))
# Agents place calls, send texts and write emails; nobody is "called" through a web widget.
OUTBOUND_SHARE: dict[Channel, float] = {TELEPHONE: 0.30, WEBRTC: 0.0, EMAIL: 0.20, TEXT: 0.40}
# Only for webrtc: a widget issued a token and the visitor never connected.
TOKEN_CREATED_SHARE = 0.04
# Finished outcomes per channel and direction. Ringing-related outcomes (no answer, busy,
# voicemail) only exist for calls the agent places.
STATUS_WEIGHTS: dict[tuple[Channel, Direction], tuple[tuple[Status, float], ...]] = {
    (TELEPHONE, INBOUND): ((COMPLETED, 68), (TRANSFERRED, 15), (FAILED, 4), (CANCELED, 9)),
    (TELEPHONE, OUTBOUND): (
        (COMPLETED, 46),
        (TRANSFERRED, 6),
        (FAILED, 4),
        (NO_ANSWER, 17),
        (BUSY, 7),
        (VOICEMAIL, 15),
        (CANCELED, 5),
    ),
    (WEBRTC, INBOUND): ((COMPLETED, 70), (TRANSFERRED, 11), (FAILED, 5), (CANCELED, 10)),
    (EMAIL, INBOUND): ((COMPLETED, 82), (TRANSFERRED, 10), (FAILED, 3), (CANCELED, 5)),
    (EMAIL, OUTBOUND): ((COMPLETED, 84), (TRANSFERRED, 4), (FAILED, 9), (CANCELED, 3)),
    (TEXT, INBOUND): ((COMPLETED, 80), (TRANSFERRED, 9), (FAILED, 4), (CANCELED, 7)),
    (TEXT, OUTBOUND): ((COMPLETED, 82), (TRANSFERRED, 5), (FAILED, 10), (CANCELED, 3)),
}
# How long a conversation that never connected took to end, in ms: ringing out, a busy tone, a
# caller hanging up while waiting.
_UNANSWERED_MS: dict[Status, tuple[int, int]] = {
    NO_ANSWER: (20_000, 45_000),
    BUSY: (1_000, 5_000),
    CANCELED: (2_000, 40_000),
}
RECORDED_SHARE = 0.40
CALLER_NAME_SHARE: dict[Channel, float] = {TELEPHONE: 0.60, WEBRTC: 0.50, EMAIL: 0.85, TEXT: 0.45}
# Extra email recipients: most threads have none or one.
PARTICIPANT_COUNT_WEIGHTS = (55, 25, 10, 5, 3, 2)
_ROLES = (ParticipantRole.CC,) * 6 + (ParticipantRole.TO,) * 3 + (ParticipantRole.BCC,)

# Phone number shapes: (country code, leading digits, how many random digits follow, weight).
# US numbers use the 555 exchange so they read as fictional.
_US_AREAS = ("415", "212", "646", "312", "617", "206", "512", "303", "404", "305", "702", "213", "718", "503")
_PHONE_SHAPES: tuple[tuple[str, tuple[str, ...], int, float], ...] = (
    ("+1", tuple(a + "555" for a in _US_AREAS), 4, 62),
    ("+1", ("416555", "604555", "514555"), 4, 6),  # Canada
    ("+44", ("7700", "7911", "7400"), 6, 7),
    ("+49", ("151", "160", "176"), 8, 4),
    ("+33", ("6", "7"), 8, 3),
    ("+61", ("4",), 8, 3),
    ("+91", ("98", "91", "70"), 8, 4),
    ("+52", ("55", "33"), 8, 3),
    ("+55", ("119",), 8, 2),
    ("+81", ("90", "80"), 8, 2),
    ("+234", ("80", "81"), 8, 2),
    ("+34", ("6",), 8, 2),
)


def _choose(random_: Callable[[], float], options: Sequence[_T]) -> _T:
    """``rng.choice`` without its overhead: one float draw, no rejection sampling."""
    return options[int(random_() * len(options))]


def _between(random_: Callable[[], float], low: int, high: int) -> int:
    """An int in ``[low, high)``, like ``rng.randrange(low, high)`` but several times cheaper."""
    return low + int(random_() * (high - low))


@dataclass(frozen=True, slots=True)
class SeedVersion:
    """A released version of an agent; conversations after ``created_at`` may run it."""

    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SeedAgent:
    """An agent conversations can be attributed to, with the addresses it talks from.

    Each agent owns one address per channel, derived from its id, so it is the same in every
    run: a phone number, an SMS number, a mailbox and a web widget id.
    """

    id: int
    name: str
    persona: str
    topics: tuple[str, ...]  # topic keys it mostly handles; empty means any
    versions: tuple[SeedVersion, ...]  # oldest first
    phone: str
    sms: str
    email: str
    widget: str

    def number_for(self, channel: Channel) -> str:
        """The address this agent uses on ``channel``: what a conversation stores as agent_number."""
        if channel == TELEPHONE:
            return self.phone
        if channel == TEXT:
            return self.sms
        if channel == EMAIL:
            return self.email
        return self.widget


def make_seed_agent(agent_id: int, name: str, versions: Sequence[SeedVersion], domain: str) -> SeedAgent:
    """Describe an agent for the generator; a name from the vocabulary brings its persona and topics."""
    template = next((t for t in vocab.AGENT_TEMPLATES if t.name == name), None)
    mailbox = template.mailbox if template else (_ascii_slug(name, ".") or "support")
    rng = random.Random(f"parley-agent-{agent_id}")
    toll_free = _choose(rng.random, ("800", "833", "844", "855", "866", "877", "888"))
    return SeedAgent(
        id=agent_id,
        name=name,
        persona=template.persona if template else name,
        topics=template.topics if template else (),
        versions=tuple(sorted(versions, key=lambda v: (v.created_at, v.version))),
        phone=f"+1{toll_free}555{int(rng.random() * 10_000):04d}",
        sms=f"+1{_choose(rng.random, _US_AREAS)}555{int(rng.random() * 10_000):04d}",
        email=f"{mailbox}@{domain}",
        widget=f"wdg_{rng.getrandbits(24):06x}",
    )


def company_for(slug: str) -> tuple[str, str]:
    """The (name, domain) an org's agents work for: fixed per slug, so reruns agree."""
    return random.Random(f"parley-company-{slug}").choice(vocab.COMPANIES)


def generate_conversations(
    rng: random.Random,
    count: int,
    agents: Sequence[SeedAgent],
    start: datetime,
    end: datetime,
    pool: Sequence[PoolFile],
    *,
    company: tuple[str, str] = vocab.COMPANIES[0],
) -> Iterator[NewConversation]:
    """Yield ``count`` conversations created in ``[start, end)``, oldest first.

    Deterministic for the same ``rng`` state and inputs. ``end`` plays "now": only rows in its
    last hours can still be queued, ringing or in progress. ``pool`` is the audio recordings
    point at; an empty pool means no recordings. ``company`` is the (name, email domain) the
    agents speak for.
    """
    if count < 0:
        raise ValueError("count must be zero or more")
    if not agents:
        raise ValueError("at least one agent is needed")
    start_ms, end_ms = to_millis(truncate_to_millis(start)), to_millis(truncate_to_millis(end))
    if end_ms <= start_ms:
        raise ValueError("end must be after start")
    if count == 0:
        return
    maker = _Maker(rng, count, agents, pool, company, end_ms)
    seen: set[int] = set()  # ids of the current millisecond; rows arrive in time order
    seen_ms = -1
    for created_ms, live_status in _timeline(rng, count, start_ms, end_ms):
        created_at = truncate_to_millis(_EPOCH + timedelta(milliseconds=created_ms))
        if created_ms != seen_ms:
            seen.clear()
            seen_ms = created_ms
        conversation_id = new_conversation_id(created_at, rng)
        while conversation_id in seen:
            conversation_id = new_conversation_id(created_at, rng)
        seen.add(conversation_id)
        yield maker.make(conversation_id, created_at, created_ms, live_status)


# --- when conversations happen ------------------------------------------------------------------


def _hour_weight(hour_start_ms: int) -> float:
    """Relative volume for an hour: busiest in business hours on weekdays (US Eastern-ish)."""
    local_ms = hour_start_ms - 5 * HOUR_MS
    hour = (local_ms // HOUR_MS) % 24
    weekday = (local_ms // _DAY_MS + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    if 9 <= hour < 17:
        weight = 1.0
    elif hour in (8, 17, 18, 19):
        weight = 0.5
    elif hour in (7, 20, 21):
        weight = 0.2
    else:
        weight = 0.05
    return weight if weekday < 5 else weight * 0.3


def _live_rows(rng: random.Random, count: int, start_ms: int, end_ms: int) -> list[tuple[int, Status | None]]:
    """A few rows right before ``end`` that are still ringing, queued or in progress.

    Their number follows the hourly volume, with at least one of each once a seed is big enough
    to show every status; they are rare, and only ever recent.
    """
    if count < 100:
        return []
    per_hour = count * HOUR_MS / (end_ms - start_ms)
    plan = (
        (RINGING, max(1, round(per_hour * 0.02)), 60_000),
        (QUEUED, max(1, round(per_hour * 0.05)), 5 * 60_000),
        (IN_PROGRESS, max(2, round(per_hour * 0.12)), 40 * 60_000),
    )
    rows: list[tuple[int, Status | None]] = []
    for status, how_many, window in plan:
        window = min(window, end_ms - start_ms)
        rows.extend((end_ms - 1 - int(rng.random() * window), status) for _ in range(how_many))
    rows.sort(key=itemgetter(0))
    return rows[: count // 10]


def _timeline(
    rng: random.Random, count: int, start_ms: int, end_ms: int
) -> Iterator[tuple[int, Status | None]]:
    """Creation times (ms) in ascending order, each with a forced live status or None.

    The window is cut into hours; each hour gets a share of the rows proportional to its weight
    (with some noise and a gentle upward trend), rounded so the shares add up to ``count``.
    """
    live = _live_rows(rng, count, start_ms, end_ms)
    regular = count - len(live)
    hours = -(-(end_ms - start_ms) // HOUR_MS)
    weights = []
    for i in range(hours):
        hour_start = start_ms + i * HOUR_MS
        width = min(HOUR_MS, end_ms - hour_start)
        trend = 0.8 + 0.4 * i / hours
        weights.append(_hour_weight(hour_start) * rng.uniform(0.7, 1.3) * trend * width / HOUR_MS)
    total = sum(weights)
    placed = 0
    next_live = 0
    for i, cumulative in enumerate(accumulate(weights)):
        upto = regular if i == hours - 1 else round(regular * cumulative / total)
        hour_start = start_ms + i * HOUR_MS
        width = min(HOUR_MS, end_ms - hour_start)
        rows: list[tuple[int, Status | None]] = [
            (hour_start + int(rng.random() * width), None) for _ in range(upto - placed)
        ]
        placed = upto
        while next_live < len(live) and live[next_live][0] < hour_start + width:
            rows.append(live[next_live])
            next_live += 1
        rows.sort(key=itemgetter(0))
        yield from rows


# --- who takes part -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Customer:
    name: str
    first: str
    phone: str
    email: str


def _ascii_slug(text: str, joiner: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return joiner.join("".join(ch for ch in word if ch.isalnum()) for word in plain.split())


_ASCII_FIRST_NAMES = tuple(_ascii_slug(name, "") for name in vocab.FIRST_NAMES)
_ASCII_LAST_NAMES = tuple(_ascii_slug(name, "") for name in vocab.LAST_NAMES)


def _phone_number(rng: random.Random, cumulative: list[float]) -> str:
    code, prefixes, digits, _ = _PHONE_SHAPES[bisect_right(cumulative, rng.random() * cumulative[-1])]
    return f"{code}{_choose(rng.random, prefixes)}{int(rng.random() * 10**digits):0{digits}d}"


def _customers(rng: random.Random, count: int) -> list[_Customer]:
    """A customer base smaller than the conversation count, so people get in touch repeatedly."""
    size = min(max(count // 4, 50), 50_000)
    phone_weights = list(accumulate(shape[3] for shape in _PHONE_SHAPES))
    people = []
    for _ in range(size):
        first, last = _choose(rng.random, vocab.FIRST_NAMES), _choose(rng.random, vocab.LAST_NAMES)
        f, l_ = _ascii_slug(first, ""), _ascii_slug(last, "")
        style = int(rng.random() * 5)
        local = (
            f"{f}.{l_}",
            f"{f}{l_}",
            f"{f[0]}.{l_}",
            f"{f}_{l_}{_between(rng.random, 10, 99)}",
            f"{f}{_between(rng.random, 1, 999)}",
        )[style]
        email = f"{local}@{_choose(rng.random, vocab.EMAIL_DOMAINS)}"
        people.append(_Customer(f"{first} {last}", first, _phone_number(rng, phone_weights), email))
    return people


# --- placeholder values -----------------------------------------------------------------------


def _plan_up(rng: random.Random, slots: _Slots) -> str:
    plans = vocab.PLANS
    index = plans.index(slots["plan"])
    return (
        plans[min(index + 1 + int(rng.random() * 2), len(plans) - 1)] if index < len(plans) - 1 else plans[-1]
    )


_SLOT_MAKERS: dict[str, Callable[[random.Random, _Slots], str]] = {
    "order": lambda rng, _: str(_between(rng.random, 1_000_000, 10_000_000)),
    "invoice": lambda rng, _: f"INV-{_between(rng.random, 10_000, 100_000)}",
    "amount": lambda rng, _: f"${_between(rng.random, 12, 480)}.{int(rng.random() * 100):02d}",
    "last4": lambda rng, _: f"{int(rng.random() * 10_000):04d}",
    "day": lambda rng, _: _choose(rng.random, vocab.WEEKDAYS),
    "time": lambda rng, _: _choose(rng.random, vocab.TIMES),
    "plan": lambda rng, _: _choose(rng.random, vocab.PLANS[:-1]),
    "plan_up": _plan_up,
    "claim": lambda rng, _: f"CLM-{_between(rng.random, 100_000, 1_000_000)}",
    "ticket": lambda rng, _: str(_between(rng.random, 10_000, 100_000)),
    "tracking": lambda rng, _: f"1Z{rng.getrandbits(40):010X}",
    "carrier": lambda rng, _: _choose(rng.random, vocab.CARRIERS),
    "city": lambda rng, _: _choose(rng.random, vocab.CITIES),
    "device": lambda rng, _: _choose(rng.random, vocab.DEVICES),
    "item": lambda rng, _: _choose(rng.random, vocab.ITEMS),
    "doctor": lambda rng, _: f"Dr. {_choose(rng.random, vocab.LAST_NAMES)}",
    "days": lambda rng, _: str(_between(rng.random, 2, 6)),
}


class _Slots(dict[str, str]):
    """Template values for one conversation; a detail is invented the first time it's used, so
    every mention of the order number in one conversation agrees."""

    __slots__ = ("_rng",)

    def __init__(self, rng: random.Random, base: dict[str, str]) -> None:
        super().__init__(base)
        self._rng = rng

    def __missing__(self, key: str) -> str:
        value = _SLOT_MAKERS[key](self._rng, self)
        self[key] = value
        return value


# --- one conversation --------------------------------------------------------------------------


def _cumulative(pairs: Sequence[tuple[_T, float]]) -> tuple[tuple[_T, ...], list[float]]:
    return tuple(p[0] for p in pairs), list(accumulate(p[1] for p in pairs))


def _pick(rng: random.Random, choices: tuple[tuple[_T, ...], list[float]]) -> _T:
    values, cumulative = choices
    return values[bisect_right(cumulative, rng.random() * cumulative[-1])]


def _dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, int(value)))


class _Maker:
    """Builds one conversation at a time; holds everything that can be worked out once."""

    def __init__(
        self,
        rng: random.Random,
        count: int,
        agents: Sequence[SeedAgent],
        pool: Sequence[PoolFile],
        company: tuple[str, str],
        end_ms: int,
    ) -> None:
        self.rng = rng
        self.end_ms = end_ms
        self.company, self.domain = company
        self.agents = list(agents)
        self.agent_cumulative = list(accumulate(rng.uniform(0.5, 2.0) for _ in self.agents))
        self.version_ms = [[to_millis(v.created_at) for v in a.versions] for a in self.agents]
        all_topics = tuple(t.key for t in vocab.TOPICS)
        outbound_topics = tuple(t.key for t in vocab.TOPICS if t.outbound_cases)
        self.topics_in = [a.topics or all_topics for a in self.agents]
        self.topics_out = [
            tuple(k for k in a.topics if k in outbound_topics) or outbound_topics for a in self.agents
        ]
        self.all_topics = all_topics
        self.outbound_topics = outbound_topics
        self.channels = _cumulative(CHANNEL_WEIGHTS)
        self.statuses = {key: _cumulative(weights) for key, weights in STATUS_WEIGHTS.items()}
        self.customers = _customers(rng, count)
        self.phone_pool = [p for p in pool if p.sample_rate <= 8000] or list(pool)
        self.web_pool = [p for p in pool if p.sample_rate > 8000] or list(pool)
        self.participant_counts = list(accumulate(PARTICIPANT_COUNT_WEIGHTS))
        self.internal_mailboxes = ("escalations", "accounts", "team-lead", "quality", "records")

    def make(
        self, conversation_id: int, created_at: datetime, created_ms: int, live: Status | None
    ) -> NewConversation:
        rng = self.rng
        random_ = rng.random
        channel = TELEPHONE if live == RINGING else _pick(rng, self.channels)
        direction = OUTBOUND if random_() < OUTBOUND_SHARE[channel] else INBOUND
        outbound = direction == OUTBOUND

        a = bisect_right(self.agent_cumulative, random_() * self.agent_cumulative[-1])
        agent = self.agents[a]
        agent_version = self._version(a, created_ms)
        if outbound:
            pool = self.topics_out[a] if random_() < 0.8 else self.outbound_topics
        else:
            pool = self.topics_in[a] if random_() < 0.8 else self.all_topics
        topic = vocab.TOPICS_BY_KEY[pool[int(random_() * len(pool))]]
        cases = topic.outbound_cases if outbound else topic.cases
        case = cases[int(random_() * len(cases))]

        if live is not None:
            status = live
        elif channel == WEBRTC and random_() < TOKEN_CREATED_SHARE:
            status = TOKEN_CREATED
        else:
            status = _pick(rng, self.statuses[channel, direction])

        customer = self.customers[int(len(self.customers) * random_() ** 2)]  # some call often
        user_id, caller_name = self._caller(channel, outbound, customer)
        agent_number = agent.number_for(channel)
        slots = _Slots(
            rng,
            {
                "first": customer.first if caller_name else "there",
                "company": self.company,
                "agent": agent.persona,
                "team": topic.team,
                "medium": vocab.MEDIUM[channel],
                "caller": caller_name or ("The customer" if outbound else vocab.ANONYMOUS_CALLER[channel]),
                "reached_out": vocab.REACHED_OUT[channel, direction],
                "callback": agent.phone,
            },
        )

        started_ms, duration, turns, ended_ms = self._course(
            channel, status, outbound, topic, case, slots, created_ms
        )
        if live == IN_PROGRESS or (ended_ms is not None and ended_ms > self.end_ms):
            # Still going at "now": keep what has been said so far; nothing is final yet.
            if started_ms is not None and started_ms < self.end_ms:
                status = IN_PROGRESS
                heard = self.end_ms - started_ms
                if ended_ms is not None and ended_ms <= self.end_ms:
                    # A row picked to be live whose script would already be over: catch it mid-way.
                    heard = (ended_ms - started_ms) * 2 // 3
                turns = [t for t in turns if t.offset_ms <= heard]
            else:
                status = RINGING if channel == TELEPHONE else QUEUED
                started_ms, turns = None, []
            duration = ended_ms = None

        summary = None
        if turns and status in (COMPLETED, TRANSFERRED, FAILED, VOICEMAIL):
            summary = self._summary(channel, status, topic, case, slots)
        recordings: tuple[Recording, ...] = ()
        if (
            status in (COMPLETED, TRANSFERRED)
            and channel in (TELEPHONE, WEBRTC)
            and random_() < RECORDED_SHARE
        ):
            clips = self.phone_pool if channel == TELEPHONE else self.web_pool
            if clips:
                clip = clips[int(random_() * len(clips))]
                recordings = (Recording(clip.blob_key, CONTENT_TYPE, clip.bytes, clip.duration_seconds),)
        participants = self._participants(customer, topic, user_id) if channel == EMAIL else ()

        return NewConversation(
            id=conversation_id,
            created_at=created_at,
            channel=channel,
            direction=direction,
            status=status,
            agent_id=agent.id,
            agent_version=agent_version,
            user_id=user_id,
            caller_name=caller_name,
            agent_number=agent_number,
            summary=summary,
            duration_seconds=duration,
            started_at=None if started_ms is None else _dt(started_ms),
            ended_at=None if ended_ms is None else _dt(ended_ms),
            turns=tuple(turns),
            participants=participants,
            recordings=recordings,
        )

    def _version(self, agent_index: int, created_ms: int) -> int | None:
        versions = self.agents[agent_index].versions
        if not versions or self.rng.random() < 0.03:  # some integrations never report a version
            return None
        index = max(0, bisect_right(self.version_ms[agent_index], created_ms) - 1)
        if index > 0 and self.rng.random() < 0.12:  # rollouts are gradual: the old one lingers
            index -= 1
        return versions[index].version

    def _caller(self, channel: Channel, outbound: bool, customer: _Customer) -> tuple[str | None, str | None]:
        random_ = self.rng.random
        if channel == WEBRTC:
            roll = random_()
            if roll < 0.80:
                user_id: str | None = f"guest_{self.rng.getrandbits(48):012x}"
            elif roll < 0.95:
                user_id = customer.email  # a signed-in visitor
            else:
                user_id = None
        elif channel == EMAIL:
            user_id = customer.email
        elif channel == TELEPHONE and not outbound and random_() < 0.04:
            return None, None  # caller id withheld
        else:
            user_id = customer.phone
        name = customer.name if random_() < CALLER_NAME_SHARE[channel] else None
        return user_id, name

    def _course(
        self,
        channel: Channel,
        status: Status,
        outbound: bool,
        topic: vocab.Topic,
        case: vocab.Case,
        slots: _Slots,
        created_ms: int,
    ) -> tuple[int | None, int | None, list[Turn], int | None]:
        """When it started, how long it lasted, what was said and when it ended."""
        rng = self.rng
        random_ = rng.random
        if status in (TOKEN_CREATED, QUEUED, RINGING):
            return None, None, [], None
        voice = channel in (TELEPHONE, WEBRTC)
        if status in (NO_ANSWER, BUSY, CANCELED):
            # Never connected: it ended after ringing out, a busy tone, or a hang-up.
            low, high = _UNANSWERED_MS[status]
            return None, None, [], created_ms + _between(random_, low, high)
        if status == FAILED and voice and random_() < 0.5:
            return None, None, [], created_ms + _between(rng.random, 1_000, 10_000)  # never connected

        setup = (
            _between(rng.random, 2_000, 15_000)
            if channel == TELEPHONE
            else _between(rng.random, 1_000, 20_000)
        )
        if status == VOICEMAIL:
            started = created_ms + _between(rng.random, 15_000, 30_000)
            duration = _between(rng.random, 15, 45)
            slots["voicemail"] = topic.voicemail.format_map(slots)  # may hold a detail: "your claim {claim}"
            text = _choose(rng.random, vocab.VOICEMAILS).format_map(slots)
            return (
                started,
                duration,
                [Turn(AGENT, text, _between(rng.random, 1_200, 3_000))],
                started + duration * 1000,
            )
        if not voice:
            setup = 0  # the first message is the start

        if status == FAILED:
            duration = (
                _clamp(rng.lognormvariate(4.0, 0.8), 5, 600)
                if voice
                else _clamp(rng.lognormvariate(6.5, 1.2), 30, 86_400)
            )
            script = self._script(channel, outbound, topic, case, 0, None, _between(rng.random, 0, 3))
            script.append((SYSTEM, vocab.SYSTEM_FAILED[channel]))
        else:
            if channel == TELEPHONE:
                duration = _clamp(rng.lognormvariate(5.5, 0.75), 30, 1_500)
                if random_() < 0.005:
                    duration = _between(rng.random, 3_600, 5_700)  # the rare marathon call
                turns_wanted = _clamp(4 + duration / 25 + _between(rng.random, -2, 3), 4, 24)
            elif channel == WEBRTC:
                duration = _clamp(rng.lognormvariate(5.2, 0.7), 20, 1_800)
                turns_wanted = _clamp(4 + duration / 20 + _between(rng.random, -2, 3), 4, 20)
            elif channel == EMAIL:
                duration = _clamp(rng.lognormvariate(9.3, 1.2), 300, 172_800)  # median ~3 h, at most 2 days
                turns_wanted = _between(rng.random, 4, 9)
            else:
                duration = _clamp(rng.lognormvariate(6.9, 1.3), 60, 86_400)  # median ~17 min
                turns_wanted = _between(rng.random, 4, 15)
            transfer = topic.team if status == TRANSFERRED else None
            script = self._script(channel, outbound, topic, case, turns_wanted, transfer, None)

        # Most lines have no placeholder; skipping format_map for them is a measurable saving.
        texts = [template.format_map(slots) if "{" in template else template for _, template in script]
        offsets = self._offsets(voice, duration * 1000, texts)
        turns = [
            Turn(speaker, text, offset)
            for (speaker, _), text, offset in zip(script, texts, offsets, strict=True)
        ]
        started = created_ms + setup
        return started, duration, turns, started + duration * 1000

    def _script(
        self,
        channel: Channel,
        outbound: bool,
        topic: vocab.Topic,
        case: vocab.Case,
        wanted: int,
        transfer: str | None,
        cut_after: int | None,
    ) -> list[tuple[Speaker, str]]:
        """Who says what, as (speaker, template): strictly alternating agent and caller, opened the
        way the channel opens, ended by a resolution, a transfer, or cut short (``cut_after``
        middle turns)."""
        rng = self.rng
        random_ = rng.random
        script: list[tuple[Speaker, str]]
        if outbound:
            opener = case.opener
            if channel == TELEPHONE:
                script = [
                    (AGENT, _choose(random_, vocab.OUTBOUND_GREETINGS_CALL)),
                    (CALLER, _choose(random_, vocab.OUTBOUND_ACKS)),
                    (AGENT, opener),
                ]
            else:
                script = [(AGENT, _choose(random_, vocab.OUTBOUND_GREETINGS_WRITTEN) + " " + opener)]
        elif channel in (TELEPHONE, WEBRTC):
            greetings = vocab.GREETINGS_CALL if channel == TELEPHONE else vocab.GREETINGS_CHAT
            script = [(AGENT, _choose(random_, greetings)), (CALLER, case.opener)]
        else:
            script = [
                (CALLER, case.opener),
                (AGENT, _choose(random_, vocab.GREETINGS_REPLY)),
            ]

        if cut_after is not None:
            middle = cut_after
        else:
            ending = 2 if transfer else 3
            middle = max(0, wanted - len(script) - ending)
            # The middle must end with the caller so the agent speaks next.
            if (middle % 2 == 1) != (script[-1][0] == AGENT):
                middle += -1 if middle else 1
        agent_lines = topic.agent_lines
        # The topic's customer lines answer questions about a problem they raised; when the
        # agent reached out, the customer mostly reacts instead.
        caller_lines = vocab.OUTBOUND_CALLER_LINES if outbound else topic.caller_lines
        agent_fillers, caller_fillers = vocab.AGENT_FILLERS, vocab.CALLER_FILLERS
        # Walk each list from a random start (fewer repeats across conversations), then cycle
        # through the fillers rather than drawing them, so the same filler never comes twice in a row.
        a0, c0 = int(random_() * 2), int(random_() * 2)
        f0 = int(random_() * len(agent_fillers))
        said_agent = said_caller = 0
        speaker = CALLER if script[-1][0] == AGENT else AGENT
        for _ in range(middle):
            if speaker == AGENT:
                i = a0 + said_agent
                line = (
                    agent_lines[i] if i < len(agent_lines) else agent_fillers[(f0 + i) % len(agent_fillers)]
                )
                said_agent += 1
            else:
                i = c0 + said_caller
                line = (
                    caller_lines[i]
                    if i < len(caller_lines)
                    else caller_fillers[(f0 + i) % len(caller_fillers)]
                )
                said_caller += 1
            script.append((speaker, line))
            speaker = CALLER if speaker == AGENT else AGENT
        if cut_after is not None:
            return script
        if transfer:
            script.append((AGENT, _choose(random_, vocab.TRANSFER_LINES)))
            script.append((SYSTEM, vocab.SYSTEM_TRANSFERRED[channel]))
        else:
            script.append((AGENT, case.resolution))
            script.append((CALLER, _choose(random_, vocab.CALLER_THANKS)))
            script.append((AGENT, _choose(random_, vocab.AGENT_CLOSINGS)))
        return script

    def _offsets(self, voice: bool, total_ms: int, texts: list[str]) -> list[int]:
        """Strictly increasing start times within ``total_ms``.

        Calls and chats are paced by how long each line takes to say; emails and texts land at
        random moments, the first at 0 and the last at the end of the thread.
        """
        n = len(texts)
        if voice:
            pad = min(1_500, total_ms // 10)
            lengths = [len(t) + 20 for t in texts]  # +20: a pause between turns
            scale = (total_ms - pad) / sum(lengths)
            offsets = [pad + int(before * scale) for before in accumulate([0, *lengths[:-1]])]
        else:
            random_ = self.rng.random
            inner = sorted(int(random_() * total_ms) for _ in range(n - 2)) if n > 2 else []
            offsets = [0, *inner, total_ms][:n] if n > 1 else [0]
        for i in range(1, n):  # equal draws happen; nudge to keep the order strict
            if offsets[i] <= offsets[i - 1]:
                offsets[i] = offsets[i - 1] + 1
        return offsets

    def _summary(
        self, channel: Channel, status: Status, topic: vocab.Topic, case: vocab.Case, slots: _Slots
    ) -> str:
        rng = self.rng
        random_ = rng.random
        if status == VOICEMAIL:
            # The voicemail said "your appointment"; the summary speaks of "their appointment".
            slots["voicemail"] = topic.voicemail.format_map(slots).replace("your ", "their ")
            return _choose(random_, vocab.SUMMARY_VOICEMAIL).format_map(slots)
        sentences = [case.about]
        if status == COMPLETED:
            sentences.append(case.outcome)
            if topic.follow_ups and rng.random() < 0.4:
                sentences.append(_choose(random_, topic.follow_ups))
        elif status == TRANSFERRED:
            sentences.append(_choose(random_, vocab.SUMMARY_TRANSFERRED))
            if rng.random() < 0.3:
                sentences.append(_choose(random_, vocab.SUMMARY_TRANSFERRED_FOLLOW_UPS))
        else:
            sentences.append(vocab.SUMMARY_FAILED[channel])
        return " ".join(sentences).format_map(slots)

    def _participants(
        self, customer: _Customer, topic: vocab.Topic, user_id: str | None
    ) -> tuple[Participant, ...]:
        rng = self.rng
        how_many = bisect_right(self.participant_counts, rng.random() * self.participant_counts[-1])
        if how_many == 0:
            return ()
        customer_domain = customer.email.rsplit("@", 1)[1]
        taken = {user_id}
        people: list[Participant] = []
        while len(people) < how_many:
            roll = rng.random()
            if roll < 0.55:  # someone from the customer's side
                first = _choose(rng.random, _ASCII_FIRST_NAMES)
                address = f"{first}.{_choose(rng.random, _ASCII_LAST_NAMES)}@{customer_domain}"
            elif roll < 0.8:  # the team that owns the topic
                address = f"{topic.team.replace(' ', '-')}@{self.domain}"
            else:
                address = f"{_choose(rng.random, self.internal_mailboxes)}@{self.domain}"
            if address in taken:
                continue
            taken.add(address)
            people.append(Participant(address, _ROLES[int(rng.random() * len(_ROLES))]))
        return tuple(people)
