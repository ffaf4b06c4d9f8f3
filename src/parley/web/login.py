"""Logging in and out of the inbox with an email and a password (users come from ``parley user create``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from parley.api.deps import EngineDep, SecretKeyDep, SettingsDep
from parley.auth.members import memberships
from parley.auth.sessions import check_password, create_session, end_session
from parley.db.engine import read_connection
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
    with read_connection(engine) as connection:
        user = current_user(request, connection)
    if user is not None:
        return RedirectResponse(target, status_code=303)
    return _login_page(request, target)


@router.post("/login")
def log_in(
    request: Request,
    settings: SettingsDep,
    secret_key: SecretKeyDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str | None, Form(max_length=128)] = None,
    next: Annotated[str | None, Form(max_length=2048)] = None,
) -> Response:
    target = safe_next(next)
    try:
        check_csrf(request, secret_key, settings.public_url, csrf_token)
    except CsrfRejected:
        return _login_page(request, target, error=FORM_EXPIRED, email=email, status_code=403)
    # Its own transaction, committed before the redirect is answered: the next request must find it.
    with request.app.state.engine.begin() as connection:
        user_id = check_password(connection, request.app.state.passwords, email, password)
        if user_id is None:
            return _login_page(request, target, error=WRONG_CREDENTIALS, email=email, status_code=400)
        orgs = memberships(connection, user_id)
        if not orgs:
            return _login_page(request, target, error=NO_ORG, email=email, status_code=403)
        # A new secret at every login, and the old one gone, so a planted cookie is never promoted.
        end_session(connection, request.cookies.get(SESSION_COOKIE, ""))
        session = create_session(connection, user_id, timedelta(seconds=settings.session_max_age_seconds))
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
