"""Liveness (``/healthz``: the process answers) and readiness (``/readyz``: its dependencies do).

Neither may hang: a load balancer or orchestrator that gets no answer acts as if the process
were dead. Liveness touches nothing. Readiness probes the database on a thread of its own (never
one of the requests' threads, which a failing database may be holding) and waits for it at most
``PROBE_SECONDS``; a probe still running then counts as "not answering", and the next check waits
on that same probe rather than starting another, so a silent database costs one thread, not one a
check.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine, text

from parley.api.problems import RETRY_AFTER_SECONDS

router = APIRouter(tags=["health"])

PROBE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    detail: str


class Readiness:
    """Whether this process can serve: its database answers."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._lock = threading.Lock()
        self._probe: concurrent.futures.Future[Check] | None = None
        self._probe_started = 0.0

    async def database(self) -> Check:
        loop = asyncio.get_running_loop()
        asked = loop.time()
        deadline = asked + PROBE_SECONDS
        while True:
            with self._lock:
                if self._probe is None or self._probe.done():
                    self._probe = concurrent.futures.Future()
                    self._probe_started = loop.time()
                    threading.Thread(
                        target=self._run, args=(self._probe,), name="parley-readiness", daemon=True
                    ).start()
                probe, started = self._probe, self._probe_started
            try:
                # Shielded: giving up on the probe must not cancel it, the next check waits on it.
                check = await asyncio.wait_for(
                    asyncio.shield(asyncio.wrap_future(probe)), max(0.0, deadline - loop.time())
                )
            except TimeoutError:
                return Check(False, f"the database did not answer within {PROBE_SECONDS:g} s")
            # A probe that began before this check and failed may describe an outage that has
            # since ended: ask again, within the same second.
            if check.ok or started >= asked or loop.time() >= deadline:
                return check

    def _run(self, probe: concurrent.futures.Future[Check]) -> None:
        try:
            probe.set_result(self._check())
        except Exception as exc:  # any failure is the answer, not an error of the probe
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            probe.set_result(Check(False, reason[0] if reason else type(exc).__name__))

    def _check(self) -> Check:
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            # A connection opened on a missing file would create an empty one, and connections
            # already open keep reading a deleted file: look at the file itself first.
            path = url.database
            if not Path(path).is_file():
                return Check(False, f"the database file {path} does not exist")
            if not os.access(path, os.R_OK | os.W_OK):
                return Check(False, f"the database file {path} cannot be read and written")
        with self._engine.connect() as connection:
            # A table every migrated database has: an empty or foreign database is not ready either.
            connection.execute(text("SELECT version_num FROM alembic_version")).all()
        return Check(True, "answering")


@router.get("/healthz", summary="Is this process up (liveness; it never waits on the database)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Can this process serve: which dependency is down, if any (503 when the database is)",
    responses={503: {"description": "The database is down; the body says why."}},
)
async def readyz(request: Request) -> Response:
    """The database is needed to serve; the live bus (PostgreSQL's LISTEN, when several processes
    share the database) is reported but not needed: without it the live feeds still poll every
    second, so the process is "degraded", not down."""
    readiness: Readiness = request.app.state.readiness
    checks: dict[str, Check] = {"database": await readiness.database()}
    bus: Any = request.app.state.bus
    if bus is not None:
        checks["live_bus"] = (
            Check(True, "listening")
            if bus.listening
            else Check(False, "not listening for other processes' writes; live events arrive by polling")
        )
    ready = checks["database"].ok
    status = "unavailable" if not ready else "ready" if all(c.ok for c in checks.values()) else "degraded"
    body = {
        "status": status,
        "checks": {name: {"ok": check.ok, "detail": check.detail} for name, check in checks.items()},
    }
    headers = {"Cache-Control": "no-store"}
    if not ready:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return Response(
        orjson.dumps(body), status_code=200 if ready else 503, media_type="application/json", headers=headers
    )
