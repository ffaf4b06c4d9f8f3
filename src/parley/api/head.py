"""HEAD answered wherever GET is (RFC 9110 9.3.2): the GET's status and headers, no body.

FastAPI's routes, unlike Starlette's, do not add HEAD to a GET route, so every address answered
405. Rather than doubling every operation in the OpenAPI document, a HEAD request runs as the GET
it stands for, and once that has sent its status and headers, the rest is not run: a streamed
export or a live stream stops there (their cleanup runs on cancellation), instead of producing a
body nobody receives.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Set in the scope of a HEAD request run as GET, so an error can name the method the client used.
HEAD_REQUEST = "parley.head"


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        async with anyio.create_task_group() as group:

            async def send_headers_only(message: Message) -> None:
                if message["type"] != "http.response.start":
                    return
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()

            await self.app({**scope, "method": "GET", HEAD_REQUEST: True}, receive, send_headers_only)
