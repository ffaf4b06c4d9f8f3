"""Typed dependency shortcuts shared by the route modules.

FastAPI runs every plain ``def`` dependency in the thread pool, one hop each. Dependencies that
only read the request are ``async def`` so they run on the event loop at no cost; the ones that
touch the database run in the pool. The conversation routes take ``ReadingDep``: one hop opens
the request's connection and resolves the reader on it, and the handler's work runs in one more.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
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
    return resolve_principal(request, connection, authorization, x_anyreach_org)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_reader(principal: PrincipalDep) -> Principal:
    principal.require_read()
    return principal


ReaderDep = Annotated[Principal, Depends(get_reader)]


@dataclass(slots=True)
class Reading:
    """A reader's request: who they are and the connection (in a transaction) they were found on."""

    principal: Principal
    connection: Connection

    async def run(self, work: Callable[[Connection, Principal], T]) -> T:
        """Run ``work`` in the thread pool, then commit and hand the connection back, in one hop."""
        return await run_in_threadpool(self._run, work)

    def _run(self, work: Callable[[Connection, Principal], T]) -> T:
        result = work(self.connection, self.principal)
        self.finish()
        return result

    def finish(self) -> None:
        if not self.connection.closed:
            if self.connection.in_transaction():
                self.connection.commit()
            self.connection.close()


def _open_reading(
    request: Request, engine: Engine, authorization: str | None, org_ref: str | None
) -> Reading:
    connection = open_read_connection(engine)
    try:
        principal = resolve_principal(request, connection, authorization, org_ref)
        principal.require_read()
    except BaseException:
        connection.close()
        raise
    return Reading(principal, connection)


async def get_reading(
    request: Request, authorization: AuthorizationHeader = None, x_anyreach_org: OrgHeader = None
) -> AsyncIterator[Reading]:
    """Authenticate a reader before anything else about the request is looked at."""
    engine: Engine = request.app.state.engine
    reading = await run_in_threadpool(_open_reading, request, engine, authorization, x_anyreach_org)
    try:
        yield reading
    finally:
        if not reading.connection.closed:  # the handler failed before finishing: roll back
            await run_in_threadpool(reading.connection.close)


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
