"""Rendering pages: the Jinja2 environment (autoescaped) and the headers every page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from parley import __version__
from parley.conversations.enums import CHANNEL_LABELS, DIRECTION_LABELS, Channel, Direction, status_label
from parley.conversations.format import format_duration
from parley.web.csrf import CSRF_COOKIE, csrf_secret, form_token, new_csrf_secret
from parley.web.session import ORG_COOKIE, is_https, set_org_cookie

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

# Everything the pages load comes from this app: no inline script, no CDN, no external font.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Pages show sensitive data: keep them out of shared caches and the back-forward cache after logout.
    "Cache-Control": "no-store",
}


def offset_label(offset_ms: int) -> str:
    """``65_000`` -> ``01:05``; hours only when there are some (``1:02:05``)."""
    minutes, seconds = divmod(max(offset_ms, 0) // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def utc_label(moment: str | None) -> str | None:
    """What a page shows before its script converts a timestamp to the viewer's time zone."""
    if moment is None:
        return None
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


def filesize(size: int) -> str:
    """``1_234_567`` -> ``1.2 MB``."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS[Channel(channel)]


def direction_label(direction: str) -> str:
    return DIRECTION_LABELS[Direction(direction)]


def to_json_attribute(value: object) -> Markup:
    """JSON safe inside a quoted HTML attribute (autoescaping turns the quotes into entities)."""
    return Markup.escape(orjson.dumps(value).decode())


def build_environment() -> Environment:
    # StrictUndefined: a template naming a field the policy left out fails loudly in tests rather
    # than rendering an empty string; templates ask for optional fields with c.get(...).
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined)
    env.filters.update(
        status_label=status_label,
        channel_label=channel_label,
        direction_label=direction_label,
        duration=format_duration,
        offset=offset_label,
        utc=utc_label,
        filesize=filesize,
        json_attribute=to_json_attribute,
    )
    env.globals["version"] = __version__
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    org_slug: str | None = None,
) -> HTMLResponse:
    """A page with the security headers, a CSRF token for its forms, and the org cookie kept in
    step with the org the page shows."""
    env: Environment = request.app.state.web_templates
    secret_key: str = request.app.state.secret_key
    secret = csrf_secret(request)
    fresh = secret is None
    if secret is None:
        secret = new_csrf_secret()
    html = env.get_template(template).render({**context, "csrf_token": form_token(secret_key, secret)})
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, secret, path="/", httponly=True, secure=is_https(request), samesite="lax"
        )
    if org_slug is not None and request.cookies.get(ORG_COOKIE) != org_slug:
        set_org_cookie(response, request, org_slug)
    return response
