"""The app factory: the one place where routers, error handlers, static files and lifespan meet."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine

from parley import __version__
from parley.api import audit as audit_api
from parley.api import conversations, health, hooks, live, writes
from parley.api.export_response import ExportBudget
from parley.api.head import HeadAsGet
from parley.api.headers import SecurityHeaders
from parley.api.problems import install_problem_handlers
from parley.audit.trail import AuditTrail
from parley.auth.password_threads import PasswordThreads
from parley.auth.passwords import Passwords
from parley.auth.principal import TokenUse
from parley.config import Settings
from parley.db.engine import ON_COMMIT, build_engine
from parley.db.instance import instance_secret
from parley.ingest.background import background_worker
from parley.live.bus import open_bus
from parley.live.cancel import cancel_and_wait
from parley.live.hub import Hub
from parley.live.retention import prune_events
from parley.web import install_web


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app. Pass ``engine`` to share one with the caller (tests, the CLI); otherwise the
    app makes its own and disposes of it on shutdown. Migrations are the caller's business."""
    settings = settings or Settings()
    owns_engine = engine is None
    engine = engine or build_engine(settings.database_url, limits=settings.database_limits(), system=False)
    exports = ExportBudget.from_settings(settings, engine)
    password_threads = PasswordThreads(settings.password_threads)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Blocking work (every query) runs on anyio's thread pool, 40 threads by default: at 16
        # concurrent requests they took turns on the interpreter lock, and one process served
        # half as many requests a second as with one client (218 against 468 on SQLite).
        threads = settings.threads or (2 if engine.dialect.name == "sqlite" else 4)
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        hub.start(asyncio.get_running_loop())
        audit.start()
        tasks = [asyncio.create_task(prune_events(engine, settings.live_retention), name="parley-live-prune")]
        bus = app.state.bus = open_bus(settings, engine, hub.wake_here)
        if bus is not None:
            hub.on_publish = bus.publish
            tasks.append(asyncio.create_task(bus.run(), name="parley-live-bus"))
        try:
            with background_worker(engine, settings):
                yield
        finally:
            # The bus lets go of its connections as it ends.
            await cancel_and_wait(tasks)
            await hub.stop()
            audit.stop()  # writes what is still buffered
            password_threads.close()
            exports.dispose()
            if owns_engine:
                engine.dispose()

    app = FastAPI(
        title="Parley",
        version=__version__,
        summary="One inbox for every conversation your AI agents handle.",
        lifespan=lifespan,
        # FastAPI's pages load their scripts from a public CDN: ``web.docs`` serves its own.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.secret_key = settings.secret_key or instance_secret(engine)
    app.state.token_use = TokenUse(engine)
    audit = app.state.audit = AuditTrail(engine, enabled=settings.audit)
    app.state.exports = exports
    app.state.bus = None  # the lifespan starts one on PostgreSQL
    app.state.readiness = health.Readiness(engine)
    app.state.passwords = Passwords.from_settings(settings)
    hub = app.state.hub = Hub(engine, settings.live_poll_seconds)
    # Every committed write wakes the live feeds (``db.engine.write_connection``).
    engine.update_execution_options(**{ON_COMMIT: hub.publish})
    app.state.password_threads = password_threads
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(live.router)  # before conversations: /live is not a conversation id
    app.include_router(conversations.router)
    app.include_router(writes.router)
    app.include_router(hooks.router)
    app.include_router(audit_api.router)
    install_web(app)
    # Outermost first: HEAD is turned into GET before anything else sees the request, and the
    # headers are added to whatever answers, errors included.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)
    return app
