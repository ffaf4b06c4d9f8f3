"""Turning a bearer token or a web session into a Principal: the one object every check reads."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from parley.auth.members import Membership, membership
from parley.auth.scopes import READ_SCOPES, ROLE_SCOPES, Scope, parse_scopes
from parley.auth.tokens import TokenKind, hash_secret, kind_of, prefix_of
from parley.db import tables
from parley.db.clock import now
from parley.errors import BadRequest, Forbidden, Unauthorized

ORG_HEADER = "X-Anyreach-Org"
# Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
_LAST_USED_GRANULARITY = timedelta(minutes=1)
_log = logging.getLogger(__name__)

_t = tables.api_tokens
_o = tables.orgs
# Built once (building it cost as much as running it); the org of an API key comes along in the
# same query: one round trip fewer on every request.
_TOKEN_LOOKUP = (
    select(
        _t.c.id,
        _t.c.kind,
        _t.c.org_id,
        _t.c.user_id,
        _t.c.scopes,
        _t.c.expires_at,
        _t.c.revoked_at,
        _t.c.last_used_at,
        _o.c.slug.label("org_slug"),
    )
    .select_from(_t.outerjoin(_o, _o.c.id == _t.c.org_id))
    .where(_t.c.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, in which org, with which scopes."""

    org_id: int
    org_slug: str
    scopes: frozenset[Scope]
    user_id: int | None = None
    token_kind: TokenKind | None = None  # None for a web session
    # Which credential acted, as the audit trail names it: a token's public prefix ("ak_1a2b…")
    # or "session:" and the start of the session's stored hash. Never a secret.
    credential: str | None = None

    def can_read(self) -> bool:
        return bool(self.scopes & READ_SCOPES)

    @property
    def sensitive(self) -> bool:
        return Scope.READ_SENSITIVE in self.scopes

    def require(self, scope: Scope) -> None:
        if scope not in self.scopes:
            raise Forbidden(f"This needs the {scope.value} scope, which your credentials do not have.")

    def require_read(self) -> None:
        if not self.can_read():
            names = ", ".join(sorted(s.value for s in READ_SCOPES))
            raise Forbidden(f"Reading conversations needs one of these scopes: {names}.")


def parse_bearer(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise Unauthorized("The Authorization header must use the Bearer scheme: 'Bearer <token>'.")
    return credentials.strip()


def principal_from_token(
    connection: Connection, secret: str, org_ref: str | None, token_use: TokenUse | None = None
) -> Principal:
    """Resolve a token secret (and, for a PAT, the org header) into a Principal or raise.
    ``token_use`` notes when the token was last used (None: not noted); the caller writes it
    with ``token_use.write()`` once this connection is released."""
    kind = kind_of(secret)
    if kind is None:
        raise Unauthorized("The token is malformed: Parley tokens start with 'pat_' or 'ak_'.")
    row = connection.execute(_TOKEN_LOOKUP, {"token_hash": hash_secret(secret)}).first()
    moment = now()
    if row is None or row.kind != kind.value:
        raise Unauthorized("The token is not recognised.")
    if row.revoked_at is not None:
        raise Unauthorized("The token has been revoked.")
    if row.expires_at is not None and row.expires_at <= moment:
        raise Unauthorized("The token has expired.")
    stale = row.last_used_at is None or moment - row.last_used_at > _LAST_USED_GRANULARITY
    if token_use is not None and stale:
        token_use.note(row.id, moment)
    token_scopes = parse_scopes(row.scopes)

    if kind is TokenKind.API_KEY:
        assert row.org_slug is not None  # the foreign key cascades deletes
        if org_ref is not None and org_ref not in (row.org_slug, str(row.org_id)):
            raise Forbidden(
                f"This API key belongs to another org than {org_ref!r}; drop the {ORG_HEADER} header."
            )
        return Principal(
            row.org_id, row.org_slug, token_scopes, token_kind=kind, credential=prefix_of(secret)
        )

    if not org_ref:
        raise BadRequest(
            f"Personal access tokens must send the {ORG_HEADER} header naming the org to act in."
        )
    return principal_for_member(
        connection, row.user_id, org_ref, token_scopes, TokenKind.PAT, credential=prefix_of(secret)
    )


def principal_for_member(
    connection: Connection,
    user_id: int,
    org_ref: str,
    granted: frozenset[Scope] | None,
    token_kind: TokenKind | None,
    *,
    credential: str | None = None,
) -> Principal:
    """A user acting in an org: their role's scopes there, narrowed by the token's (if any)."""
    member = membership(connection, user_id, org_ref)
    if member is None:
        # Same answer whether the org exists or not, so the header cannot probe for org names.
        raise Forbidden(f"You are not a member of the org {org_ref!r}.")
    return principal_of_membership(member, user_id, granted, token_kind, credential=credential)


def principal_of_membership(
    member: Membership,
    user_id: int,
    granted: frozenset[Scope] | None,
    token_kind: TokenKind | None,
    *,
    credential: str | None = None,
) -> Principal:
    """``principal_for_member`` for a membership already read (the web inbox lists them all)."""
    scopes = ROLE_SCOPES[member.role]
    if granted is not None:
        scopes = scopes & granted
    return Principal(
        member.org_id, member.slug, scopes, user_id=user_id, token_kind=token_kind, credential=credential
    )


class TokenUse:
    """Records a token's ``last_used_at`` in a short transaction of its own, at most once a minute
    per token and process. One per app (``app.state.token_use``).

    Written inside the request's transaction, it made reads into write transactions: under
    concurrent requests they queued behind SQLite's single writer (for up to the busy timeout)
    and, when their read snapshot was already stale, failed with "database is locked". Written
    while the request still held its connection, it needed a second one: with the pool exhausted,
    each request waited on itself. So ``note`` only notes the use, and ``write`` (called once the
    request's connection is back in the pool) writes it. It is bookkeeping: a failed write is
    logged and dropped, and the next use a minute later retries.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._attempted: dict[int, float] = {}  # token id -> monotonic time
        self._pending: dict[int, datetime] = {}

    def note(self, token_id: int, moment: datetime) -> None:
        now_monotonic = time.monotonic()
        with self._lock:
            last = self._attempted.get(token_id)
            if last is not None and now_monotonic - last < _LAST_USED_GRANULARITY.total_seconds():
                return
            self._attempted[token_id] = now_monotonic
            self._pending[token_id] = moment

    def write(self) -> None:
        with self._lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, {}
        t = tables.api_tokens
        for token_id, moment in pending.items():
            try:
                with self._engine.begin() as connection:
                    connection.execute(
                        update(t)
                        .where(t.c.id == token_id, or_(t.c.last_used_at.is_(None), t.c.last_used_at < moment))
                        .values(last_used_at=moment)
                    )
            except SQLAlchemyError as exc:
                _log.warning("could not record the use of token %s: %s", token_id, exc)
