"""The web inbox: login, the conversations table, the detail page. It calls the public JSON API."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from parley.auth.throttle import LoginThrottle
from parley.errors import SERVICE_UNAVAILABLE, ProblemKind
from parley.web import agent_pages, audit_page, login, pages, views_api
from parley.web.csrf import CSRF_FIELD
from parley.web.docs import install_docs
from parley.web.render import STATIC_DIR, build_environment, render
from parley.web.session import LoginRequired, NoMembership, login_url, session_principal


class RevalidatedStaticFiles(StaticFiles):
    """Static files the browser revalidates on every use (a cheap 304): the ES modules import each
    other by plain paths, so a cached old module must never meet a new one after an upgrade."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install_web(app: FastAPI) -> None:
    """Mount the inbox pages, static files and the login session on ``app``."""
    app.state.web_templates = build_environment()
    app.state.session_principal = session_principal
    # Keyed with the app's secret, so the log can tell accounts apart without naming them.
    app.state.login_throttle = LoginThrottle(ref_key=app.state.secret_key.encode())
    app.mount("/static", RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(login.router)
    app.include_router(pages.router)
    app.include_router(views_api.router)
    console = app.state.settings.agent_console_url
    if agent_pages.serves_agent_pages(console):
        app.include_router(agent_pages.router_for(console))

    def problem_page(request: Request, kind: ProblemKind, message: str) -> Response:
        title = "Parley is unavailable" if kind.status == SERVICE_UNAVAILABLE.status else kind.title
        context = {"title": title, "message": message, "logout_form": False, "csrf_field": CSRF_FIELD}
        return render(request, "message.html", context, status_code=kind.status)

    # The problem handlers (``api.problems``) show a browser's navigations this page.
    app.state.problem_page = problem_page
    install_docs(app)
    app.include_router(audit_page.router)

    @app.exception_handler(LoginRequired)
    async def login_required(_request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(
            login_url(exc.next_url), status_code=303, headers={"Cache-Control": "no-store"}
        )

    @app.exception_handler(NoMembership)
    async def no_membership(request: Request, exc: NoMembership) -> Response:
        return render(
            request,
            "message.html",
            {
                "title": "No org yet",
                "message": f"{exc.email} is not a member of any org yet. Ask an admin of your org to add you.",
                "logout_form": True,
                "csrf_field": CSRF_FIELD,
            },
            status_code=403,
        )
