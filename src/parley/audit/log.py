"""Reading the audit trail: one org's entries, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from parley.audit.trail import Action
from parley.conversations.cursor import Position, decode_cursor, encode_cursor
from parley.conversations.links import rfc3339
from parley.db import tables

_a = tables.audit_log


@dataclass(frozen=True, slots=True)
class AuditFilters:
    action: Action | None = None
    user_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def fingerprint(self) -> str:
        """Binds a cursor to the filters it was made for (``conversations.cursor``)."""
        parts = [
            self.action.value if self.action else "",
            "" if self.user_id is None else str(self.user_id),
            self.since.isoformat() if self.since else "",
            self.until.isoformat() if self.until else "",
        ]
        return "audit:" + "|".join(parts)


def audit_page(
    connection: Connection,
    org_id: int,
    filters: AuditFilters,
    cursor: str | None,
    limit: int,
    secret_key: str,
    *,
    show_queries: bool,
) -> dict[str, Any]:
    """A page of ``org_id``'s entries. ``show_queries``: whether the reader may see the text of
    searches (read_sensitive); without it, a search's ``q`` is left out."""
    fingerprint = filters.fingerprint()
    statement = select(_a).where(_a.c.org_id == org_id)
    if filters.action is not None:
        statement = statement.where(_a.c.action == filters.action.value)
    if filters.user_id is not None:
        statement = statement.where(_a.c.user_id == filters.user_id)
    if filters.since is not None:
        statement = statement.where(_a.c.at >= filters.since)
    if filters.until is not None:
        statement = statement.where(_a.c.at < filters.until)
    if cursor is not None:
        after = decode_cursor(secret_key, cursor, org_id, fingerprint)
        statement = statement.where(
            or_(_a.c.at < after.created_at, and_(_a.c.at == after.created_at, _a.c.id < after.id))
        )
    rows = connection.execute(statement.order_by(_a.c.at.desc(), _a.c.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        encode_cursor(secret_key, org_id, fingerprint, Position(rows[-1].at, rows[-1].id)) if more else None
    )
    return {"data": [_present(row, show_queries) for row in rows], "next_cursor": next_cursor}


def _present(row: Any, show_queries: bool) -> dict[str, Any]:
    detail = orjson.loads(row.detail) if row.detail else None
    if detail is not None and not show_queries:
        detail.pop("q", None)
    return {
        "id": str(row.id),
        "at": rfc3339(row.at),
        "action": row.action,
        "user_id": row.user_id,
        "credential": row.credential,
        "target": row.target,
        "rows": row.rows,
        "client": row.client,
        "detail": detail,
    }
