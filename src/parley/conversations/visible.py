"""The visible set: the conversations one principal may see. Every read starts here.

A list, a search, a detail, an export and a page all build their statements from ``Visible``,
so none of them can forget the org or show a pending web session: the org and the hidden
statuses are written once, below. ``Visible`` values come from ``policy.authorize_read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, select
from sqlalchemy.sql.selectable import FromClause

from parley.conversations.enums import HIDDEN_STATUSES
from parley.conversations.rows import c, with_agent

_HIDDEN = sorted(s.value for s in HIDDEN_STATUSES)


@dataclass(frozen=True, slots=True)
class Visible:
    """The conversations of ``org_id`` that are listed (pending web sessions are not), or, for
    a writer, that exist (``pending``: a writer sees the web sessions it is about to start)."""

    org_id: int
    pending: bool = False

    @property
    def where(self) -> ColumnElement[bool]:
        """The condition on ``conversations`` that keeps a statement inside the set."""
        if self.pending:
            return c.c.org_id == self.org_id
        return and_(c.c.org_id == self.org_id, c.c.status.not_in(_HIDDEN))

    def admits(self, status: str) -> bool:
        """Whether a conversation in ``status`` is in the set (for rows read through another set)."""
        return self.pending or status not in _HIDDEN

    def owns(self, table: Table) -> ColumnElement[bool]:
        """For a table hanging off a conversation (turns, participants, recordings): its rows
        of this org. Reads of those tables start from a conversation already found visible."""
        org: ColumnElement[bool] = table.c.org_id == self.org_id
        return org

    def select(self, *columns: Any, source: FromClause | None = None) -> Select[Any]:
        """``SELECT columns`` over the visible conversations (joined with their agent), from
        ``source`` when a statement reads them through another table (a search index)."""
        return select(*columns).select_from(with_agent(source)).where(self.where)  # type: ignore[arg-type]
