"""The field policy: the one table saying which field a principal may see, and the one check
every read passes (``authorize_read``).

Each field says whether it is sensitive, how its JSON value is read, which views show it, its
CSV columns and which filters match on its values. The list item, the detail, the CSV columns
and live events are all derived from ``FIELDS``: without ``conversations:read_sensitive`` a
sensitive field's key is absent (not null), its CSV columns are left out, and filtering by it
is refused. Marking a field sensitive is a change to its one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

from parley.auth.principal import Principal
from parley.auth.scopes import Scope
from parley.conversations.export import cells
from parley.conversations.export.cells import CellBuilder
from parley.conversations.filters import ConversationFilters
from parley.conversations.links import Links, rfc3339
from parley.conversations.rows import ConversationRow, DetailRow
from parley.conversations.snippets import Snippet
from parley.conversations.visible import Visible
from parley.db import AnyRow
from parley.errors import Forbidden


class View(Enum):
    LIST = "list"  # a list page item; live events show conversations the same way
    DETAIL = "detail"


LIST_AND_DETAIL = frozenset(View)
LIST_ONLY = frozenset({View.LIST})
DETAIL_ONLY = frozenset({View.DETAIL})


@dataclass(frozen=True, slots=True)
class Source:
    """What a field's value is read from: the row, and what was fetched alongside it."""

    row: ConversationRow
    links: Links
    console: str  # links.console, computed once per page
    participants: Sequence[AnyRow] = ()
    snippet: Snippet | None = None
    detail: DetailRow | None = None
    turns: Sequence[AnyRow] = ()
    recordings: Sequence[AnyRow] = ()
    tags: Sequence[str] = ()


class _Absent:
    """A reader's answer for "leave the key out" (``match`` outside a search)."""


ABSENT = _Absent()


@dataclass(frozen=True, slots=True)
class CsvColumn:
    header: str
    cell: CellBuilder


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    sensitive: bool
    read: Callable[[Source], Any]
    views: frozenset[View] = LIST_AND_DETAIL
    csv: tuple[CsvColumn, ...] = ()
    filters: tuple[str, ...] = ()  # query parameters whose matches reveal this field's values


def _agent(s: Source) -> dict[str, Any] | None:
    row = s.row
    if row.agent_id is None:
        return None
    return {
        "id": str(row.agent_id),
        "name": row.agent_name,
        "version": row.agent_version,
        "url": s.links.agent(row.agent_id, row.agent_version, s.console),
    }


def _recording_url(s: Source) -> str | None:
    return f"{s.links.base}/core/conversations/{s.row.id}/recording" if s.row.has_recording else None


def _recordings(s: Source) -> list[dict[str, Any]]:
    return [
        {
            "url": s.links.recording(s.row.id, r.seq),
            "content_type": r.content_type,
            "bytes": r.bytes,
            "duration_seconds": r.duration_seconds,
        }
        for r in s.recordings
    ]


def _others_on_thread(s: Source) -> list[str]:
    """The list's participants: the addresses on the thread beyond the caller and the agent. A
    thread often copies the agent's own mailbox (its agent_number) or the caller; counting them
    would overstate who else is on it (the inbox's "+N")."""
    own = {value.casefold() for value in (s.row.user_id, s.row.agent_number) if value}
    return [p.address for p in s.participants if p.address.casefold() not in own]


def _detail(s: Source) -> DetailRow:
    assert s.detail is not None  # detail-only fields are read for the detail view alone
    return s.detail


