"""Response shapes, for the OpenAPI schema. Handlers build plain dicts through the field policy and
serialise them with orjson; these models only describe them truthfully."""

from __future__ import annotations

from pydantic import BaseModel, Field

from parley.conversations.enums import Channel, Direction, Sentiment, Status
from parley.errors import KINDS, TYPE_BASE

SENSITIVE = "Only with conversations:read_sensitive; the key is absent otherwise."


class AgentRef(BaseModel):
    id: str
    name: str
    version: int | None = Field(description="The agent version that handled it, when known.")
    url: str = Field(description="Opens the agent (and version) in the agent builder.")


class SnippetPart(BaseModel):
    text: str
    hit: bool = Field(description="True for the matched words.")


class Match(BaseModel):
    field: str = Field(
        description="summary, caller_name, transcript, user_id, agent_number, participants or id"
    )
    parts: list[SnippetPart]


class ConversationFields(BaseModel):
    """What the list item and the detail share."""

    id: str = Field(description="Opaque id (a string: it exceeds JavaScript's safe integers).")
    created_at: str = Field(description="RFC 3339, UTC.")
    channel: Channel
    direction: Direction
    status: Status
    agent: AgentRef | None
    agent_number: str | None = Field(
        description="The number or address the conversation came in on or went out to."
    )
    duration_seconds: int | None = Field(description="Null when not known (e.g. still in progress).")
    has_recording: bool
    url: str = Field(description="The inbox detail page.")
    user_id: str | None = Field(default=None, description=f"Caller id. {SENSITIVE}")
    caller_name: str | None = Field(default=None, description=SENSITIVE)
    summary: str | None = Field(default=None, description=SENSITIVE)
    recording_url: str | None = Field(default=None, description=SENSITIVE)
    external_id: str | None = Field(description="The writer's own id (a provider's call id); unique per org.")
    ended_reason: str | None = Field(description="Why it ended, as the provider says (customer-ended-call).")
    sentiment: Sentiment | None = Field(description="positive, neutral or negative, from the analysis.")
    successful: bool | None = Field(description="Whether the analysis judged it successful.")


class ConversationItem(ConversationFields):
    participants: list[str] | None = Field(
        default=None,
        description=f"Email participants beyond the caller and the agent's own address. {SENSITIVE}",
    )
    match: Match | None = Field(default=None, description=f"Present when q is given. {SENSITIVE}")


class ConversationPage(BaseModel):
    data: list[ConversationItem]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")


class ConversationCount(BaseModel):
    count: int = Field(description="How many conversations match, at most 10,000.")
    exact: bool = Field(
        description="False when more than 10,000 match: count is then 10,000 and means '10,000 or more'."
    )


class Turn(BaseModel):
    seq: int
    speaker: str
    text: str
    offset_ms: int = Field(description="Milliseconds since the conversation started.")
    final: bool = Field(description="False for a partial (live) turn that later versions replace.")


class ParticipantOut(BaseModel):
    address: str
    role: str


class RecordingOut(BaseModel):
    url: str
    content_type: str
    bytes: int
    duration_seconds: int | None


class ConversationDetail(ConversationFields):
    participants: list[ParticipantOut] | None = Field(default=None, description=SENSITIVE)
    started_at: str | None
    ended_at: str | None
    transcript: list[Turn] | None = Field(default=None, description=SENSITIVE)
    recordings: list[RecordingOut] | None = Field(default=None, description=SENSITIVE)
    tags: list[str] = Field(description="Short labels from the analysis or the writer.")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(
        description=f"{TYPE_BASE} followed by one of: {', '.join(sorted({k.slug for k in KINDS}))}."
    )
    title: str = Field(description="The same for every problem of a type.")
    status: int = Field(description="The HTTP status.")
    detail: str = Field(description="A sentence for a human: what went wrong and what to change.")
    parameter: str | None = Field(
        default=None,
        description="The query, path, header or body parameter at fault; absent when none is.",
    )


def _problem(description: str) -> dict[str, object]:
    return {"model": Problem, "content": {"application/problem+json": {}}, "description": description}


PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    400: _problem(
        "invalid-parameter, naming the parameter; bad-request: a bad cursor, a PAT without its org."
    ),
    401: _problem("Missing, malformed, unknown, revoked or expired token."),
    403: _problem("Missing scope, or not a member of the org."),
}
RANGE_RESPONSES: dict[int | str, dict[str, object]] = {
    206: {"description": "Part of the file, for a Range request; a Range that does not parse is ignored."},
    416: _problem("No requested range lies within the file; Content-Range gives its length."),
}

NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {
        "model": Problem,
        "content": {"application/problem+json": {}},
        "description": "No such conversation.",
    }
}
# What only a write can meet; FastAPI would otherwise document its own 422 (application/json),
# which this API never sends: bad input is a 400, and 422 a body naming what cannot be done.
WRITE_RESPONSES: dict[int | str, dict[str, object]] = {
    409: _problem("The Idempotency-Key was used with another request, or a change conflicts with another."),
    413: _problem("The body is larger than allowed."),
    415: _problem("The Content-Type is not one this address takes."),
    422: _problem("Well formed, but names something the org does not have or a change its state forbids."),
}
