"""Logging in and out of the inbox with an email and a password (users come from ``parley user create``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from parley.api.deps import EngineDep, SecretKeyDep, SettingsDep
from parley.audit import rules as audit_rules
from parley.audit.rules import client_of
from parley.audit.trail import AuditTrail
from parley.auth.members import memberships
from parley.auth.password_threads import PasswordThreads
from parley.auth.passwords import Passwords
from parley.auth.sessions import (
    StoredPassword,
    create_session,
    end_session,
    session_marker,
    stored_password,
)
from parley.auth.throttle import LoginThrottle, Refused
from parley.config import Settings
from parley.db.engine import read_connection, write_connection
from parley.web.csrf import CSRF_FIELD, CsrfRejected, check_csrf
from parley.web.render import render
from parley.web.session import (
    ORG_COOKIE,
    SESSION_COOKIE,
    clear_session_cookie,
    current_user,
    set_org_cookie,
    set_session_cookie,
)

router = APIRouter(include_in_schema=False)

# One message for an unknown email and a wrong password, so the form cannot probe for accounts.
WRONG_CREDENTIALS = "That email and password do not match an account. Check both and try again."
FORM_EXPIRED = "This form has expired or did not come from this site. Please try again."
NO_ORG = "Your account is not a member of any org yet. Ask an admin of your org to add you."


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site (an open redirect)."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 0x20 for ch in value)
        or value.startswith("/login")
    ):
        return "/"
    return value


def _login_page(
    request: Request, next_url: str, *, error: str | None = None, email: str = "", status_code: int = 200
) -> Response:
    return render(
        request,
        "login.html",
        {"next": next_url, "error": error, "email": email, "csrf_field": CSRF_FIELD},
        status_code=status_code,
    )


@router.get("/login")
def login_form(request: Request, engine: EngineDep, next: str | None = None) -> Response:
    target = safe_next(next)
    with read_connection(engine, None) as connection:
        user = current_user(request, connection)
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, target)


@router.post("/login")
async def log_in(
    request: Request,
    settings: SettingsDep,
    secret_key: SecretKeyDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str | None, Form(max_length=128)] = None,
    next: Annotated[str | None, Form(max_length=2048)] = None,
) -> Response:
    """Async, so each step runs where it belongs: the form checks and the throttle on the event
    loop, the two database steps on the requests' threads, and argon2 on threads of its own,
    which reads never queue behind."""
    target = safe_next(next)
    try:
        check_csrf(request, secret_key, settings.public_url, csrf_token)
    except CsrfRejected:
        return _login_page(request, target, error=FORM_EXPIRED, email=email, status_code=403)
    throttle: LoginThrottle = request.app.state.login_throttle
    client = client_of(request)
    audit: AuditTrail = request.app.state.audit
    attempt = throttle.begin(email, client)
    if isinstance(attempt, Refused):  # answered before any hashing: refusals cost next to nothing
        audit_rules.login_throttled(audit, email, client, attempt.retry_after)
        page = _login_page(
            request, target, error=throttled(attempt.retry_after), email=email, status_code=429
        )
        page.headers["Retry-After"] = str(attempt.retry_after)
        return page
    stored = await run_in_threadpool(_stored_password, request.app.state.engine, email)
    password_threads: PasswordThreads = request.app.state.password_threads
    passwords: Passwords = request.app.state.passwords
    matched = await password_threads.run(passwords.verify, stored.password_hash, password)
    if not matched or stored.user_id is None:
        throttle.failed(attempt)
        orgs = await run_in_threadpool(_org_ids, request.app.state.engine, stored.user_id)
        audit_rules.login_failed(audit, stored.user_id, orgs, email, client)
        return _login_page(request, target, error=WRONG_CREDENTIALS, email=email, status_code=400)
    throttle.succeeded(attempt)
    return await run_in_threadpool(_start_session, request, settings, stored.user_id, target, email)


def throttled(retry_after: int) -> str:
    """The sentence a throttled login shows: how long to wait, in the unit a person would use."""
    if retry_after < 60:
        wait = f"{retry_after} second{'s' if retry_after != 1 else ''}"
    else:
        minutes = -(-retry_after // 60)
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"Too many failed attempts to log in. Wait {wait}, then try again."


def _stored_password(engine: Engine, email: str) -> StoredPassword:
    with read_connection(engine, None) as connection:
        return stored_password(connection, email)


def _org_ids(engine: Engine, user_id: int | None) -> list[int]:
    if user_id is None:
        return []
    with read_connection(engine, None) as connection:
        return [m.org_id for m in memberships(connection, user_id)]


def _start_session(request: Request, settings: Settings, user_id: int, target: str, email: str) -> Response:
    # Its own transaction, committed before the redirect is answered: the next request must find it.
    # A write transaction from its start: it reads the memberships first, and on SQLite a
    # transaction that read before writing fails at once when another writer got in between.
    with write_connection(request.app.state.engine, None) as connection:
        orgs = memberships(connection, user_id)
        if not orgs:
            return _login_page(request, target, error=NO_ORG, email=email, status_code=403)
        # A new secret at every login, and the old one gone, so a planted cookie is never promoted.
        end_session(connection, request.cookies.get(SESSION_COOKIE, ""))
        session = create_session(connection, user_id, timedelta(seconds=settings.session_max_age_seconds))
    audit_rules.logged_in(
        request.app.state.audit,
        user_id,
        [m.org_id for m in orgs],
        session_marker(session.secret),
        client_of(request),
    )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, session.secret, settings.session_max_age_seconds)
    if request.cookies.get(ORG_COOKIE) not in {m.slug for m in orgs}:
        set_org_cookie(response, request, orgs[0].slug)
    return response


@router.post("/logout")
def log_out(
    request: Request,
    settings: SettingsDep,
    secret_key: SecretKeyDep,
    csrf_token: Annotated[str | None, Form(max_length=128)] = None,
) -> Response:
    try:
        check_csrf(request, secret_key, settings.public_url, csrf_token)
    except CsrfRejected:
        return render(
            request,
            "message.html",
            {"title": "Log out", "message": FORM_EXPIRED, "logout_form": True, "csrf_field": CSRF_FIELD},
            status_code=403,
        )
    with request.app.state.engine.begin() as connection:
        end_session(connection, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request)
    return response
