"""Typed dependency shortcuts shared by the route modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Connection

from parley.auth.principal import ORG_HEADER, Principal, parse_bearer, principal_from_token
from parley.config import Settings
from parley.conversations.policy import Links


def get_connection(request: Request) -> Iterator[Connection]:
    """One transaction per request, committed when the handler returns."""
    with request.app.state.engine.begin() as connection:
        yield connection


ConnectionDep = Annotated[Connection, Depends(get_connection)]


def get_principal(
    request: Request,
    connection: ConnectionDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_anyreach_org: Annotated[
        str | None,
        Header(alias=ORG_HEADER, description="Org slug or id; required with personal access tokens (pat_)."),
    ] = None,
) -> Principal:
    """The caller: a bearer token, or else the web inbox's login session."""
    if authorization is None:
        resolver = getattr(request.app.state, "session_principal", None)
        if resolver is not None:
            principal: Principal | None = resolver(request, connection, x_anyreach_org)
            if principal is not None:
                return principal
    return principal_from_token(connection, parse_bearer(authorization), x_anyreach_org)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_reader(principal: PrincipalDep) -> Principal:
    principal.require_read()
    return principal


ReaderDep = Annotated[Principal, Depends(get_reader)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_links(request: Request, settings: SettingsDep) -> Links:
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return Links(base=base, agent_console=settings.agent_console_url)


LinksDep = Annotated[Links, Depends(get_links)]


def get_secret_key(request: Request) -> str:
    key: str = request.app.state.secret_key
    return key


SecretKeyDep = Annotated[str, Depends(get_secret_key)]
