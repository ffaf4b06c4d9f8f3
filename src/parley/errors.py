"""Every kind of problem the service answers, each defined once, and the errors raised on purpose.

A kind is what a client can branch on: its ``type`` never changes, and one kind of fault always
answers with the same kind. ``parley.api.problems`` renders them as RFC 9457 problem+json; the CLI
prints their ``detail``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

TYPE_BASE = "https://parley.dev/problems/"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    title: str
    slug: str
    # What a framework-made error of this kind says when it brings no sentence of its own.
    default_detail: str

    @property
    def type_uri(self) -> str:
        return TYPE_BASE + self.slug


BAD_REQUEST = ProblemKind(
    400, "Bad Request", "bad-request", "The request is malformed and was not carried out."
)
INVALID_PARAMETER = ProblemKind(
    400, "Invalid Parameter", "invalid-parameter", "A parameter of the request is not valid."
)
UNAUTHORIZED = ProblemKind(401, "Unauthorized", "unauthorized", "This needs valid credentials.")
FORBIDDEN = ProblemKind(403, "Forbidden", "forbidden", "Your credentials do not allow this.")
NOT_FOUND = ProblemKind(404, "Not Found", "not-found", "There is nothing at this address.")
METHOD_NOT_ALLOWED = ProblemKind(
    405, "Method Not Allowed", "method-not-allowed", "This address does not accept that HTTP method."
)
REQUEST_TIMEOUT = ProblemKind(
    408, "Request Timeout", "request-timeout", "The request did not arrive in time."
)
CONFLICT = ProblemKind(409, "Conflict", "conflict", "This conflicts with the current state.")
PAYLOAD_TOO_LARGE = ProblemKind(
    413, "Content Too Large", "payload-too-large", "The request body is larger than this address accepts."
)
URI_TOO_LONG = ProblemKind(
    414, "URI Too Long", "uri-too-long", "The request target is longer than this server reads."
)
UNSUPPORTED_MEDIA_TYPE = ProblemKind(
    415,
    "Unsupported Media Type",
    "unsupported-media-type",
    "The request body is of a type this address does not take.",
)
RANGE_NOT_SATISFIABLE = ProblemKind(
    416,
    "Range Not Satisfiable",
    "range-not-satisfiable",
    "No part of the requested range lies within the file.",
)
HEADERS_TOO_LARGE = ProblemKind(
    431,
    "Request Header Fields Too Large",
    "request-header-fields-too-large",
    "The request's headers are larger than this server reads.",
)
UNPROCESSABLE = ProblemKind(
    422, "Unprocessable Content", "unprocessable", "The request is well formed but cannot be carried out."
)
TOO_MANY_REQUESTS = ProblemKind(
    429, "Too Many Requests", "too-many-requests", "Too many requests; slow down and try again later."
)
INTERNAL_ERROR = ProblemKind(
    500,
    "Internal Server Error",
    "internal-error",
    "Something went wrong on our side; the error has been logged.",
)
SERVICE_UNAVAILABLE = ProblemKind(
    503, "Service Unavailable", "service-unavailable", "The service is unavailable for now; try again later."
)

KINDS: tuple[ProblemKind, ...] = (
    BAD_REQUEST,
    INVALID_PARAMETER,
    UNAUTHORIZED,
    FORBIDDEN,
    NOT_FOUND,
    METHOD_NOT_ALLOWED,
    REQUEST_TIMEOUT,
    CONFLICT,
    PAYLOAD_TOO_LARGE,
    URI_TOO_LONG,
    UNSUPPORTED_MEDIA_TYPE,
    RANGE_NOT_SATISFIABLE,
    UNPROCESSABLE,
    HEADERS_TOO_LARGE,
    TOO_MANY_REQUESTS,
    INTERNAL_ERROR,
    SERVICE_UNAVAILABLE,
)


def kind_for_status(status: int) -> ProblemKind | None:
    """The kind a framework-made error of ``status`` answers as. A 400 the framework raises names
    no parameter (its validation errors are handled apart), so it is bad-request, listed first."""
    return next((kind for kind in KINDS if kind.status == status), None)


class ParleyError(Exception):
    """An error a client caused or may act on; ``detail`` is a sentence meant for a human, and
    ``parameter`` names the query, path, header or body parameter at fault, if one is."""

    kind: ClassVar[ProblemKind] = BAD_REQUEST

    def __init__(
        self, detail: str, *, parameter: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.headers = dict(headers or {})

    @property
    def problem_kind(self) -> ProblemKind:
        return self.kind


class BadRequest(ParleyError):
    """A 400: invalid-parameter when it names the ``parameter`` at fault, bad-request when no
    single parameter is (a personal access token sent without its org header)."""

    @property
    def problem_kind(self) -> ProblemKind:
        return INVALID_PARAMETER if self.parameter is not None else BAD_REQUEST


class Unauthorized(ParleyError):
    kind = UNAUTHORIZED

    def __init__(self, detail: str, *, parameter: str | None = None) -> None:
        super().__init__(detail, parameter=parameter, headers={"WWW-Authenticate": 'Bearer realm="parley"'})


class Forbidden(ParleyError):
    kind = FORBIDDEN


class NotFound(ParleyError):
    kind = NOT_FOUND


class Conflict(ParleyError):
    kind = CONFLICT


class PayloadTooLarge(ParleyError):
    kind = PAYLOAD_TOO_LARGE


class RangeNotSatisfiable(ParleyError):
    kind = RANGE_NOT_SATISFIABLE


class Unprocessable(ParleyError):
    kind = UNPROCESSABLE


class TooManyRequests(ParleyError):
    kind = TOO_MANY_REQUESTS


class ServiceUnavailable(ParleyError):
    kind = SERVICE_UNAVAILABLE


class UnsupportedMediaType(ParleyError):
    kind = UNSUPPORTED_MEDIA_TYPE
