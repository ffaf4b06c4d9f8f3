"""A time zone's UTC offsets over a span of time, so the database can write local dates.

The export's Date and Time columns are local to the zone asked for. Rather than converting
every row in Python, the zone's offsets between the oldest and the newest row are found here
(each change narrowed down to the second) and handed to SQL as a CASE over ``created_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from parley.errors import BadRequest

# Zone offsets are read at this step, then each change is narrowed down to the second.
_ZONE_PROBE = timedelta(hours=6)


def zone_enum(schema: dict[str, Any]) -> None:
    """The OpenAPI schema of ``tz``: every zone the installed tz database has. A pydantic
    ``json_schema_extra`` hook, so the database is read when the schema is built, not at import."""
    schema["enum"] = sorted(available_timezones())


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadRequest(
            f"tz {name!r} is not an IANA time zone name such as Europe/Paris.", parameter="tz"
        ) from None


@dataclass(frozen=True, slots=True)
class ZoneSpan:
    """From ``start`` (inclusive; None: since ever) the zone is ``offset`` seconds ahead of UTC."""

    start: datetime | None
    offset: int


UTC_SPANS = (ZoneSpan(None, 0),)


def _offset(zone: ZoneInfo, moment: datetime) -> int:
    delta = moment.astimezone(zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def zone_spans(zone: ZoneInfo, first: datetime, last: datetime) -> list[ZoneSpan]:
    """The zone's UTC offsets between two instants, with the exact second each one starts."""
    spans = [ZoneSpan(None, _offset(zone, first))]
    probe = first
    while probe < last:
        following = min(probe + _ZONE_PROBE, last)
        if _offset(zone, following) != spans[-1].offset:
            low, high = probe, following  # the offset changes in (low, high]
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if _offset(zone, middle) == spans[-1].offset:
                    low = middle
                else:
                    high = middle
            start = high.replace(microsecond=0)
            if _offset(zone, start) == spans[-1].offset:
                start += timedelta(seconds=1)
            spans.append(ZoneSpan(start, _offset(zone, start)))
        probe = following
    return spans
