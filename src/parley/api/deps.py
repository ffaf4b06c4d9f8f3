"""Typed dependency shortcuts shared by the route modules.

FastAPI runs every plain ``def`` dependency in the thread pool, one hop each. Dependencies that
only read the request are ``async def`` so they run on the event loop at no cost; the ones that
touch the database run in the pool. The conversation routes take ``ReadingDep``: one hop opens
a connection, resolves the reader and gives the connection back; the handler's work runs in one more,
on a connection of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from parley.auth.principal import ORG_HEADER, Principal, parse_bearer, principal_from_token
from parley.config import Settings
from parley.conversations.policy import Links
from parley.db.engine import open_read_connection

T = TypeVar("T")

AuthorizationHeader = Annotated[str | None, Header(include_in_schema=False)]
OrgHeader = Annotated[
    str | None,
    Header(alias=ORG_HEADER, description="Org slug or id; required with personal access tokens (pat_)."),
]


def get_connection(request: Request) -> Iterator[Connection]:
    """One transaction per request, committed when the handler returns."""
    with request.app.state.engine.begin() as connection:
        yield connection


ConnectionDep = Annotated[Connection, Depends(get_connection)]


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
    connection: ConnectionDep,
    authorization: AuthorizationHeader = None,
    x_anyreach_org: OrgHeader = None,
) -> Principal:
    """For routes that keep one connection for the request (the web pages). The token's use is
    written here while that connection is held: a second connection for a moment, unlike the
    API routes (``get_reading``), which write it after giving theirs back."""
    principal = resolve_principal(request, connection, authorization, x_anyreach_org)
    request.app.state.token_use.write()
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_reader(principal: PrincipalDep) -> Principal:
    principal.require_read()
    return principal


ReaderDep = Annotated[Principal, Depends(get_reader)]


@dataclass(frozen=True, slots=True)
class Reading:
    """A reader's request: who they are, and where to read.

    No connection is kept between thread-pool hops: each hop takes one from the pool and gives
    it back. A connection held while waiting for a thread could deadlock a busy process, with
    every thread waiting for a connection and every connection waiting for a thread."""

    principal: Principal
    engine: Engine

    async def run(self, work: Callable[[Connection, Principal], T]) -> T:
        """Run ``work`` on a connection of its own in the thread pool, in one hop."""
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Connection, Principal], T]) -> T:
        with open_read_connection(self.engine) as connection:
            result = work(connection, self.principal)
            connection.commit()
            return result


def _authenticate(
    request: Request, engine: Engine, authorization: str | None, org_ref: str | None
) -> Principal:
    with open_read_connection(engine) as connection:
        principal = resolve_principal(request, connection, authorization, org_ref)
        connection.commit()
    request.app.state.token_use.write()  # with the connection back in the pool
    principal.require_read()
    return principal


async def get_reading(
    request: Request, authorization: AuthorizationHeader = None, x_anyreach_org: OrgHeader = None
) -> Reading:
    """Authenticate a reader before anything else about the request is looked at."""
    engine: Engine = request.app.state.engine
    principal = await run_in_threadpool(_authenticate, request, engine, authorization, x_anyreach_org)
    return Reading(principal, engine)


ReadingDep = Annotated[Reading, Depends(get_reading)]


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
