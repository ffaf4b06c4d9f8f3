"""The field policy: the one place deciding which fields a principal may see.

List, detail, export and live all build their output through ``present``; without
``conversations:read_sensitive`` the sensitive keys are absent, not null.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley.auth.principal import Principal
from parley.conversations.queries import ConversationRow, DetailRow
from parley.conversations.search import Snippet
from parley.db import AnyRow

SAFE_FIELDS = (
    "id",
    "created_at",
    "channel",
    "direction",
    "status",
    "agent",
    "agent_number",
    "duration_seconds",
    "has_recording",
    "url",
)
SENSITIVE_FIELDS = ("user_id", "caller_name", "summary", "participants", "recording_url", "match")
DETAIL_SAFE_FIELDS = ("started_at", "ended_at")
DETAIL_SENSITIVE_FIELDS = ("transcript", "recordings")


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute or root-relative URLs for what a conversation points at."""

    base: str  # no trailing slash; "" for root-relative links
    agent_console: str = "/agents"

    def conversation(self, conversation_id: int) -> str:
        return f"{self.base}/conversations/{conversation_id}"

    def recording(self, conversation_id: int, seq: int = 0) -> str:
        suffix = f"?seq={seq}" if seq else ""
        return f"{self.base}/core/conversations/{conversation_id}/recording{suffix}"

    @property
    def console(self) -> str:
        return self.agent_console if "://" in self.agent_console else f"{self.base}{self.agent_console}"

    def agent(self, agent_id: int, version: int | None, console: str | None = None) -> str:
        """``console``: ``self.console``, when the caller has it at hand (a page builds 50 links)."""
        base = self.console if console is None else console
        return f"{base}/{agent_id}" + (f"/versions/{version}" if version is not None else "")


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def present(
    row: ConversationRow,
    principal: Principal,
    links: Links,
    *,
    participants: Sequence[AnyRow] = (),
    snippet: Snippet | None = None,
    console: str | None = None,
) -> dict[str, Any]:
    """A conversation as the API shows it to this principal. ``console``: ``links.console``,
    passed in by callers presenting many rows."""
    conversation_id = row.id
    agent_id = row.agent_id
    has_recording = bool(row.has_recording)
    base = links.base
    item: dict[str, Any] = {
        "id": str(conversation_id),
        "created_at": rfc3339(row.created_at),
        "channel": row.channel,
        "direction": row.direction,
        "status": row.status,
        "agent": (
            {
                "id": str(agent_id),
                "name": row.agent_name,
                "version": row.agent_version,
                "url": links.agent(agent_id, row.agent_version, console),
            }
            if agent_id is not None
            else None
        ),
        "agent_number": row.agent_number,
        "duration_seconds": row.duration_seconds,
        "has_recording": has_recording,
        "url": f"{base}/conversations/{conversation_id}",
    }
    if principal.sensitive:
        item["user_id"] = row.user_id
        item["caller_name"] = row.caller_name
        item["summary"] = row.summary
        item["participants"] = [p.address for p in participants]
        item["recording_url"] = (
            f"{base}/core/conversations/{conversation_id}/recording" if has_recording else None
        )
        if snippet is not None:
            item["match"] = snippet.as_json()
    return item


def present_detail(
    detail: DetailRow,
    principal: Principal,
    links: Links,
    *,
    participants: Sequence[AnyRow],
    turns: Sequence[AnyRow],
    recordings: Sequence[AnyRow],
) -> dict[str, Any]:
    row = detail.conversation
    item = present(row, principal, links, participants=participants)
    item["started_at"] = rfc3339(detail.started_at)
    item["ended_at"] = rfc3339(detail.ended_at)
    if principal.sensitive:
        item["participants"] = [{"address": p.address, "role": p.role} for p in participants]
        item["transcript"] = [
            {"seq": t.seq, "speaker": t.speaker, "text": t.text, "offset_ms": t.offset_ms} for t in turns
        ]
        item["recordings"] = [
            {
                "url": links.recording(row.id, r.seq),
                "content_type": r.content_type,
                "bytes": r.bytes,
                "duration_seconds": r.duration_seconds,
            }
            for r in recordings
        ]
    return item
