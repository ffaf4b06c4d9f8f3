"""Query parameters of the list and the export, parsed into ConversationFilters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant, request_params_to_args
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import QueryParams

from parley.conversations.enums import LISTED_STATUSES, Channel, Direction, Sentiment, Status
from parley.conversations.filters import MAX_QUERY_LENGTH, ConversationFilters
from parley.conversations.ids import parse_conversation_id
from parley.conversations.terms import SearchTerms
from parley.errors import BadRequest

MAX_SECONDS = 2**31 - 1  # durations are 32-bit integers in the database

# What the OpenAPI schema says each value must look like, so that a request the schema allows is
# one the parsers below accept (schemathesis checks both ways, tests/api/test_schema_fuzz.py).
# An id: a positive 63-bit integer in ASCII digits, 1 to 9223372036854775807.
ID_PATTERN = (
    "^(?:[1-9][0-9]{0,17}|[1-8][0-9]{18}|9[01][0-9]{17}|92[01][0-9]{16}|922[0-2][0-9]{15}"
    "|9223[0-2][0-9]{14}|92233[0-6][0-9]{13}|922337[01][0-9]{12}|92233720[0-2][0-9]{10}"
    "|922337203[0-5][0-9]{9}|9223372036[0-7][0-9]{8}|92233720368[0-4][0-9]{7}"
    "|922337203685[0-3][0-9]{6}|9223372036854[0-6][0-9]{5}|92233720368547[0-6][0-9]{4}"
    "|922337203685477[0-4][0-9]{3}|9223372036854775[0-7][0-9]{2}|922337203685477580[0-7])$"
)
# A conversation in a path: its public id. Described, not enforced: any other text is a 404 like
# an id that does not exist (and ``/live`` beneath it is a route of its own).
ConversationIdPath = Annotated[
    str, Path(description="The conversation's id.", json_schema_extra={"pattern": ID_PATTERN})
]
NO_NUL = "^[^\\u0000]*$"  # no database text type can hold a NUL
# Something searchable (a word character, or three characters once blanks are stripped), no NUL.
SEARCHABLE = "^[^\\u0000]*(?:\\w|[^\\s\\u0000][^\\u0000]+[^\\s\\u0000])[^\\u0000]*$"

FILTER_PARAMS = frozenset(
    {
        "agent_id",
        "agent_version",
        "direction",
        "status",
        "channel",
        "created_after",
        "created_before",
        "min_duration",
        "max_duration",
        "user_id",
        "has_recording",
        "q",
        "sentiment",
        "successful",
        "tag",
        "ended_reason",
    }
)

# The only parameters that may be given more than once (each value widens the filter). Any other,
# repeated, would silently take the last value: the caller meant something we would not do.
REPEATABLE_PARAMS = frozenset({"agent_id", "status", "channel", "sentiment", "tag"})


def reject_unknown_params(request: Request, allowed: frozenset[str]) -> None:
    """Refuse parameters we don't know (a typo must not silently widen a filter), single-valued
    ones given twice, and NUL characters, which no database text type can hold. Every route
    calls it first, so the rule holds for the list, the export, the live streams and the rest."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise BadRequest(
            f"Unknown query parameter {unknown[0]!r}. Allowed: {', '.join(sorted(allowed))}.",
            parameter=unknown[0],
        )
    counts = Counter(name for name, _ in request.query_params.multi_items())
    repeated = sorted(name for name, count in counts.items() if count > 1 and name not in REPEATABLE_PARAMS)
    if repeated:
        raise BadRequest(
            f"{repeated[0]} was given {counts[repeated[0]]} times; it takes one value.", parameter=repeated[0]
        )
    for name, value in request.query_params.multi_items():
        if "\x00" in value:
            raise BadRequest(f"{name} must not contain a NUL character.", parameter=name)


