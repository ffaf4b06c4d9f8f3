"""The inbox's saved views over HTTP: list, save, delete. Thin: who is asking, then saved_views.

Saving and deleting are writes made with the login session (no token), so each one proves it
came from one of our pages: the page sends its form token in ``X-CSRF-Token`` (see ``csrf``),
and a missing or wrong one is a 403 problem before anything is read or written.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from parley.api.deps import EngineDep, SecretKeyDep, SettingsDep
from parley.auth.principal import ORG_HEADER
from parley.db.engine import read_connection, write_connection
from parley.errors import Forbidden, Unauthorized
from parley.web import saved_views
from parley.web.csrf import CsrfRejected, check_csrf
from parley.web.session import WebUser, current_user
from parley.web.view_query import MAX_QUERY_LENGTH, canonical_query

router = APIRouter(prefix="/web/views", include_in_schema=False)
CSRF_HEADER = "X-CSRF-Token"


class NewView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=400)  # trimmed and checked again by saved_views.clean_name
    query: str = Field(default="", max_length=MAX_QUERY_LENGTH)
    shared: bool = False


def session_member(request: Request, engine: EngineDep) -> WebUser:
    """The logged-in user in the org the page names (``X-Anyreach-Org``), as a JSON client
    should hear it: a 401 or 403 problem, not a redirect to the login form."""
    with read_connection(engine, None) as connection:  # sessions and members know no org yet
        user = current_user(request, connection)
    if user is None:
        raise Unauthorized("Log in to use saved views.")
    ref = request.headers.get(ORG_HEADER)
    if ref:
        org = next((m for m in user.orgs if ref in (m.slug, str(m.org_id))), None)
        if org is None:
            raise Forbidden(f"You are not a member of the org {ref!r}.")
        user = user.in_org(org.org_id)
    return user


MemberDep = Annotated[WebUser, Depends(session_member)]


def require_csrf(request: Request, secret_key: SecretKeyDep, settings: SettingsDep) -> None:
    try:
        check_csrf(request, secret_key, settings.public_url, request.headers.get(CSRF_HEADER))
    except CsrfRejected:
        raise Forbidden(
            f"This change did not come from a Parley page (its {CSRF_HEADER} header is missing or wrong). "
            "Reload the page and try again."
        ) from None


def _json(body: object, status_code: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


@router.get("")
def list_views(user: MemberDep, engine: EngineDep) -> Response:
    with read_connection(engine, user.org.org_id) as connection:
        views = saved_views.visible_views(connection, user.org.org_id, user.user_id)
    return _json({"data": [view.as_json(user.user_id) for view in views]})


@router.post("", dependencies=[Depends(require_csrf)])
def save_view(new: NewView, user: MemberDep, engine: EngineDep) -> Response:
    query = canonical_query(user.principal, new.query)
    with write_connection(engine, user.org.org_id) as connection:
        view = saved_views.create_view(connection, user.org.org_id, user.user_id, new.name, query, new.shared)
    return _json(view.as_json(user.user_id), status_code=201)


@router.post("/{view_id}/delete", dependencies=[Depends(require_csrf)])
def delete_view(view_id: str, user: MemberDep, engine: EngineDep) -> Response:
    with write_connection(engine, user.org.org_id) as connection:
        saved_views.delete_view(connection, user.org.org_id, user.user_id, view_id)
    return Response(status_code=204)
