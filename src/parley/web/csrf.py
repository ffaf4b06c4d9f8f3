"""CSRF protection for the inbox's two forms (login and logout); the API is read-only for browsers.

Three layers, each enough on its own against a plain cross-site form post:

* the session cookie is ``SameSite=Lax``, so a cross-site POST does not carry it;
* a POST whose ``Origin`` (or ``Sec-Fetch-Site``) says it came from another site is refused;
* the form carries a token that is an HMAC of a random per-browser cookie, so a page on another
  site can neither read nor compute it. Login has no session yet, which is why the token hangs off
  its own cookie rather than the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

CSRF_COOKIE = "parley_csrf"
CSRF_FIELD = "csrf_token"
_MAX_COOKIE_LENGTH = 128


class CsrfRejected(Exception):
    """A form post that may not have come from one of our pages."""


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_secret(request: Request) -> str | None:
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and len(value) <= _MAX_COOKIE_LENGTH else None


def form_token(secret_key: str, secret: str) -> str:
    return hmac.new(secret_key.encode(), f"parley-csrf:{secret}".encode(), hashlib.sha256).hexdigest()


def trusted_hosts(request: Request, public_url: str) -> set[str]:
    """The host (and port) our own pages are served from: the request's Host, and the public URL's.
    Only the host is compared: behind a proxy that terminates TLS the scheme we see is http."""
    hosts = {request.headers.get("host", "").lower()}
    if public_url:
        hosts.add(urlsplit(public_url).netloc.lower())
    return hosts - {""}


def check_csrf(request: Request, secret_key: str, public_url: str, submitted: str | None) -> None:
    """Raise CsrfRejected unless this POST came from a form we rendered, on our own site."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfRejected("cross-site request")
    origin = request.headers.get("origin")
    # Browsers send Origin on every POST; its absence (old clients, tests) leaves the token check.
    if origin is not None and urlsplit(origin).netloc.lower() not in trusted_hosts(request, public_url):
        raise CsrfRejected(f"unexpected origin {origin!r}")
    secret = csrf_secret(request)
    if secret is None or not submitted or not hmac.compare_digest(form_token(secret_key, secret), submitted):
        raise CsrfRejected("missing or wrong form token")
