"""The inbox pages. The table is drawn in the browser from the public JSON API; the detail page is
drawn here from the same service function and field policy the API uses."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from parley.api.deps import EngineDep, LinksDep, PrincipalDep
from parley.audit import rules as audit_rules
from parley.audit.rules import Audit
from parley.conversations.enums import (
    CHANNEL_LABELS,
    DIRECTION_LABELS,
    FINISHED_STATUSES,
    LISTED_STATUSES,
    PLAYABLE_STATUSES,
    status_label,
)
from parley.conversations.ids import parse_conversation_id
from parley.conversations.policy import authorize_read
from parley.conversations.queries import holding_org
from parley.conversations.service import conversation_detail
from parley.db.engine import SYSTEM, read_connection
from parley.errors import NotFound
from parley.web.csrf import CSRF_FIELD
from parley.web.queries import org_agents
from parley.web.render import render
from parley.web.session import WebUser, WebUserDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50


def _chrome(user: WebUser, section: str | None = None) -> dict[str, Any]:
    """What the page header needs: who is logged in, their orgs, the current one, and which
    section of the nav the page is in."""
    return {"user": user, "csrf_field": CSRF_FIELD, "section": section}


def _script_config(user: WebUser) -> dict[str, Any]:
    """What the inbox's and the Live page's scripts are told about the viewer and the labels."""
    return {
        "org": user.org.slug,
        "multiOrg": user.multi_org,
        "sensitive": user.principal.sensitive,
        "channelLabels": {c.value: label for c, label in CHANNEL_LABELS.items()},
        "directionLabels": {d.value: label for d, label in DIRECTION_LABELS.items()},
        "statuses": [s.value for s in LISTED_STATUSES],  # every label a status pill can show
        "playable": sorted(s.value for s in PLAYABLE_STATUSES),
        "finished": sorted(s.value for s in FINISHED_STATUSES),
    }


def _filter_options(statuses: list[Any]) -> dict[str, Any]:
    return {
        "statuses": [(s.value, status_label(s)) for s in statuses],
        "channels": [(c.value, label) for c, label in CHANNEL_LABELS.items()],
        "directions": [(d.value, label) for d, label in DIRECTION_LABELS.items()],
    }


@router.get("/")
@router.get("/conversations")
def inbox(request: Request, user: WebUserDep) -> HTMLResponse:
    return render(
        request,
        "inbox.html",
        {
            **_chrome(user, "inbox"),
            **_filter_options(list(LISTED_STATUSES)),
            "analysis": True,
            "page_size": PAGE_SIZE,
            "config": {**_script_config(user), "pageSize": PAGE_SIZE},
        },
        org_slug=user.org.slug,
    )


@router.get("/live")
def live(request: Request, user: WebUserDep) -> HTMLResponse:
    """Conversations in progress, as they happen; the list and the selected transcript are drawn
    in the browser from the org's live stream."""
    return render(
        request,
        "live.html",
        {
            **_chrome(user, "live"),
            # Only the statuses a conversation in progress can have: finished ones leave the page.
            **_filter_options([s for s in LISTED_STATUSES if s not in FINISHED_STATUSES]),
            "analysis": False,
            "config": _script_config(user),
        },
        org_slug=user.org.slug,
    )


@router.get("/conversations/{conversation_id}")
def conversation_page(
    request: Request, conversation_id: str, user: WebUserDep, engine: EngineDep, links: LinksDep
) -> HTMLResponse:
    viewer = user
    try:
        with read_connection(engine, user.org.org_id) as connection:
            detail = conversation_detail(connection, viewer.principal, conversation_id, links)
    except NotFound:
        # A copied link names no org: look in the user's other orgs before giving up. Orgs
        # they are not in are never searched, so a foreign id looks exactly like a missing one.
        # The look-up spans orgs (the query names each of them), so it runs in the system scope.
        parsed = parse_conversation_id(conversation_id)
        others = [
            authorize_read(user.in_org(m.org_id).principal).visible
            for m in user.orgs
            if m.org_id != user.org.org_id
        ]
        with read_connection(engine, SYSTEM) as connection:
            holder = holding_org(connection, others, parsed) if parsed else None
        if holder is None:
            return render(request, "not_found.html", _chrome(user), status_code=404, org_slug=user.org.slug)
        viewer = user.in_org(holder)
        with read_connection(engine, holder) as connection:
            detail = conversation_detail(connection, viewer.principal, conversation_id, links)
    audit_rules.read_detail(Audit.of(request, viewer.principal), detail["id"])
    return render(
        request,
        "detail.html",
        {
            **_chrome(viewer),
            "c": detail,
            "sensitive": viewer.principal.sensitive,
            # A conversation still going on is followed live (detail.js); a finished one is not.
            "live": detail["status"] not in FINISHED_STATUSES,
            "finished": sorted(s.value for s in FINISHED_STATUSES),
        },
        org_slug=viewer.org.slug,
    )


@router.get("/web/agents")
def agents(principal: PrincipalDep, engine: EngineDep) -> Response:
    """The org's agents for the inbox's filter; any credential that can read the inbox may ask."""
    access = authorize_read(principal)
    with read_connection(engine, access.org_id) as connection:
        rows = org_agents(connection, access.org_id)
    body = {"data": [{"id": str(row.id), "name": row.name} for row in rows]}
    return Response(orjson.dumps(body), media_type="application/json")
