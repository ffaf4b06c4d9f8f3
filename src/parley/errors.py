"""The few errors the service raises on purpose, each rendered once as RFC 9457 problem+json."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class ParleyError(Exception):
    """An error a client caused or may act on; ``detail`` is a sentence meant for a human."""

    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad Request"
    slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return f"https://parley.dev/problems/{self.slug}"


class BadRequest(ParleyError):
    pass


class Unauthorized(ParleyError):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="parley"'}, **extra)


class Forbidden(ParleyError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(ParleyError):
    status = 404
    title = "Not Found"
    slug = "not-found"


class Conflict(ParleyError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class RangeNotSatisfiable(ParleyError):
    status = 416
    title = "Range Not Satisfiable"
    slug = "range-not-satisfiable"


class PayloadTooLarge(ParleyError):
    status = 413
    title = "Content Too Large"
    slug = "payload-too-large"


class UnsupportedMediaType(ParleyError):
    status = 415
    title = "Unsupported Media Type"
    slug = "unsupported-media-type"


class Unprocessable(ParleyError):
    status = 422
    title = "Unprocessable Content"
    slug = "unprocessable"
