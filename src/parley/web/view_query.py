"""A saved view's filters: the inbox's own query string, validated and written one canonical way.

The inbox's URL uses the list endpoint's parameter names, but for dates: ``from`` and ``to``
are whole days (``to`` inclusive), read in the viewer's time zone, so "Nov 1 to Nov 7" means the
same week to everyone who opens the view. Every other parameter goes through the list's own
parsing (``parse_filters``), so a view holds nothing the list would refuse, and through the list's
field policy, so nobody saves a filter by a value they may not see.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import QueryParams

from parley.api.conversation_params import FILTER_PARAMS, parse_filters
from parley.auth.principal import Principal
from parley.conversations.filters import ConversationFilters
from parley.conversations.policy import authorize_read
from parley.errors import BadRequest

DAY_PARAMS = ("from", "to")
PAGE_FILTER_PARAMS = (FILTER_PARAMS - {"created_after", "created_before"}) | set(DAY_PARAMS)
MAX_QUERY_LENGTH = 4000
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day(params: QueryParams, name: str) -> date | None:
    values = params.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise BadRequest(f"{name} may be given once.", parameter=name)
    try:
        if not _DAY.fullmatch(values[0]):
            raise ValueError(values[0])
        return date.fromisoformat(values[0])
    except ValueError:
        raise BadRequest(f"{name} must be a day such as 2026-11-01.", parameter=name) from None


def _midnight(day: date) -> str:
    return datetime.combine(day, time(), UTC).isoformat()


def canonical_query(principal: Principal, query: str) -> str:
    """``query`` (an inbox URL's query string, filters only) as it is stored: refused with the
    list's own 4xx if the list would refuse it for ``principal``; otherwise its filters in one
    order, repeated values sorted and deduplicated, so the same view is always the same string."""
    if len(query) > MAX_QUERY_LENGTH:
        raise BadRequest(f"query must be at most {MAX_QUERY_LENGTH} characters long.", parameter="query")
    pairs = parse_qsl(query.removeprefix("?"), keep_blank_values=True)
    for name, value in pairs:
        if name not in PAGE_FILTER_PARAMS:
            allowed = ", ".join(sorted(PAGE_FILTER_PARAMS))
            raise BadRequest(
                f"A view holds only filters; {name!r} is not one. Allowed: {allowed}.", parameter=name
            )
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain a NUL character.", parameter=name)
    params = QueryParams(pairs)
    first, last = _day(params, "from"), _day(params, "to")
    if first and last and first > last:
        raise BadRequest("from must not be later than to.", parameter="from")
    api = [(name, value) for name, value in pairs if name not in DAY_PARAMS]
    # The days as UTC midnights: any time zone moves them by hours, never to another validity.
    if first:
        api.append(("created_after", _midnight(first)))
    if last:
        api.append(("created_before", _midnight(last + timedelta(days=1))))
    filters = parse_filters(QueryParams(api))
    authorize_read(principal, filters)
    return urlencode(_canonical_pairs(filters, first, last))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _canonical_pairs(
    filters: ConversationFilters, first: date | None, last: date | None
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if filters.q is not None:
        pairs.append(("q", filters.q.text))
    pairs += [("agent_id", str(agent)) for agent in filters.agent_ids]
    if filters.agent_version is not None:
        pairs.append(("agent_version", str(filters.agent_version)))
    if filters.direction is not None:
        pairs.append(("direction", filters.direction.value))
    pairs += [("status", status.value) for status in filters.statuses]
    pairs += [("channel", channel.value) for channel in filters.channels]
    if first:
        pairs.append(("from", first.isoformat()))
    if last:
        pairs.append(("to", last.isoformat()))
    if filters.min_duration is not None:
        pairs.append(("min_duration", str(filters.min_duration)))
    if filters.max_duration is not None:
        pairs.append(("max_duration", str(filters.max_duration)))
    if filters.user_id is not None:
        pairs.append(("user_id", filters.user_id))
    if filters.has_recording is not None:
        pairs.append(("has_recording", _flag(filters.has_recording)))
    pairs += [("sentiment", sentiment.value) for sentiment in filters.sentiments]
    if filters.successful is not None:
        pairs.append(("successful", _flag(filters.successful)))
    pairs += [("tag", tag) for tag in filters.tags]
    if filters.ended_reason is not None:
        pairs.append(("ended_reason", filters.ended_reason))
    return pairs
