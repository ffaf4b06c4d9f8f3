"""The audit page (``/audit``): the org's audit trail for members who may manage it, drawn here
from the same reader ``GET /core/audit`` uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from parley.api.deps import EngineDep, SecretKeyDep
from parley.audit.log import AuditFilters, audit_page
from parley.audit.trail import Action
from parley.auth.scopes import Scope
from parley.db.engine import read_connection
from parley.errors import BadRequest
from parley.web.csrf import CSRF_FIELD
from parley.web.render import render
from parley.web.session import WebUserDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100


@router.get("/audit")
def audit(
    request: Request,
    user: WebUserDep,
    engine: EngineDep,
    secret_key: SecretKeyDep,
    action: Annotated[str | None, Query(max_length=32)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HTMLResponse:
    chrome = {"user": user, "csrf_field": CSRF_FIELD, "section": "audit"}
    principal = user.principal
    if Scope.MANAGE not in principal.scopes:
        message = "The audit trail is for the admins of this org."
        return render(
            request,
            "message.html",
            {**chrome, "title": "Audit", "message": message, "logout_form": False},
            status_code=403,
        )
    chosen = next((a for a in Action if a.value == action), None) if action else None
    try:
        with read_connection(engine, principal.org_id) as connection:
            page = audit_page(
                connection,
                principal.org_id,
                AuditFilters(action=chosen),
                cursor,
                PAGE_SIZE,
                secret_key,
                show_queries=principal.sensitive,
            )
    except BadRequest:  # a stale or edited cursor: start again from the newest
        return render(
            request,
            "message.html",
            {
                **chrome,
                "title": "Audit",
                "message": "That page link has expired. Start again from the newest.",
                "logout_form": False,
            },
            status_code=400,
        )
    return render(
        request,
        "audit.html",
        {
            **chrome,
            "entries": page["data"],
            "next_cursor": page["next_cursor"],
            "actions": list(Action),
            "action": chosen,
        },
        org_slug=user.org.slug,
    )
