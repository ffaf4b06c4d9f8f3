"""What each audited path records, and when: the rules every route, page and command calls.

Reads are recorded when they show sensitive data: a detail with its transcript, a recording,
a live stream with sensitive fields, and every search (only read_sensitive may search) and
export. Logins, failed and refused logins, tokens made or revoked, and every write through the
API or a provider's webhook are recorded always.

A login is an instance's event, not an org's: it is recorded once in each org the account
belongs to, so each org's admins see their members' logins. Failures for an unknown email and
throttled refusals (answered before any look-up, to stay cheap) belong to no org: they are
kept with ``org_id`` NULL for the operator, with the email masked as the log masks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request

from parley.audit.trail import Action, Actor, AuditTrail, entry, record_in, search_detail
from parley.auth.principal import Principal
from parley.auth.throttle import mask_email
from parley.conversations.export.stream import OnEnd
from parley.conversations.filters import ConversationFilters


def client_of(request: Request) -> str | None:
    """The client's address as the server saw it (behind a proxy, what the proxy headers say,
    when the server is told to trust them)."""
    return request.client.host if request.client else None


@dataclass(frozen=True, slots=True)
class Audit:
    """The trail and the actor of one request."""

    trail: AuditTrail
    actor: Actor

    @classmethod
    def of(cls, request: Request, principal: Principal) -> Audit:
        return cls(request.app.state.audit, Actor.of(principal, client_of(request)))

    def record(self, action: Action, **fields: Any) -> None:
        self.trail.record(self.actor, action, **fields)

    def wrote(self, connection: Connection, action: Action, target: int | str, rows: int = 1) -> None:
        """A write through the API, in the write's own transaction."""
        self.trail.record_in(connection, self.actor, action, target=str(target), rows=rows)


def _filters(actor: Actor, filters: ConversationFilters) -> dict[str, Any]:
    return search_detail(actor, filters.q.text if filters.q else None, filters.parameters())


def listed(audit: Audit, filters: ConversationFilters, rows: int) -> None:
    """A list page: recorded when it searched (``q``)."""
    if filters.q is not None:
        audit.record(Action.SEARCH, rows=rows, detail=_filters(audit.actor, filters))


def read_detail(audit: Audit, conversation_id: str) -> None:
    """A conversation's detail: recorded when it showed the transcript (read_sensitive)."""
    if audit.actor.sensitive:
        audit.record(Action.READ, target=conversation_id, rows=1)


def played(audit: Audit, conversation_id: str, seq: int, range_header: str | None) -> None:
    """A recording: recorded when it is asked for from its start. A player seeking asks for
    many ranges of one playback; each is not a new look."""
    if range_header is None or range_header.replace(" ", "").startswith("bytes=0-"):
        audit.record(Action.RECORDING, target=conversation_id, rows=1, detail={"seq": seq})


def export_ended(audit: Audit, filters: ConversationFilters) -> OnEnd:
    """The export's callback: recorded when it stops, with the rows it read."""
    detail = _filters(audit.actor, filters)

    def ended(rows: int, complete: bool) -> None:
        audit.record(Action.EXPORT, rows=rows, detail={**detail, "complete": complete})

    return ended


def live_opened(audit: Audit, filters: ConversationFilters | None, conversation_id: str | None) -> None:
    """A live stream: recorded when it shows sensitive fields."""
    if audit.actor.sensitive:
        detail = _filters(audit.actor, filters) if filters is not None else None
        audit.record(Action.LIVE, target=conversation_id, detail=detail)


def logged_in(
    trail: AuditTrail, user_id: int, org_ids: Iterable[int], marker: str, client: str | None
) -> None:
    for org_id in org_ids:
        trail.record(Actor(org_id, user_id, marker, client), Action.LOGIN)


def login_failed(
    trail: AuditTrail, user_id: int | None, org_ids: Iterable[int], email: str, client: str | None
) -> None:
    orgs: list[int | None] = list(org_ids) if user_id is not None else []
    detail = {"account": mask_email(email)}
    for org_id in orgs or [None]:
        trail.record(Actor(org_id, user_id, None, client), Action.LOGIN_FAILED, detail=detail)


def login_throttled(trail: AuditTrail, email: str, client: str | None, retry_after: int) -> None:
    detail = {"account": mask_email(email), "retry_after": retry_after}
    trail.record(Actor(None, None, None, client), Action.LOGIN_THROTTLED, detail=detail)


def token_changed(
    connection: Connection,
    action: Action,
    prefix: str,
    org_ids: Iterable[int],
    *,
    user_id: int | None,
    by: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """A token made or revoked, in the same transaction: once in its org (an API key) or in
    each org of its user (a personal access token). ``by`` names the tool that did it."""
    entries = [entry(Actor(org_id, user_id, by), action, target=prefix, detail=detail) for org_id in org_ids]
    record_in(
        connection, *(entries or [entry(Actor(None, user_id, by), action, target=prefix, detail=detail)])
    )


def delivered(
    trail: AuditTrail,
    connection: Connection,
    org_id: int,
    credential: str,
    client: str | None,
    conversation_id: int | None,
    detail: dict[str, Any],
) -> None:
    """A provider webhook's write, in its own transaction."""
    target = str(conversation_id) if conversation_id is not None else None
    trail.record_in(
        connection,
        Actor(org_id, None, credential, client),
        Action.DELIVERY,
        target=target,
        rows=1,
        detail=detail,
    )
