"""The current time, in the form every stored timestamp takes."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    # Aware UTC: UTCDateTime columns refuse naive datetimes, which would be ambiguous.
    return datetime.now(UTC)
