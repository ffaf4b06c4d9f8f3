from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from parley.config import Settings
from parley.db import tables
from parley.ingest import jobs
from parley.ingest.background import handlers
from parley.ingest.service import find_by_external_id
from tests.api.conftest import bearer
from tests.factories import OrgFixture


def conversation_id(engine: Engine, org: OrgFixture, external_id: str) -> int:
    with engine.connect() as conn:
        found = find_by_external_id(conn, org.id, external_id)
    assert found is not None, f"no conversation {external_id}"
    return found


def detail(client: TestClient, org: OrgFixture, external_id: str, engine: Engine) -> dict[str, Any]:
    cid = conversation_id(engine, org, external_id)
    response = client.get(f"/core/conversations/{cid}", headers=bearer(org.tokens["sensitive"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def agent_external_id(engine: Engine, org: OrgFixture, agent_id: str) -> str | None:
    a = tables.agents
    with engine.connect() as conn:
        found = conn.execute(
            select(a.c.external_id).where(a.c.org_id == org.id, a.c.id == int(agent_id))
        ).scalar()
    return None if found is None else str(found)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(tables.metadata.tables[table])).scalar_one())


def run_jobs(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """One background pass, as the app's worker thread runs them."""
    return jobs.run_pending(engine, handlers(settings), now)


def job_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(tables.jobs)).all())
