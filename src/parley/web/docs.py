"""The interactive API docs at ``/docs``: Swagger UI served by Parley itself, under the pages' CSP.

FastAPI's own page loads Swagger UI from a public CDN with no integrity check and starts it with
an inline script, on the origin where a login session authorises the API: whoever served that
script could act as the user. Here its files come from the ``swagger-ui-bundle-v2`` package
(Swagger UI 5, Apache-2.0), the page is a template with no inline script, and it carries ``PAGE_HEADERS``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from swagger_ui_bundle import swagger_ui_path

from parley.web.render import PAGE_HEADERS

router = APIRouter(include_in_schema=False)
ASSETS = "/docs/assets"


@router.get("/docs")
async def api_docs(request: Request) -> HTMLResponse:
    env: Environment = request.app.state.web_templates
    return HTMLResponse(env.get_template("docs.html").render(), headers=PAGE_HEADERS)


def install_docs(app: FastAPI) -> None:
    """Mount the page and its assets; the app is built with FastAPI's CDN pages turned off."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
    app.include_router(router)
