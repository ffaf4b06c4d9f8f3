"""One error shape for the whole app, framework-made errors included: RFC 9457
``application/problem+json`` rendered from the kinds of ``parley.errors``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from http import HTTPStatus

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from parley.api.head import HEAD_REQUEST
from parley.api.validation import describe_all
from parley.errors import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    INVALID_PARAMETER,
    METHOD_NOT_ALLOWED,
    SERVICE_UNAVAILABLE,
    ParleyError,
    ProblemKind,
    kind_for_status,
)

PROBLEM_JSON = "application/problem+json"
# What a client is told to wait before it tries again while the database is away.
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is not answering; nothing was changed. Try again in a few seconds."
# Set by the web inbox: the page a browser's navigation is shown instead of problem+json (the
# export link, a recording opened in a tab, the database away): the kind and a sentence for people.
ProblemPage = Callable[[Request, ProblemKind, str], Response]
# What a browser is told when the database is away (the API's sentence speaks of the request).
DATABASE_UNAVAILABLE_PAGE = (
    "The inbox cannot reach its database right now. Nothing was lost; reload this page in a few seconds."
)
log = logging.getLogger(__name__)


def problem_response(
    kind: ProblemKind,
    detail: str,
    *,
    parameter: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {
        "type": kind.type_uri,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
    }
    if parameter is not None:
        body["parameter"] = parameter
    return Response(orjson.dumps(body), status_code=kind.status, media_type=PROBLEM_JSON, headers=headers)


def _framework_kind(status: int) -> ProblemKind:
    kind = kind_for_status(status)
    if kind is None:
        # Not raised by anything in this app today; answer truthfully rather than as a 500.
        phrase = HTTPStatus(status).phrase
        log.warning("no problem kind for HTTP status %s", status)
        kind = ProblemKind(status, phrase, phrase.lower().replace(" ", "-"), f"{phrase}.")
    return kind


def _allowed_methods(request: Request, exc: StarletteHTTPException) -> str:
    """Every method the address accepts. Starlette names only the first route with that path,
    so ``PUT /login`` would otherwise be told GET alone although POST works too."""
    allowed = {m.strip() for m in (exc.headers or {}).get("Allow", "").split(",") if m.strip()}
    for route in iter_route_contexts(request.app.routes):
        if route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                allowed |= route.methods
    if "GET" in allowed:
        allowed.add("HEAD")  # answered wherever GET is (``api.head``)
    return ", ".join(sorted(allowed))


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be reached or did not answer in time, rather
    than that a statement is wrong: refused or dropped connections, connect and statement
    timeouts, a terminated backend, SQLite's busy timeout or missing file, an exhausted pool."""
    if isinstance(exc, sa_exc.TimeoutError):  # no free connection in the pool in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return False


def _answer(
    request: Request,
    kind: ProblemKind,
    detail: str,
    *,
    page_detail: str | None = None,
    parameter: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """problem+json; for a browser's navigation (it asks for HTML first, fetch() and API clients
    do not), the web inbox's page instead, with the same status, headers and sentence (or
    ``page_detail``, where the API's sentence speaks of the request rather than to a person)."""
    accept = request.headers.get("accept", "")
    page: ProblemPage | None = getattr(request.app.state, "problem_page", None)
    if page is None or "text/html" not in accept.split(",", 1)[0]:
        return problem_response(kind, detail, parameter=parameter, headers=headers)
    response = page(request, kind, page_detail or detail)
    response.headers.update(headers or {})
    return response


def install_problem_handlers(app: FastAPI) -> None:
    async def database_error(request: Request, exc: Exception) -> Response:
        if not database_unavailable(exc):
            raise exc  # a wrong statement is a bug: the 500 handler logs it
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        log.warning(
            "database unavailable, answered 503: %s %s: %s",
            request.method,
            request.url.path,
            reason[0] if reason else type(exc).__name__,
        )
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        return _answer(
            request,
            SERVICE_UNAVAILABLE,
            DATABASE_UNAVAILABLE,
            page_detail=DATABASE_UNAVAILABLE_PAGE,
            headers=headers,
        )

    # Every database failure reaches a route as one of these two (pool timeouts are not DBAPI
    # errors); this is the one place that turns them into an answer.
    app.add_exception_handler(sa_exc.DBAPIError, database_error)
    app.add_exception_handler(sa_exc.TimeoutError, database_error)

    @app.exception_handler(ParleyError)
    async def parley_error(request: Request, exc: ParleyError) -> Response:
        return _answer(request, exc.problem_kind, exc.detail, parameter=exc.parameter, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        invalid = describe_all(list(exc.errors()))
        kind = INVALID_PARAMETER if invalid.parameter is not None else BAD_REQUEST
        return problem_response(kind, invalid.detail, parameter=invalid.parameter)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        kind = _framework_kind(exc.status_code)
        headers = dict(exc.headers or {})
        detail = str(exc.detail).strip()
        if detail == HTTPStatus(exc.status_code).phrase:  # Starlette's default, not a sentence
            detail = kind.default_detail
        elif not detail.endswith("."):  # e.g. FastAPI's "There was an error parsing the body"
            detail += "."
        if kind is METHOD_NOT_ALLOWED:
            headers["Allow"] = _allowed_methods(request, exc)
            method = "HEAD" if request.scope.get(HEAD_REQUEST) else request.method
            detail = f"This address does not accept {method}; it accepts {headers['Allow']}."
        return problem_response(kind, detail, headers=headers)

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(INTERNAL_ERROR, INTERNAL_ERROR.default_detail)
