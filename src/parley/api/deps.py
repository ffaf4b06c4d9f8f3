"""Typed dependency shortcuts shared by the route modules: one pipeline for every reader.

FastAPI runs every plain ``def`` dependency and handler in the thread pool, one hop each, and
every ``async def`` one on the event loop at no cost. So the dependencies that only read the
request (filters, links, settings) are ``async def``; the caller is authenticated in one hop
(``get_principal``) and the handler, a plain ``def``, does its work in one more.

No connection is held between hops: each hop opens one and gives it back. A connection held
while waiting for a thread could deadlock a busy process, with every thread waiting for a
connection and every connection waiting for a thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy import Connection, Engine

from parley.audit.rules import Audit
from parley.auth.principal import ORG_HEADER, Principal, parse_bearer, principal_from_token
from parley.config import Settings
from parley.conversations.links import Links
from parley.conversations.policy import Access, authorize_write
from parley.db.engine import read_connection

AuthorizationHeader = Annotated[str | None, Header(include_in_schema=False)]
OrgHeader = Annotated[
    str | None,
    Header(
        alias=ORG_HEADER,
        min_length=1,
        description="Org slug or id; required with personal access tokens (pat_).",
    ),
]


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def resolve_principal(
    request: Request, connection: Connection, authorization: str | None, org_ref: str | None
) -> Principal:
    """The caller: a bearer token, or else the web inbox's login session."""
    if authorization is None:
        resolver = getattr(request.app.state, "session_principal", None)
        if resolver is not None:
            principal: Principal | None = resolver(request, connection, org_ref)
            if principal is not None:
                return principal
    return principal_from_token(connection, parse_bearer(authorization), org_ref, request.app.state.token_use)


def get_principal(
    request: Request,
    engine: EngineDep,
    authorization: AuthorizationHeader = None,
    x_anyreach_org: OrgHeader = None,
) -> Principal:
    """Authenticate the caller, before anything else about the request is looked at. The
    token's use is written once the connection is back in the pool: holding it while taking a
    second one, with the pool exhausted, each request waited on itself."""
    # No org yet: who the caller is comes from tables outside row-level security.
    with read_connection(engine, None) as connection:
        principal = resolve_principal(request, connection, authorization, x_anyreach_org)
    request.app.state.token_use.write()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_audit(request: Request, principal: PrincipalDep) -> Audit:
    """The audit trail, bound to this request's caller and address."""
    return Audit.of(request, principal)


AuditDep = Annotated[Audit, Depends(get_audit)]


async def get_writer(principal: PrincipalDep) -> Access:
    """A caller allowed to write (conversations:manage), checked before the body is read."""
    return authorize_write(principal)


WriterDep = Annotated[Access, Depends(get_writer)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_links(request: Request, settings: SettingsDep) -> Links:
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return Links(base=base, agent_console=settings.agent_console_url)


LinksDep = Annotated[Links, Depends(get_links)]


async def get_secret_key(request: Request) -> str:
    key: str = request.app.state.secret_key
    return key


SecretKeyDep = Annotated[str, Depends(get_secret_key)]
