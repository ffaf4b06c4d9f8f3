"""What the scenarios need to know about the data set: ids, positions and filter values."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from benchmarks.dataset import BIG_ORG, UNTIL, Dataset
from parley.accounts.service import get_org
from parley.conversations import queries
from parley.conversations.cursor import Position, encode_cursor
from parley.conversations.enums import Channel, Status
from parley.conversations.filters import ConversationFilters
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db import tables
from parley.db.instance import instance_secret

PAGE = 50
DEEP = 100_000
COMMON_WORD, RARE_WORD, NO_MATCH_WORD = "help", "recent", "zebrafish"


@dataclass(frozen=True, slots=True)
class Filtered:
    """One filter scenario: Parley's query parameters and filters, and Datasette's (if it has them)."""

    key: str
    params: dict[str, Any]
    filters: ConversationFilters
    datasette: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class Facts:
    org_id: int
    secret_key: str
    depth: int
    deep_position: Position
    deep_cursor: str
    deep_sqlite_key: tuple[str, int, int] | None  # created_at as stored, org, id: Datasette's _next
    filters: tuple[Filtered, ...]
    searches: tuple[Filtered, ...]
    total_rows: int


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def gather(engine: Engine, dataset: Dataset) -> Facts:
    c = tables.conversations
    with engine.connect() as connection:
        org_id = get_org(connection, BIG_ORG).id
        agent_id = connection.execute(
            select(c.c.agent_id)
            .where(c.c.org_id == org_id, c.c.agent_id.is_not(None))
            .group_by(c.c.agent_id)
            .order_by(func.count().desc(), c.c.agent_id)
            .limit(1)
        ).scalar_one()
        user_id = connection.execute(
            select(c.c.user_id)
            .where(c.c.org_id == org_id, c.c.channel == Channel.TELEPHONE.value, c.c.user_id.is_not(None))
            .order_by(c.c.created_at.desc(), c.c.id.desc())
            .limit(1)
        ).scalar_one()
        total = connection.execute(
            select(func.count()).select_from(c).where(c.c.org_id == org_id, c.c.status != "token_created")
        ).scalar_one()
        depth = max(1, min(DEEP, total - PAGE - 1))
        listing = queries.all_conversations(engine.dialect.name, Visible(org_id), ConversationFilters())
        row = connection.execute(listing.limit(1).offset(depth - 1)).one()
    secret = instance_secret(engine)
    position = Position(row.created_at, row.id)
    cursor = encode_cursor(secret, org_id, ConversationFilters().fingerprint(), position)

    sqlite_key = None
    path = _sqlite_file(dataset.url)
    if path is not None:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
            stored = raw.execute(
                "SELECT created_at FROM conversations WHERE org_id = ? AND id = ?", (org_id, row.id)
            )
            sqlite_key = (stored.fetchone()[0], org_id, row.id)

    after = UNTIL - timedelta(days=30)
    filters = (
        Filtered(
            "agent_status_channel_30d",
            {
                "agent_id": str(agent_id),
                "status": "completed",
                "channel": "telephone",
                "created_after": _rfc3339(after),
                "created_before": _rfc3339(UNTIL),
            },
            ConversationFilters(
                agent_ids=(agent_id,),
                statuses=(Status.COMPLETED,),
                channels=(Channel.TELEPHONE,),
                created_after=after,
                created_before=UNTIL,
            ),
            {
                "agent_id": str(agent_id),
                "status": "completed",
                "channel": "telephone",
                "created_at__gte": _sqlite_text(after),
                "created_at__lt": _sqlite_text(UNTIL),
            },
        ),
        Filtered(
            "duration_range",
            {"min_duration": "600", "max_duration": "900"},
            ConversationFilters(min_duration=600, max_duration=900),
            {"duration_seconds__gte": "600", "duration_seconds__lte": "900"},
        ),
        Filtered("user_id", {"user_id": user_id}, ConversationFilters(user_id=user_id), {"user_id": user_id}),
    )
    searches = tuple(
        Filtered(
            key,
            {"q": word},
            ConversationFilters(q=SearchTerms.parse(word)),
            {"_search": word} if peer else None,
        )
        for key, word, peer in (
            ("common_word", COMMON_WORD, True),
            ("rare_word", RARE_WORD, False),
            ("no_match", NO_MATCH_WORD, False),
        )
    )
    return Facts(org_id, secret, depth, position, cursor, sqlite_key, filters, searches, total)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _sqlite_text(moment: datetime) -> str:
    """How UTCDateTime stores a moment in SQLite: naive UTC text, microseconds always written."""
    return moment.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
