"""The agent pages the inbox's agent links open when no outside agent builder is configured
(``PARLEY_AGENT_CONSOLE_URL`` a path, as by default): the agent, its versions, and the inbox
filtered to it. Served under that path, so the links the API writes are the pages' own."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from parley.api.deps import EngineDep
from parley.conversations.ids import parse_conversation_id
from parley.db.engine import read_connection
from parley.web.csrf import CSRF_FIELD
from parley.web.queries import agent_versions, org_agent
from parley.web.render import render
from parley.web.session import WebUser, WebUserDep


def serves_agent_pages(console_url: str) -> bool:
    """Whether the agent links point into this app (a path) rather than at an outside console."""
    return "://" not in console_url and console_url.startswith("/") and console_url.rstrip("/") != ""


def inbox_url(agent_id: int, version: int | None = None) -> str:
    params: dict[str, str] = {"agent_id": str(agent_id)}
    if version is not None:
        params["agent_version"] = str(version)
    return f"/?{urlencode(params)}"


def router_for(console_url: str) -> APIRouter:
    base = console_url.rstrip("/")
    router = APIRouter(prefix=base, include_in_schema=False)

    def page(
        request: Request, user: WebUser, engine: EngineDep, agent_ref: str, version: int | None
    ) -> HTMLResponse:
        chrome = {"user": user, "csrf_field": CSRF_FIELD, "section": None}
        agent_id = parse_conversation_id(agent_ref)  # agent ids have the same shape
        with read_connection(engine, user.org.org_id) as connection:
            agent = org_agent(connection, user.org.org_id, agent_id) if agent_id else None
            versions = agent_versions(connection, user.org.org_id, agent.id) if agent else []
        if agent is None or (version is not None and version not in {v.version for v in versions}):
            what = "Agent version" if agent is not None else "Agent"
            return render(
                request, "not_found.html", {**chrome, "what": what}, status_code=404, org_slug=user.org.slug
            )
        return render(
            request,
            "agent.html",
            {
                **chrome,
                "agent": agent,
                "versions": versions,
                "selected": version,
                "base": base,
                "inbox_url": inbox_url,
            },
            org_slug=user.org.slug,
        )

    @router.get("/{agent_ref}")
    def agent_page(request: Request, agent_ref: str, user: WebUserDep, engine: EngineDep) -> HTMLResponse:
        return page(request, user, engine, agent_ref, None)

    @router.get("/{agent_ref}/versions/{version}")
    def version_page(
        request: Request, agent_ref: str, version: str, user: WebUserDep, engine: EngineDep
    ) -> HTMLResponse:
        number = int(version) if version.isascii() and version.isdigit() and len(version) < 10 else -1
        return page(request, user, engine, agent_ref, number)

    return router