def _timestamp(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    example = "2026-11-01T00:00:00Z"
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise BadRequest(f"{name} must be an RFC 3339 timestamp such as {example}.", parameter=name) from None
    if moment.tzinfo is None:
        raise BadRequest(f"{name} must include a time zone offset, e.g. {example}.", parameter=name)
    try:
        # Stored and compared in UTC: at the ends of the calendar an offset can push a moment
        # past year 1 or 9999, which only fails once the query binds it (after the response began).
        moment.astimezone(UTC)
    except OverflowError:
        raise BadRequest(
            f"{name} lies outside the years 1 to 9999 once converted to UTC.", parameter=name
        ) from None
    return moment


def _agent_ids(values: list[str]) -> tuple[int, ...]:
    ids = []
    for value in values:
        parsed = parse_conversation_id(value)  # agent ids share the shape: a positive 63-bit integer
        if parsed is None:
            raise BadRequest(f"agent_id {value!r} is not an agent id.", parameter="agent_id")
        ids.append(parsed)
    return tuple(sorted(set(ids)))


def _statuses(values: list[str]) -> tuple[Status, ...]:
    """Parsed here, not by the framework, so token_created gets its own answer and neither the
    error nor the OpenAPI enum offers it."""
    for value in values:
        if value not in LISTED_STATUSES and value in set(Status):
            raise BadRequest(
                f"status {value!r} is never listed: pending web sessions are hidden from the inbox.",
                parameter="status",
            )
        if value not in LISTED_STATUSES:
            allowed = ", ".join(f"'{s.value}'" for s in LISTED_STATUSES[:-1])
            raise BadRequest(
                f"status must be {allowed} or '{LISTED_STATUSES[-1].value}'.", parameter="status"
            )
    return tuple(sorted({Status(value) for value in values}))


async def filters_from_query(
    agent_id: Annotated[
        list[str],
        Query(
            description="Only these agents (repeatable).",
            json_schema_extra={"items": {"type": "string", "pattern": ID_PATTERN}},
        ),
    ] = [],  # noqa: B006
    agent_version: Annotated[
        int | None,
        Query(
            ge=1, le=MAX_SECONDS, description="Only this version of the agents asked for (needs agent_id)."
        ),
    ] = None,
    direction: Annotated[Direction | None, Query(description="inbound or outbound.")] = None,
    status: Annotated[
        list[str],
        Query(
            description="Only these statuses (repeatable).",
            json_schema_extra={"items": {"type": "string", "enum": [s.value for s in LISTED_STATUSES]}},
        ),
    ] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query(description="Only these channels (repeatable).")] = [],  # noqa: B006
    created_after: Annotated[
        str | None,
        Query(
            description="RFC 3339 with an offset; inclusive. Must be earlier than created_before.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    created_before: Annotated[
        str | None,
        Query(description="RFC 3339 with an offset; exclusive.", json_schema_extra={"format": "date-time"}),
    ] = None,
    min_duration: Annotated[
        int | None, Query(ge=0, le=MAX_SECONDS, description="Seconds, inclusive.")
    ] = None,
    max_duration: Annotated[
        int | None, Query(ge=0, le=MAX_SECONDS, description="Seconds, inclusive.")
    ] = None,
    user_id: Annotated[
        str | None,
        Query(
            max_length=320,
            json_schema_extra={"pattern": NO_NUL},
            description="Caller id, exact. Needs read_sensitive.",
        ),
    ] = None,
    has_recording: Annotated[
        bool | None, Query(description="Only rows with (true) or without a recording.")
    ] = None,
    sentiment: Annotated[list[Sentiment], Query(description="Only these sentiments (repeatable).")] = [],  # noqa: B006
    successful: Annotated[
        bool | None, Query(description="Only rows the analysis judged (un)successful.")
    ] = None,
    tag: Annotated[
        list[str],
        Query(
            max_length=64,
            description="Only rows carrying every one of these tags (repeatable).",
            json_schema_extra={"items": {"type": "string", "maxLength": 64, "pattern": NO_NUL}},
        ),
    ] = [],  # noqa: B006
    ended_reason: Annotated[
        str | None,
        Query(
            max_length=200,
            json_schema_extra={"pattern": NO_NUL},
            description="Why it ended, exactly, e.g. customer-ended-call.",
        ),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            json_schema_extra={"pattern": SEARCHABLE},
            description="Full-text search over summary, caller name and transcript, plus substring search "
            "over caller id, agent number, email participants and conversation id. Needs read_sensitive.",
        ),
    ] = None,
) -> ConversationFilters:
    return build_filters(
        agent_id=agent_id,
        agent_version=agent_version,
        direction=direction,
        status=status,
        channel=channel,
        created_after=created_after,
        created_before=created_before,
        min_duration=min_duration,
        max_duration=max_duration,
        user_id=user_id,
        has_recording=has_recording,
        sentiment=sentiment,
        successful=successful,
        tag=tag,
        ended_reason=ended_reason,
        q=q,
    )


def build_filters(
    *,
    agent_id: list[str],
    agent_version: int | None,
    direction: Direction | None,
    status: list[str],
    channel: list[Channel],
    created_after: str | None,
    created_before: str | None,
    min_duration: int | None,
    max_duration: int | None,
    user_id: str | None,
    has_recording: bool | None,
    sentiment: list[Sentiment],
    successful: bool | None,
    tag: list[str],
    ended_reason: str | None,
    q: str | None,
) -> ConversationFilters:
    """The checks across parameters, once each value has its type."""
    after, before = _timestamp("created_after", created_after), _timestamp("created_before", created_before)
    if after and before and after >= before:
        raise BadRequest("created_after must be earlier than created_before.", parameter="created_after")
    if min_duration is not None and max_duration is not None and min_duration > max_duration:
        raise BadRequest("min_duration must not be greater than max_duration.", parameter="min_duration")
    if agent_version is not None and not agent_id:
        # A version number means nothing across agents: version 3 of one is unrelated to another's.
        raise BadRequest(
            "agent_version needs agent_id: a version belongs to an agent.", parameter="agent_version"
        )
    return ConversationFilters(
        agent_ids=_agent_ids(agent_id),
        agent_version=agent_version,
        direction=direction,
        statuses=_statuses(status),
        channels=tuple(sorted(set(channel))),
        created_after=after,
        created_before=before,
        min_duration=min_duration,
        max_duration=max_duration,
        user_id=user_id,
        has_recording=has_recording,
        sentiments=tuple(sorted(set(sentiment))),
        successful=successful,
        tags=tuple(sorted(set(tag))),
        ended_reason=ended_reason,
        # Parsed here, once: a q with nothing searchable is refused before any response starts.
        q=SearchTerms.parse(q) if q is not None else None,
    )


def parse_filters(params: QueryParams) -> ConversationFilters:
    """Filters from a query string that did not arrive as the request's own (a saved view's),
    through the same declarations, so it is refused exactly as the list would refuse it."""
    values, errors = request_params_to_args(_filter_dependant().query_params, params)
    if errors:
        raise RequestValidationError(errors)
    return build_filters(**values)


@lru_cache(maxsize=1)
def _filter_dependant() -> Dependant:
    return get_dependant(path="", call=filters_from_query)


# ``async def``: parsing query parameters is pure CPU work, and a plain ``def`` dependency would
# cost a thread-pool hop per request.
FiltersDep = Annotated[ConversationFilters, Depends(filters_from_query)]
