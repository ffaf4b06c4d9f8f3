"""Many requests at once on few threads and few connections: every one is answered."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.app import create_app
from parley.config import Settings
from parley.db.engine import build_engine
from tests.api.conftest import World, bearer


def test_concurrent_requests_on_one_thread_and_one_connection_all_finish(
    settings: Settings, engine: Engine, world: World
) -> None:
    """A request must not keep a connection while it waits for a thread. With one thread and one
    pooled connection, a request holding the connection between its hops while another holds the
    thread waiting for that connection would stall both until the pool gave up (5 s here)."""
    narrow = build_engine(settings.database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        app = create_app(settings.model_copy(update={"threads": 1}), narrow)
        headers = bearer(world.acme.tokens["sensitive"])
        paths = ["/core/conversations?limit=5", f"/core/conversations/{world.acme.conversation_ids[0]}"] * 12
        with TestClient(app) as client, ThreadPoolExecutor(max_workers=len(paths)) as pool:
            statuses = list(pool.map(lambda path: client.get(path, headers=headers).status_code, paths))
    finally:
        narrow.dispose()
    assert statuses == [200] * len(paths)
