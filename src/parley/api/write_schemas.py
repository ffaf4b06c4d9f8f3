"""Request bodies of the write API. Unknown fields are refused: a typo must not be dropped silently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from parley.conversations.enums import Channel, Direction, ParticipantRole, Sentiment, Status

MAX_TURNS_PER_REQUEST = 500
MAX_SECONDS = 2**31 - 1


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise ValueError("must include a time zone offset, e.g. 2026-11-01T09:30:00Z")
    return moment


def _past(moment: datetime | None) -> datetime | None:
    """A conversation's id carries its creation time in milliseconds since 1970, in 41 bits:
    it cannot start before 1970, and one from the future is a client's clock gone wrong."""
    if moment is None:
        return None
    if moment < _EPOCH or moment > datetime.now(UTC) + _SKEW:
        raise ValueError("must lie between 1970 and now")
    return moment


# No database text type can hold a NUL (PostgreSQL refuses it): stated in the schema and checked.
NUL_FREE = r"^[^\x00]*$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SKEW = timedelta(days=1)
Text = Annotated[str, StringConstraints(max_length=20_000, pattern=NUL_FREE)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=320, pattern=NUL_FREE)]
Moment = Annotated[datetime | None, AfterValidator(_aware)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True, pattern=NUL_FREE)]
Seconds = Annotated[int, Field(ge=0, le=MAX_SECONDS)]
AgentId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParticipantIn(_Strict):
    address: Short
    role: ParticipantRole = ParticipantRole.CC


class Analysis(_Strict):
    """Fields the providers' analyses produce, settable at creation and by PATCH."""

    summary: Text | None = None
    duration_seconds: Seconds | None = None
    started_at: Moment = None
    ended_at: Moment = None
    ended_reason: Annotated[str, StringConstraints(max_length=200, pattern=NUL_FREE)] | None = None
    sentiment: Sentiment | None = None
    successful: bool | None = None
    tags: Annotated[list[Tag], Field(max_length=50)] | None = None


class ConversationCreate(Analysis):
    channel: Channel
    direction: Direction
    status: Status = Status.IN_PROGRESS
    agent_id: AgentId | None = None
    agent_version: Annotated[int, Field(ge=0, le=MAX_SECONDS)] | None = None
    agent_external_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NUL_FREE)] | None
    ) = None
    user_id: Short | None = None
    caller_name: Annotated[str, StringConstraints(max_length=200, pattern=NUL_FREE)] | None = None
    agent_number: Short | None = None
    participants: Annotated[list[ParticipantIn], Field(max_length=100)] = []
    created_at: Annotated[Moment, AfterValidator(_past)] = None
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NUL_FREE)] | None = (
        None
    )


class ConversationPatch(Analysis):
    """A JSON merge patch: a field left out is unchanged, null clears it."""

    status: Status | None = None


class TurnIn(_Strict):
    seq: Annotated[int, Field(ge=0, le=MAX_SECONDS)]
    speaker: Literal["agent", "user", "caller", "system"]
    text: Annotated[str, StringConstraints(max_length=20_000, pattern=NUL_FREE)]
    offset_ms: Annotated[int, Field(ge=0, le=MAX_SECONDS)] = 0
    final: bool = True


class TurnsIn(_Strict):
    turns: Annotated[list[TurnIn], Field(min_length=1, max_length=MAX_TURNS_PER_REQUEST)]


class TurnsOut(BaseModel):
    changed: int = Field(description="Turns added or replaced; 0 when the delivery was already applied.")
