"""Headers every answer carries, set in one place: the routes cannot forget them.

* ``X-Content-Type-Options: nosniff``: a browser must never guess that a transcript, a CSV or a
  stored recording is HTML or script.
* ``Cache-Control: private, no-store`` unless the answer chose its own (static files revalidate
  with ``no-cache``): lists, details, exports, live streams and recordings hold personal data that
  must not stay in a shared cache, nor in the browser's after logout.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "private, no-store"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_with_headers)
