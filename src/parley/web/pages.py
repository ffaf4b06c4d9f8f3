"""The inbox pages. The table is drawn in the browser from the public JSON API; the detail page is
drawn here from the same service function and field policy the API uses."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parley.api.deps import EngineDep, LinksDep, PrincipalDep
from parley.conversations.enums import (
    CHANNEL_LABELS,
    DIRECTION_LABELS,
    LISTED_STATUSES,
    PLAYABLE_STATUSES,
    status_label,
)
from parley.conversations.ids import parse_conversation_id
from parley.conversations.policy import authorize_read
from parley.conversations.queries import holding_org
from parley.conversations.service import conversation_detail
from parley.db.engine import read_connection
from parley.errors import NotFound
from parley.web.csrf import CSRF_FIELD
from parley.web.queries import org_agents
from parley.web.render import render
from parley.web.session import WebUser, WebUserDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _chrome(user: WebUser) -> dict[str, Any]:
    """What the page header needs: who is logged in, their orgs, the current one."""
    return {"user": user, "csrf_field": CSRF_FIELD}


@router.get("/")
@router.get("/conversations")
def inbox(request: Request, user: WebUserDep) -> HTMLResponse:
    return render(
        request,
        "inbox.html",
        {
            **_chrome(user),
            "page_size": PAGE_SIZE,
            "statuses": [(s.value, status_label(s)) for s in LISTED_STATUSES],
            "channels": [(c.value, label) for c, label in CHANNEL_LABELS.items()],
            "directions": [(d.value, label) for d, label in DIRECTION_LABELS.items()],
            "config": {
                "org": user.org.slug,
                "multiOrg": user.multi_org,
                "sensitive": user.principal.sensitive,
                "pageSize": PAGE_SIZE,
                "channelLabels": {c.value: label for c, label in CHANNEL_LABELS.items()},
                "directionLabels": {d.value: label for d, label in DIRECTION_LABELS.items()},
                "playable": sorted(s.value for s in PLAYABLE_STATUSES),
            },
        },
        org_slug=user.org.slug,
    )


@router.get("/conversations/{conversation_id}")
def conversation_page(
    request: Request, conversation_id: str, user: WebUserDep, engine: EngineDep, links: LinksDep
) -> HTMLResponse:
    viewer = user
    with read_connection(engine) as connection:
        try:
            detail = conversation_detail(connection, viewer.principal, conversation_id, links)
        except NotFound:
            # A copied link names no org: look in the user's other orgs before giving up. Orgs
            # they are not in are never searched, so a foreign id looks exactly like a missing one.
            parsed = parse_conversation_id(conversation_id)
            others = [
                authorize_read(user.in_org(m.org_id).principal).visible
                for m in user.orgs
                if m.org_id != user.org.org_id
            ]
            holder = holding_org(connection, others, parsed) if parsed else None
            if holder is None:
                return render(
                    request, "not_found.html", _chrome(user), status_code=404, org_slug=user.org.slug
                )
            viewer = user.in_org(holder)
            detail = conversation_detail(connection, viewer.principal, conversation_id, links)
    return render(
        request,
        "detail.html",
        {
            **_chrome(viewer),
            "c": detail,
            "sensitive": viewer.principal.sensitive,
        },
        org_slug=viewer.org.slug,
    )


@router.get("/web/agents")
def agents(principal: PrincipalDep, engine: EngineDep) -> Response:
    """The org's agents for the inbox's filter; any credential that can read the inbox may ask."""
    access = authorize_read(principal)
    with read_connection(engine) as connection:
        rows = org_agents(connection, access.org_id)
    body = {"data": [{"id": str(row.id), "name": row.name} for row in rows]}
    return Response(orjson.dumps(body), media_type="application/json")
