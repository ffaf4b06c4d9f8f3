"""``GET /core/audit``: the org's audit trail, newest first (scope conversations:manage). Thin:
check the scope, parse the filters, read a page."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from parley.api.conversation_params import _timestamp, reject_unknown_params
from parley.api.deps import EngineDep, PrincipalDep, SecretKeyDep
from parley.api.schemas import PROBLEM_RESPONSES
from parley.audit.log import AuditFilters, audit_page
from parley.audit.trail import Action
from parley.auth.scopes import Scope
from parley.conversations.cursor import MAX_CURSOR_LENGTH
from parley.db.engine import read_connection
from parley.errors import BadRequest

router = APIRouter(prefix="/core", tags=["audit"], responses=PROBLEM_RESPONSES)


class AuditEntry(BaseModel):
    id: str
    at: str = Field(description="When it happened (RFC 3339, UTC).")
    action: Action
    user_id: int | None = Field(description="The Parley user who acted; null for an org API key or a hook.")
    credential: str | None = Field(
        description="Which credential: a token's prefix (ak_…, pat_…), session:… for a login session, "
        "hook:… for a provider webhook, cli or simulate for a command. Never a secret."
    )
    target: str | None = Field(description="The conversation (or token prefix) it concerned.")
    rows: int | None = Field(description="How many rows it read or wrote (an export: rows exported).")
    client: str | None = Field(description="The client's address.")
    detail: dict[str, Any] | None = Field(
        description="What was asked: filter names; a search's text (q) only when you have read_sensitive."
    )


class AuditPage(BaseModel):
    data: list[AuditEntry]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last page.")


@router.get("/audit", response_model=AuditPage, summary="The org's audit trail, newest first")
def list_audit(
    request: Request,
    principal: PrincipalDep,
    engine: EngineDep,
    secret_key: SecretKeyDep,
    action: Annotated[Action | None, Query(description="Only this kind of entry.")] = None,
    user: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this user's entries.")] = None,
    since: Annotated[str | None, Query(description="RFC 3339; inclusive.")] = None,
    until: Annotated[str | None, Query(description="RFC 3339; exclusive.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=MAX_CURSOR_LENGTH, description="next_cursor from the previous page.")
    ] = None,
) -> Response:
    reject_unknown_params(request, frozenset({"action", "user", "since", "until", "limit", "cursor"}))
    principal.require(Scope.MANAGE)
    filters = AuditFilters(action, user, _timestamp("since", since), _timestamp("until", until))
    if filters.since and filters.until and filters.since >= filters.until:
        raise BadRequest("since must be earlier than until.", parameter="since")
    with read_connection(engine, principal.org_id) as connection:
        page = audit_page(
            connection,
            principal.org_id,
            filters,
            cursor,
            limit,
            secret_key,
            show_queries=principal.sensitive,
        )
    return Response(orjson.dumps(page), media_type="application/json")
