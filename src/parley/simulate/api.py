"""The simulator's side of the public HTTP API: one method per request it makes, each retried
on transient failures. Every write carries an Idempotency-Key, so a retry after a lost answer
is replayed by the server instead of applied twice."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx2 as httpx

from parley.auth.principal import ORG_HEADER


class SimulationError(Exception):
    """A fault that ends the run, with one sentence for the person who started it."""


class Refused(SimulationError):
    """401 or 403: the token does not (or no longer) allow this; retrying cannot help."""


class Unreachable(SimulationError):
    """The server did not answer, or kept failing, through every retry."""


class Rejected(Exception):
    """The server refused one request for a reason of its own (4xx): that conversation stops."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


def problem_detail(response: httpx.Response) -> str:
    """The ``detail`` sentence of a problem+json answer, or the status line."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return f"HTTP {response.status_code} {response.reason_phrase}".strip()


def _still_running(response: httpx.Response) -> bool:
    """409 for a key whose first request is still being processed (not a state conflict)."""
    if response.status_code != 409:
        return False
    try:
        return bool(response.json().get("parameter") == "Idempotency-Key")
    except (ValueError, AttributeError):
        return False


def open_client(url: str, token: str | None, org: str, timeout: float = 10.0) -> httpx.AsyncClient:
    """A client for ``url`` acting in ``org``; without a token until one is set with ``authorize``."""
    headers = {ORG_HEADER: org, "User-Agent": "parley-simulate"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=url.rstrip("/"),
        headers=headers,
        timeout=timeout,
        # Proxies from the environment would catch loopback traffic; a Parley server is reached directly.
        trust_env=False,
    )


class Api:
    def __init__(self, client: httpx.AsyncClient, attempts: int = 7, pause: float = 0.25) -> None:
        self._client = client
        self._attempts = attempts
        self._pause = pause
        self._jitter = random.Random()  # retry timing need not be reproducible, only spread out

    @property
    def url(self) -> str:
        return str(self._client.base_url)

    async def healthy(self) -> bool:
        """Whether a Parley server answers ``/healthz`` (once, no retries)."""
        try:
            response = await self._client.get("/healthz")
        except httpx.TransportError:
            return False
        return response.status_code == 200

    async def page(self, limit: int = 200) -> dict[str, Any]:
        """The org's newest conversations, as the list endpoint returns them."""
        found: dict[str, Any] = (await self._send("GET", f"/core/conversations?limit={limit}", None)).json()
        return found

    async def check_can_write(self) -> None:
        """Refused unless the token may write, found out without writing: the server checks
        the scope before anything else, and there is no conversation 0 to change."""
        try:
            await self._send("PATCH", "/core/conversations/0", None, json={})
        except Rejected as exc:
            if exc.status != 404:
                raise

    async def create(self, body: dict[str, Any], key: str) -> str:
        response = await self._send("POST", "/core/conversations", key, json=body)
        return str(response.json()["id"])

    async def update(self, conversation_id: str, body: dict[str, Any], key: str) -> None:
        await self._send("PATCH", f"/core/conversations/{conversation_id}", key, json=body)

    async def turns(self, conversation_id: str, turns: list[dict[str, Any]], key: str) -> None:
        await self._send("POST", f"/core/conversations/{conversation_id}/turns", key, json={"turns": turns})

    async def recording(self, conversation_id: str, wav: bytes, key: str) -> None:
        await self._send(
            "PUT",
            f"/core/conversations/{conversation_id}/recording",
            key,
            content=wav,
            headers={"Content-Type": "audio/wav"},
        )

    async def _send(self, method: str, path: str, key: str | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key is not None:
            headers["Idempotency-Key"] = key
        failure = ""
        for attempt in range(self._attempts):
            if attempt:
                # Exponential back-off with jitter: 0.25 s, 0.5 s, ... capped at 4 s.
                delay = min(self._pause * 2 ** (attempt - 1), 4.0)
                await asyncio.sleep(delay * self._jitter.uniform(0.75, 1.25))
            try:
                response = await self._client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                failure = _transport_reason(exc)
                continue
            if response.status_code >= 500 or response.status_code == 429 or _still_running(response):
                failure = f"{method} {path} answered {response.status_code}"
                continue
            if response.status_code in (401, 403):
                raise Refused(problem_detail(response))
            if response.status_code >= 400:
                raise Rejected(response.status_code, problem_detail(response))
            return response
        raise Unreachable(
            f"Parley at {self.url} kept failing ({failure}); gave up after {self._attempts} attempts."
        )


def _transport_reason(exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in str(exc).lower() else f"cannot connect: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    return str(exc) or type(exc).__name__
