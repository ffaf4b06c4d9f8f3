"""A step sent while the server is not up yet is retried until it is, and a step sent twice with
its Idempotency-Key is applied once: the simulator's client against a real server."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.config import Settings
from parley.db import tables
from parley.simulate.api import Api, open_client
from tests.simulate.servers import free_port, parley_env, running_server

pytestmark = pytest.mark.slow


def test_a_step_waits_for_the_server_and_a_retried_one_is_applied_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        org = service.create_org(conn, "acme")
        token = service.create_token(conn, TokenKind.API_KEY, frozenset({Scope.MANAGE}), org_id=org.id)
    port = free_port()
    env = parley_env(settings.database_url, tmp_path)
    body = {"channel": "telephone", "direction": "inbound", "status": "ringing", "tags": ["simulated"]}
    up = threading.Event()
    stop = threading.Event()

    def serve() -> None:
        with running_server(env, tmp_path, port=port):
            up.set()
            stop.wait(60)

    async def scenario() -> tuple[str, str]:
        async with open_client(f"http://127.0.0.1:{port}", token, "acme") as client:
            api = Api(client)
            first = asyncio.create_task(api.create(body, "retry-key-1"))
            await asyncio.sleep(0.6)
            assert not first.done()  # connection refused, and retried
            server = threading.Thread(target=serve)
            server.start()
            try:
                created = await asyncio.wait_for(first, 30)
                again = await api.create(body, "retry-key-1")  # as if the answer had been lost
            finally:
                stop.set()
                await asyncio.to_thread(server.join)
            return created, again

    created, again = asyncio.run(scenario())
    assert up.is_set()
    assert again == created
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.conversations)).scalar_one() == 1
