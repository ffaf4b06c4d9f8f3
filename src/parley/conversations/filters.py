"""The list filters: one immutable value that the list, the export and the cursor all share."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import orjson

from parley.conversations.enums import Channel, Direction, Sentiment, Status
from parley.conversations.terms import SearchTerms

MAX_QUERY_LENGTH = 500


@dataclass(frozen=True, slots=True)
class ConversationFilters:
    """What to list. Every field narrows the result; empty tuples and None mean "any".

    ``created_after`` is inclusive and ``created_before`` exclusive, so consecutive day ranges
    never count a conversation twice. A duration bound excludes rows whose duration is unknown.
    """

    agent_ids: tuple[int, ...] = ()
    agent_version: int | None = None  # of the agents above
    direction: Direction | None = None
    statuses: tuple[Status, ...] = ()
    channels: tuple[Channel, ...] = ()
    created_after: datetime | None = None
    created_before: datetime | None = None
    min_duration: int | None = None
    max_duration: int | None = None
    user_id: str | None = None
    has_recording: bool | None = None
    q: SearchTerms | None = None
    sentiments: tuple[Sentiment, ...] = ()
    successful: bool | None = None
    tags: tuple[str, ...] = ()  # a conversation must carry every one
    ended_reason: str | None = None

    def parameters(self) -> frozenset[str]:
        """The query parameters this filter set uses (named as in the request)."""
        used = {
            "agent_id": bool(self.agent_ids),
            "agent_version": self.agent_version is not None,
            "direction": self.direction is not None,
            "status": bool(self.statuses),
            "channel": bool(self.channels),
            "created_after": self.created_after is not None,
            "created_before": self.created_before is not None,
            "min_duration": self.min_duration is not None,
            "max_duration": self.max_duration is not None,
            "user_id": self.user_id is not None,
            "has_recording": self.has_recording is not None,
            "q": self.q is not None,
            "sentiment": bool(self.sentiments),
            "successful": self.successful is not None,
            "tag": bool(self.tags),
            "ended_reason": self.ended_reason is not None,
        }
        return frozenset(name for name, on in used.items() if on)

    def fingerprint(self) -> str:
        """A short stable digest of the filter values; cursors carry it so they can't be replayed
        against a different filter set."""
        canonical: dict[str, object] = {
            "agent_ids": sorted(self.agent_ids),
            "direction": self.direction,
            "statuses": sorted(self.statuses),
            "channels": sorted(self.channels),
            "created_after": self.created_after.isoformat() if self.created_after else None,
            "created_before": self.created_before.isoformat() if self.created_before else None,
            "min_duration": self.min_duration,
            "max_duration": self.max_duration,
            "user_id": self.user_id,
            "has_recording": self.has_recording,
            "q": self.q.text if self.q is not None else None,
        }
        # Filters added later count only when set, so cursors issued before them stay valid.
        later = {
            "sentiments": sorted(self.sentiments),
            "successful": self.successful,
            "tags": sorted(self.tags),
            "ended_reason": self.ended_reason,
            "agent_version": self.agent_version,
        }
        canonical.update({name: value for name, value in later.items() if value not in (None, [])})
        return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
