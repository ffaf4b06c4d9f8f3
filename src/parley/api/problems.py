"""One error shape for the whole app: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parley.errors import ParleyError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


def problem_response(
    status: int, detail: str, *, slug: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    title = _TITLES.get(status, "Error")
    body = {
        "type": f"https://parley.dev/problems/{slug or title.lower().replace(' ', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _describe_validation(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    params = []
    sentences = []
    for error in errors:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("query", "path", "header", "body")
        ]
        name = ".".join(location) or "request"
        message = str(error.get("msg", "is invalid"))
        message = message.removeprefix("Value error, ")
        params.append({"name": name, "reason": message})
        sentences.append(f"{name}: {message}")
    return "Invalid parameter " + "; ".join(sentences) + ".", params


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParleyError)
    async def parley_error(_request: Request, exc: ParleyError) -> Response:
        return problem_response(exc.status, exc.detail, slug=exc.slug, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> Response:
        detail, params = _describe_validation(list(exc.errors()))
        return problem_response(400, detail, slug="invalid-parameter", invalid_params=params)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is nothing at this address."
        elif exc.status_code == 405:
            detail = "This address does not accept that HTTP method."
        return problem_response(exc.status_code, detail, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def unexpected_error(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "Something went wrong on our side; the error has been logged.")
