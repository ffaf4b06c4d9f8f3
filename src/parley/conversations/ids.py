"""Conversation ids: 63-bit integers whose high bits are the creation time in milliseconds.

Because ``id >> RANDOM_BITS`` equals ``created_at`` in milliseconds, ordering by id alone agrees
with ordering by ``(created_at, id)``. Full-text indexes keyed by id (SQLite FTS5's rowid) can
therefore walk newest-first without a sort. The JSON API shows ids as strings because JavaScript
numbers lose precision past 2**53.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

RANDOM_BITS = 22


def to_millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def truncate_to_millis(moment: datetime) -> datetime:
    """Conversations are stored with millisecond precision so their id can carry the time."""
    return moment.astimezone(UTC).replace(microsecond=(moment.microsecond // 1000) * 1000)


def new_conversation_id(created_at: datetime, rng: random.Random | None = None) -> int:
    low = (rng or random.SystemRandom()).getrandbits(RANDOM_BITS)
    return (to_millis(created_at) << RANDOM_BITS) | low


def created_millis(conversation_id: int) -> int:
    return conversation_id >> RANDOM_BITS


def parse_conversation_id(text: str) -> int | None:
    """The integer behind a public id, or None when the text cannot be one."""
    # isascii first: str.isdigit accepts characters such as "²" that int() refuses.
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value < 2**63 else None
