"""Plain records describing a conversation to be stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parley.conversations.enums import Channel, Direction, ParticipantRole, Speaker, Status


@dataclass(frozen=True, slots=True)
class Turn:
    speaker: Speaker
    text: str
    offset_ms: int


@dataclass(frozen=True, slots=True)
class Participant:
    address: str
    role: ParticipantRole


@dataclass(frozen=True, slots=True)
class Recording:
    blob_key: str
    content_type: str
    bytes: int
    duration_seconds: int | None


@dataclass(frozen=True, slots=True)
class NewConversation:
    id: int
    created_at: datetime
    channel: Channel
    direction: Direction
    status: Status
    agent_id: int | None = None
    agent_version: int | None = None
    user_id: str | None = None
    caller_name: str | None = None
    agent_number: str | None = None
    summary: str | None = None
    duration_seconds: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    turns: tuple[Turn, ...] = ()
    participants: tuple[Participant, ...] = field(default=())
    recordings: tuple[Recording, ...] = ()
    external_id: str | None = None
    ended_reason: str | None = None
    sentiment: str | None = None
    successful: bool | None = None
    tags: tuple[str, ...] = ()
