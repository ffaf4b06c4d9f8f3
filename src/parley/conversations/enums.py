"""The values a conversation's channel, direction and status can take, with their inbox labels."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    TELEPHONE = "telephone"
    WEBRTC = "webrtc"
    EMAIL = "email"
    TEXT = "text"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.TELEPHONE: "Phone Call",
    Channel.WEBRTC: "Web Chat",
    Channel.EMAIL: "Email",
    Channel.TEXT: "Text",
}


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


DIRECTION_LABELS: dict[Direction, str] = {Direction.INBOUND: "Inbound", Direction.OUTBOUND: "Outbound"}


class Status(StrEnum):
    """Where a conversation is in its life.

    token_created: a web (WebRTC) session was issued a token but the visitor never connected;
        pending, so the inbox hides it.
    queued: accepted and waiting for an agent or an outbound dial slot.
    ringing: an outbound or inbound call is ringing and nobody has answered yet.
    in_progress: caller and agent are talking (or a chat/email thread is open).
    completed: ended normally after the agent handled it.
    transferred: the agent handed it to a human or another line.
    failed: it could not be carried out (carrier error, bounced email, crashed session).
    no_answer: an outbound call rang out without being picked up.
    busy: the far end was busy.
    canceled: the caller or the system ended it before it was answered.
    voicemail: an outbound call reached voicemail and the agent left (or skipped) a message.
    """

    TOKEN_CREATED = "token_created"
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    TRANSFERRED = "transferred"
    FAILED = "failed"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CANCELED = "canceled"
    VOICEMAIL = "voicemail"


def status_label(status: str) -> str:
    """``no_answer`` -> ``No Answer``: how the inbox shows a status."""
    return " ".join(word.capitalize() for word in status.split("_"))


# Statuses a conversation never leaves; only these have a final duration and a summary.
FINISHED_STATUSES = frozenset(
    {
        Status.COMPLETED,
        Status.TRANSFERRED,
        Status.FAILED,
        Status.NO_ANSWER,
        Status.BUSY,
        Status.CANCELED,
        Status.VOICEMAIL,
    }
)

# Statuses whose recording the inbox offers to play inline.
PLAYABLE_STATUSES = frozenset({Status.COMPLETED, Status.TRANSFERRED})

HIDDEN_STATUSES = frozenset({Status.TOKEN_CREATED})
# What the inbox lists and filters by, in lifecycle order (conversations/visible.py hides the rest).
LISTED_STATUSES = tuple(s for s in Status if s not in HIDDEN_STATUSES)


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


# What the inbox lists and a status filter may name, in lifecycle order.
LISTED_STATUSES = tuple(s for s in Status if s not in HIDDEN_STATUSES)


class Speaker(StrEnum):
    AGENT = "agent"
    CALLER = "caller"
    SYSTEM = "system"


class ParticipantRole(StrEnum):
    CC = "cc"
    TO = "to"
    BCC = "bcc"
