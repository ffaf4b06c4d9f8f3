"""Small, explicit test data: orgs, members, tokens and conversations written through the real code."""

from __future__ import annotations

import random
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, insert

from parley.accounts import service
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.auth.tokens import TokenKind
from parley.conversations.enums import Channel, Direction, ParticipantRole, Speaker, Status
from parley.conversations.ids import new_conversation_id, truncate_to_millis
from parley.db import tables
from parley.ingest.records import NewConversation, Participant, Recording, Turn
from parley.ingest.writer import insert_conversations

PASSWORD = "correct horse battery"
BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class OrgFixture:
    id: int
    slug: str
    agent_ids: list[int] = field(default_factory=list)
    conversation_ids: list[int] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # label -> secret


def make_org(engine: Engine, slug: str, agent_base: int) -> OrgFixture:
    with engine.begin() as conn:
        org = service.create_org(conn, slug)
        fixture = OrgFixture(org.id, org.slug)
        for n, name in enumerate(["Billing Assistant", "Appointment Scheduler"]):
            agent_id = agent_base + n
            conn.execute(
                insert(tables.agents).values(org_id=org.id, id=agent_id, name=name, created_at=BASE_TIME)
            )
            conn.execute(
                insert(tables.agent_versions),
                [
                    {"org_id": org.id, "agent_id": agent_id, "version": v, "created_at": BASE_TIME}
                    for v in (1, 2)
                ],
            )
            fixture.agent_ids.append(agent_id)
        for scopes, label in (
            ({Scope.READ}, "read"),
            ({Scope.READ, Scope.READ_SENSITIVE}, "sensitive"),
            ({Scope.MANAGE}, "manage"),
        ):
            fixture.tokens[label] = service.create_token(
                conn, TokenKind.API_KEY, frozenset(scopes), org_id=org.id
            )
    return fixture


def add_member(
    engine: Engine, passwords: Passwords, org: OrgFixture, email: str, role: Role, scopes: set[Scope]
) -> str:
    """Make a user of ``org`` with ``role`` and return a PAT carrying ``scopes``."""
    with engine.begin() as conn:
        target = service.get_org(conn, org.slug)
        user_id = service.find_user_id(conn, email)
        if user_id is None:
            user_id = service.create_user(conn, passwords, email, PASSWORD, target, role)
        else:
            conn.execute(
                insert(tables.memberships).values(
                    org_id=target.id, user_id=user_id, role=role.value, created_at=BASE_TIME
                )
            )
        return service.create_token(conn, TokenKind.PAT, frozenset(scopes), user_id=user_id)


def conversation(
    rng: random.Random,
    created_at: datetime,
    agent_id: int | None,
    **overrides: object,
) -> NewConversation:
    created_at = truncate_to_millis(created_at)
    values: dict[str, object] = {
        "id": new_conversation_id(created_at, rng),
        "created_at": created_at,
        "channel": Channel.TELEPHONE,
        "direction": Direction.INBOUND,
        "status": Status.COMPLETED,
        "agent_id": agent_id,
        "agent_version": 2 if agent_id else None,
        "user_id": f"+1415555{rng.randrange(10000):04d}",
        "caller_name": "Ada Lovelace",
        "agent_number": "+18005550100",
        "summary": "Caller asked about a refund for a damaged parcel.",
        "duration_seconds": 187,
        "started_at": created_at,
        "ended_at": created_at + timedelta(seconds=187),
        "turns": (
            Turn(Speaker.AGENT, "Hello, thanks for calling. How can I help?", 0),
            Turn(Speaker.CALLER, "My parcel arrived damaged and I would like a refund.", 4000),
        ),
    }
    values.update(overrides)
    return NewConversation(**values)  # type: ignore[arg-type]


def insert_all(engine: Engine, org: OrgFixture, items: list[NewConversation]) -> None:
    with engine.begin() as conn:
        insert_conversations(conn, org.id, items)
    org.conversation_ids.extend(item.id for item in items)


def varied_conversations(org: OrgFixture, count: int, seed: int = 1) -> list[NewConversation]:
    """A mix of channels, statuses and values, one minute apart (some sharing a timestamp)."""
    rng = random.Random(seed)
    items = []
    channels = [Channel.TELEPHONE, Channel.WEBRTC, Channel.EMAIL, Channel.TEXT]
    statuses = [
        Status.COMPLETED,
        Status.TRANSFERRED,
        Status.FAILED,
        Status.NO_ANSWER,
        Status.BUSY,
        Status.CANCELED,
        Status.VOICEMAIL,
        Status.IN_PROGRESS,
    ]
    for n in range(count):
        created = BASE_TIME - timedelta(minutes=n // 2)  # pairs share a timestamp: ties break by id
        channel = channels[n % 4]
        status = (
            Status.TOKEN_CREATED if channel == Channel.WEBRTC and n % 7 == 0 else statuses[n % len(statuses)]
        )
        items.append(
            conversation(
                rng,
                created,
                org.agent_ids[n % 2] if n % 5 else None,
                channel=channel,
                direction=Direction.OUTBOUND
                if n % 3 == 0 and channel != Channel.WEBRTC
                else Direction.INBOUND,
                status=status,
                user_id=f"guest_{n:06x}" if channel == Channel.WEBRTC else f"+4420790{n:05d}",
                caller_name=None if n % 4 == 1 else f"Caller {n}",
                duration_seconds=None if status in (Status.IN_PROGRESS, Status.TOKEN_CREATED) else 10 * n,
                participants=(Participant(f"cc{n}@example.com", ParticipantRole.CC),)
                if channel == Channel.EMAIL and (n // 4) % 2
                else (),
                recordings=(Recording("calls/sample.wav", "audio/wav", 44, 1),)
                if status in (Status.COMPLETED, Status.TRANSFERRED) and channel == Channel.TELEPHONE
                else (),
            )
        )
    return items


def write_sample_wav(path: Path, frames: bytes = bytes(range(256)) * 40) -> Path:
    """A tiny valid WAV (8 kHz mono 16-bit) where the factory's recordings point."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(frames)
    return path
