from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.auth.scopes import Role, Scope
from parley.config import Settings
from tests.factories import (
    OrgFixture,
    add_member,
    insert_all,
    make_org,
    varied_conversations,
    write_sample_wav,
)


@dataclass
class World:
    acme: OrgFixture
    globex: OrgFixture
    analyst_pat: str  # analyst in acme, member of nothing else
    viewer_pat_wide: str  # viewer in acme whose PAT asks for read_sensitive too (must not get it)
    multi_pat: str  # viewer in acme and admin in globex


def bearer(secret: str, org: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret}"}
    if org is not None:
        headers["X-Anyreach-Org"] = org
    return headers


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as test_client:
        yield test_client


@pytest.fixture
def world(engine: Engine, settings: Settings, passwords: Passwords) -> World:
    acme = make_org(engine, "acme", agent_base=1000)
    globex = make_org(engine, "globex", agent_base=2000)
    insert_all(engine, acme, varied_conversations(acme, 40, seed=1))
    insert_all(engine, globex, varied_conversations(globex, 12, seed=2))
    all_scopes = {Scope.READ, Scope.READ_SENSITIVE, Scope.MANAGE}
    analyst = add_member(engine, passwords, acme, "ana@acme.test", Role.ANALYST, all_scopes)
    viewer = add_member(engine, passwords, acme, "vic@acme.test", Role.VIEWER, all_scopes)
    multi = add_member(engine, passwords, acme, "max@acme.test", Role.VIEWER, all_scopes)
    add_member(engine, passwords, globex, "max@acme.test", Role.ADMIN, all_scopes)
    # The recording the factory's rows point at: a tiny valid WAV.
    write_sample_wav(settings.recordings_dir / "calls" / "sample.wav")
    return World(acme, globex, analyst, viewer, multi)
