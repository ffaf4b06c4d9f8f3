"""The browser's side of a login: the session cookie, the chosen org, and the principal they make.

A logged-in browser is one more API client. ``session_principal`` is the hook
``api.deps.resolve_principal`` calls when a request has no Authorization header; it resolves the
session to the same ``Principal`` a personal access token with every scope would give the user in
that org (``principal_for_member``), so the API's scope checks and field policy apply unchanged.

The org comes from the ``X-Anyreach-Org`` header the inbox sends with fetch(), or else from the
``parley_org`` cookie: navigations (the CSV export, ``<audio src>``) cannot send headers, and the
list endpoints refuse unknown query parameters, so the cookie is what carries the org there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlalchemy import Connection

from parley.api.deps import EngineDep
from parley.auth.members import Membership, memberships
from parley.auth.principal import Principal, principal_for_member, principal_of_membership
from parley.auth.sessions import session_marker, session_user
from parley.db.engine import read_connection
from parley.errors import Forbidden
from parley.web.queries import user_email

SESSION_COOKIE = "parley_session"
ORG_COOKIE = "parley_org"
_SAFE_METHODS = frozenset({"GET", "HEAD"})


def session_principal(request: Request, connection: Connection, org_ref: str | None) -> Principal | None:
    """The principal of the browser's login session, or None when there is none.

    Only safe methods are served from the cookie: every API change needs a token, so a forged
    cross-site request has nothing to change even if a browser were to send the cookie along.
    """
    if request.method not in _SAFE_METHODS:
        return None
    user_id = session_user(connection, request.cookies.get(SESSION_COOKIE, ""))
    if user_id is None:
        return None
    ref = org_ref or request.cookies.get(ORG_COOKIE)
    if not ref:
        orgs = memberships(connection, user_id)
        if not orgs:
            raise Forbidden("Your account is not a member of any org.")
        ref = orgs[0].slug
    marker = session_marker(request.cookies.get(SESSION_COOKIE, ""))
    return principal_for_member(connection, user_id, ref, None, None, credential=marker)


class LoginRequired(Exception):
    """Raised by page dependencies; answered with a redirect to the login form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class NoMembership(Exception):
    """A logged-in user who belongs to no org has nothing to look at."""

    def __init__(self, email: str) -> None:
        super().__init__(email)
        self.email = email


@dataclass(frozen=True, slots=True)
class WebUser:
    """The logged-in user of a page: their orgs, the one they are looking at, and its principal."""

    user_id: int
    email: str
    orgs: list[Membership]
    org: Membership
    principal: Principal

    @property
    def multi_org(self) -> bool:
        return len(self.orgs) > 1

    def in_org(self, org_id: int) -> WebUser:
        """The same user looking at another of their orgs."""
        org = next(m for m in self.orgs if m.org_id == org_id)
        principal = principal_of_membership(
            org, self.user_id, None, None, credential=self.principal.credential
        )
        return WebUser(self.user_id, self.email, self.orgs, org, principal)


def requested_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(next_url: str) -> str:
    return "/login" if next_url == "/" else f"/login?next={quote(next_url, safe='/')}"


def current_user(request: Request, connection: Connection) -> WebUser | None:
    """The logged-in user and the org they are looking at: ``?org=`` if they belong to it, else
    the org cookie, else their first org. A stale choice falls back rather than failing, since a
    page (unlike the API) can show where it landed."""
    user_id = session_user(connection, request.cookies.get(SESSION_COOKIE, ""))
    email = user_email(connection, user_id) if user_id is not None else None
    if user_id is None or email is None:
        return None
    orgs = memberships(connection, user_id)
    if not orgs:
        raise NoMembership(email)
    wanted = [request.query_params.get("org"), request.cookies.get(ORG_COOKIE)]
    org = next((m for ref in wanted for m in orgs if ref in (m.slug, str(m.org_id))), orgs[0])
    marker = session_marker(request.cookies.get(SESSION_COOKIE, ""))
    principal = principal_of_membership(org, user_id, None, None, credential=marker)
    return WebUser(user_id, email, orgs, org, principal)


def require_user(request: Request, engine: EngineDep) -> WebUser:
    with read_connection(engine, None) as connection:
        user = current_user(request, connection)
    if user is None:
        raise LoginRequired(requested_path(request))
    return user


WebUserDep = Annotated[WebUser, Depends(require_user)]


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: directly, or through a proxy that the public URL
    names (a proxy terminating TLS may forward plain http)."""
    public_url: str = request.app.state.settings.public_url
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(response: Response, request: Request, secret: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="lax",
    )


def set_org_cookie(response: Response, request: Request, slug: str) -> None:
    # Not HttpOnly: the inbox rewrites it before a navigation that relies on it (export, audio),
    # so a tab keeps its own org after another tab switched. It is a preference, not a credential:
    # every request still proves membership through the session.
    response.set_cookie(
        ORG_COOKIE, slug, max_age=365 * 24 * 3600, path="/", secure=is_https(request), samesite="lax"
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    # The org cookie stays: it is only a preference, checked against the next user's memberships.
    response.delete_cookie(SESSION_COOKIE, path="/", secure=is_https(request), httponly=True, samesite="lax")