SAFE, SENSITIVE = False, True
# In CSV column order: the export's columns are these fields' CSV columns, in this order.
FIELDS: tuple[Field, ...] = (
    Field("id", SAFE, lambda s: str(s.row.id), csv=(CsvColumn("Conversation ID", cells.conversation_id),), filters=("q",)),
    Field("url", SAFE, lambda s: f"{s.links.base}/conversations/{s.row.id}", csv=(CsvColumn("Link", cells.link),)),
    Field("agent", SAFE, _agent, csv=(CsvColumn("Agent", cells.agent_name), CsvColumn("Agent Version", cells.agent_version)), filters=("agent_id", "agent_version")),
    Field("user_id", SENSITIVE, lambda s: s.row.user_id, csv=(CsvColumn("Caller ID", cells.user_id),), filters=("user_id", "q")),
    Field("caller_name", SENSITIVE, lambda s: s.row.caller_name, csv=(CsvColumn("Caller Name", cells.caller_name),), filters=("q",)),
    Field("agent_number", SAFE, lambda s: s.row.agent_number, csv=(CsvColumn("Agent Number", cells.agent_number),), filters=("q",)),
    Field("direction", SAFE, lambda s: s.row.direction, csv=(CsvColumn("Direction", cells.direction),), filters=("direction",)),
    Field("status", SAFE, lambda s: s.row.status, csv=(CsvColumn("Status", cells.status),), filters=("status",)),
    Field("summary", SENSITIVE, lambda s: s.row.summary, csv=(CsvColumn("Summary", cells.summary),), filters=("q",)),
    Field("duration_seconds", SAFE, lambda s: s.row.duration_seconds, csv=(CsvColumn("Duration", cells.duration), CsvColumn("Duration Seconds", cells.duration_seconds)), filters=("min_duration", "max_duration")),
    Field("created_at", SAFE, lambda s: rfc3339(s.row.created_at), csv=(CsvColumn("Date", cells.date), CsvColumn("Time", cells.time)), filters=("created_after", "created_before")),
    Field("channel", SAFE, lambda s: s.row.channel, csv=(CsvColumn("Type", cells.channel),), filters=("channel",)),
    Field("has_recording", SAFE, lambda s: bool(s.row.has_recording), filters=("has_recording",)),
    Field("external_id", SAFE, lambda s: s.row.external_id),
    Field("ended_reason", SAFE, lambda s: s.row.ended_reason, filters=("ended_reason",)),
    Field("sentiment", SAFE, lambda s: s.row.sentiment, filters=("sentiment",)),
    Field("successful", SAFE, lambda s: s.row.successful, filters=("successful",)),
    Field("tags", SAFE, lambda s: list(s.tags), DETAIL_ONLY, filters=("tag",)),
    Field("participants", SENSITIVE, _others_on_thread, LIST_ONLY, filters=("q",)),
    Field("participants", SENSITIVE, lambda s: [{"address": p.address, "role": p.role} for p in s.participants], DETAIL_ONLY),
    Field("recording_url", SENSITIVE, _recording_url),
    Field("match", SENSITIVE, lambda s: s.snippet.as_json() if s.snippet is not None else ABSENT, LIST_ONLY),
    Field("started_at", SAFE, lambda s: rfc3339(_detail(s).started_at), DETAIL_ONLY),
    Field("ended_at", SAFE, lambda s: rfc3339(_detail(s).ended_at), DETAIL_ONLY),
    Field("transcript", SENSITIVE, lambda s: [{"seq": t.seq, "speaker": t.speaker, "text": t.text, "offset_ms": t.offset_ms, "final": t.final} for t in s.turns], DETAIL_ONLY, filters=("q",)),
    Field("recordings", SENSITIVE, _recordings, DETAIL_ONLY),
)  # fmt: skip


@lru_cache(maxsize=64)
def _shown(fields: tuple[Field, ...], sensitive: bool) -> tuple[Field, ...]:
    return tuple(f for f in fields if sensitive or not f.sensitive)


@lru_cache(maxsize=64)
def _readers(fields: tuple[Field, ...], view: View) -> tuple[tuple[str, Callable[[Source], Any]], ...]:
    """Of ``fields``, the name and reader of each shown in ``view``: a page reads them per row."""
    return tuple((f.name, f.read) for f in fields if view in f.views)


@dataclass(frozen=True, slots=True)
class Access:
    """What one principal may read: which conversations (``visible``) and which fields."""

    visible: Visible
    sensitive: bool
    fields: tuple[Field, ...]  # the ones shown to this principal

    @property
    def org_id(self) -> int:
        return self.visible.org_id

    def shows(self, name: str) -> bool:
        return any(f.name == name for f in self.fields)

    def present(self, source: Source, view: View = View.LIST) -> dict[str, Any]:
        """A conversation as this principal may see it, in ``view``."""
        item = {name: read(source) for name, read in _readers(self.fields, view)}
        if item.get("match") is ABSENT:
            del item["match"]
        return item

    def csv_columns(self) -> list[CsvColumn]:
        return [column for f in self.fields for column in f.csv]


def authorize_read(
    principal: Principal, filters: ConversationFilters | None = None, *, reveals: Iterable[str] = ()
) -> Access:
    """The check every read passes: the principal may read conversations at all; filtering by a
    sensitive value (which would reveal it through which rows match) and reading the fields in
    ``reveals`` (a recording's audio) need read_sensitive. Raises Forbidden otherwise."""
    principal.require_read()
    sensitive = principal.sensitive
    if not sensitive:
        hidden = [f for f in FIELDS if f.sensitive]
        for parameter in sorted(filters.parameters() if filters else ()):
            if any(parameter in f.filters for f in hidden):
                raise Forbidden(
                    f"Filtering by {parameter} needs the {Scope.READ_SENSITIVE.value} scope.",
                    parameter=parameter,
                )
        if any(f.name in reveals for f in hidden):
            principal.require(Scope.READ_SENSITIVE)
    return Access(Visible(principal.org_id), sensitive, _shown(FIELDS, sensitive))


def authorize_write(principal: Principal) -> Access:
    """The check every write passes: conversations:manage. What the writer is shown back is
    what it may read, pending web sessions included (it may be the one starting them)."""
    principal.require(Scope.MANAGE)
    sensitive = principal.sensitive
    return Access(Visible(principal.org_id, pending=True), sensitive, _shown(FIELDS, sensitive))
