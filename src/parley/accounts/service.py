"""Creating and looking up orgs, users and tokens. Each function runs inside the caller's transaction."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from parley.audit.rules import token_changed
from parley.audit.trail import Action
from parley.auth.members import Org, find_org, membership
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope, format_scopes
from parley.auth.tokens import TokenKind, hash_secret, new_secret, prefix_of
from parley.db import tables
from parley.db.clock import now
from parley.db.search_tables import create_org_tables
from parley.errors import BadRequest, Conflict, NotFound

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_org(connection: Connection, slug: str, name: str | None = None) -> Org:
    if not _SLUG.match(slug):
        raise BadRequest(f"{slug!r} is not a valid org slug: use lowercase letters, digits and dashes.")
    existing = find_org(connection, slug)
    if existing is not None and existing.slug == slug:  # a digit slug may also be another org's id
        raise Conflict(f"An org with the slug {slug!r} already exists.")
    display = name or slug.replace("-", " ").title()
    org_id = connection.execute(
        insert(tables.orgs).values(slug=slug, name=display, created_at=now()).returning(tables.orgs.c.id)
    ).scalar_one()
    create_org_tables(connection, org_id)  # its own search tables, on SQLite
    return Org(org_id, slug, display)


def ensure_org(connection: Connection, slug: str, name: str | None = None) -> Org:
    return find_org(connection, slug) or create_org(connection, slug, name)


def get_org(connection: Connection, ref: str) -> Org:
    org = find_org(connection, ref)
    if org is None:
        raise NotFound(f"There is no org {ref!r}.")
    return org


def create_user(
    connection: Connection,
    passwords: Passwords,
    email: str,
    password: str,
    org: Org,
    role: Role,
    name: str | None = None,
) -> int:
    """Create a user (or reuse one with this email) and make them a member of ``org`` with ``role``."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise BadRequest(f"{email!r} is not an email address.")
    if len(password) < 8:
        raise BadRequest("The password must be at least 8 characters long.")
    user_id = find_user_id(connection, email)
    if user_id is None:
        user_id = connection.execute(
            insert(tables.users)
            .values(email=email, name=name, password_hash=passwords.hash(password), created_at=now())
            .returning(tables.users.c.id)
        ).scalar_one()
    elif membership(connection, user_id, org.id) is not None:
        raise Conflict(f"{email} is already a member of {org.slug}.")
    connection.execute(
        insert(tables.memberships).values(org_id=org.id, user_id=user_id, role=role.value, created_at=now())
    )
    return user_id


def find_user_id(connection: Connection, email: str) -> int | None:
    return connection.execute(
        select(tables.users.c.id).where(tables.users.c.email == email.strip().lower())
    ).scalar_one_or_none()


def create_token(
    connection: Connection,
    kind: TokenKind,
    scopes: frozenset[Scope],
    *,
    org_id: int | None = None,
    user_id: int | None = None,
    name: str | None = None,
    expires_at: datetime | None = None,
    by: str = "cli",
) -> str:
    """Store a new token and return its secret, which is never retrievable again. ``by`` names,
    for the audit trail, the tool that made it."""
    if not scopes:
        raise BadRequest("A token needs at least one scope.")
    if (kind is TokenKind.API_KEY) != (org_id is not None) or (kind is TokenKind.PAT) != (
        user_id is not None
    ):
        raise BadRequest("An API key belongs to an org; a personal access token belongs to a user.")
    secret = new_secret(kind)
    connection.execute(
        insert(tables.api_tokens).values(
            kind=kind.value,
            prefix=prefix_of(secret),
            token_hash=hash_secret(secret),
            org_id=org_id,
            user_id=user_id,
            scopes=format_scopes(scopes),
            name=name,
            created_at=now(),
            expires_at=expires_at,
        )
    )
    detail = {"kind": kind.value, "scopes": format_scopes(scopes)}
    _audit_token(connection, Action.TOKEN_CREATED, prefix_of(secret), org_id, user_id, by, detail)
    return secret


def revoke_token(connection: Connection, prefix: str, by: str = "cli") -> None:
    t = tables.api_tokens
    row = connection.execute(
        update(t)
        .where(t.c.prefix == prefix, t.c.revoked_at.is_(None))
        .values(revoked_at=now())
        .returning(t.c.kind, t.c.org_id, t.c.user_id)
    ).first()
    if row is None:
        raise NotFound(f"No active token has the prefix {prefix!r}.")
    _audit_token(connection, Action.TOKEN_REVOKED, prefix, row.org_id, row.user_id, by, {"kind": row.kind})


def _audit_token(
    connection: Connection,
    action: Action,
    prefix: str,
    org_id: int | None,
    user_id: int | None,
    by: str,
    detail: dict[str, str],
) -> None:
    """An API key's event is its org's; a personal token's, each of its user's orgs'."""
    if org_id is not None:
        org_ids = [org_id]
    else:
        m = tables.memberships
        org_ids = list(connection.execute(select(m.c.org_id).where(m.c.user_id == user_id)).scalars())
    token_changed(connection, action, prefix, org_ids, user_id=user_id, by=by, detail=detail)


def count_rows(connection: Connection, table: str) -> int:
    return int(
        connection.execute(select(func.count()).select_from(tables.metadata.tables[table])).scalar_one()
    )
