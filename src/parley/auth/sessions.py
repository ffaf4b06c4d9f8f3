"""Web login sessions: checking a password, and storing sessions by the hash of their cookie.

The cookie carries a random secret; only its SHA-256 is stored, as for API tokens, so a copy of
the database cannot be turned into a logged-in browser. A session has a fixed lifetime set at
login; it is never extended, so a stolen cookie stops working when the login would have.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from parley.auth.tokens import hash_secret
from parley.db import tables
from parley.db.clock import now

_SECRET_BYTES = 32
# Longer cookie values are refused before hashing: nothing we issue is that long.
MAX_SESSION_COOKIE_LENGTH = 128


@dataclass(frozen=True, slots=True)
class NewSession:
    secret: str  # goes into the cookie, never into the database
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StoredPassword:
    """What the login form checks a password against."""

    user_id: int | None  # None: no user has this email
    password_hash: str | None


def session_marker(secret: str) -> str:
    """How the audit trail names a login session: the first characters of its stored hash, enough
    to tell sessions apart and to find one in ``web_sessions``, nothing that would log a browser in."""
    return f"session:{hash_secret(secret)[:12]}"


def stored_password(connection: Connection, email: str) -> StoredPassword:
    """The user with this email and their password hash, both None for an unknown email.

    ``Passwords.verify`` gives None the same argon2 verification as a wrong password, so response
    time does not tell which of the two was wrong. The hash is checked by the caller, off the
    thread this query runs on (see ``auth.password_threads``).
    """
    u = tables.users
    row = connection.execute(
        select(u.c.id, u.c.password_hash).where(u.c.email == email.strip().lower())
    ).first()
    return StoredPassword(int(row.id), row.password_hash) if row else StoredPassword(None, None)


def create_session(connection: Connection, user_id: int, max_age: timedelta) -> NewSession:
    """Start a session for ``user_id``, dropping every expired session on the way."""
    moment = now()
    ws = tables.web_sessions
    connection.execute(delete(ws).where(ws.c.expires_at <= moment))
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    expires_at = moment + max_age
    connection.execute(
        insert(ws).values(
            id_hash=hash_secret(secret), user_id=user_id, created_at=moment, expires_at=expires_at
        )
    )
    return NewSession(secret, expires_at)


def session_user(connection: Connection, secret: str) -> int | None:
    """The user a session cookie belongs to, or None when it is unknown, ended or expired."""
    if not secret or len(secret) > MAX_SESSION_COOKIE_LENGTH:
        return None
    ws = tables.web_sessions
    row = connection.execute(
        select(ws.c.user_id, ws.c.expires_at).where(ws.c.id_hash == hash_secret(secret))
    ).first()
    if row is None or row.expires_at <= now():
        return None
    return int(row.user_id)


def end_session(connection: Connection, secret: str) -> None:
    """Forget a session (logout). Unknown secrets are ignored: the outcome is the same."""
    if secret and len(secret) <= MAX_SESSION_COOKIE_LENGTH:
        ws = tables.web_sessions
        connection.execute(delete(ws).where(ws.c.id_hash == hash_secret(secret)))
