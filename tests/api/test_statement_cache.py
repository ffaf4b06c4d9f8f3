"""The cache of built statements is bounded by memory: many distinct large agent_id lists (each
statement would hold its list) do not add entries, while small filter sets are still built once."""

from __future__ import annotations

import random

from fastapi.testclient import TestClient

from parley.conversations import queries
from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def entries() -> int:
    return (
        queries._cached_page_statement.cache_info().currsize
        + queries._cached_search_statements.cache_info().currsize
    )


def test_distinct_large_agent_id_lists_do_not_grow_the_statement_cache(
    client: TestClient, world: World
) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    rng = random.Random(5)
    mine = world.acme.agent_ids[0]
    before = entries()
    for n in range(40):
        ids = [mine, *rng.sample(range(10**6, 10**12), 300)]
        params = [("agent_id", str(i)) for i in ids] + ([("q", "refund")] if n % 2 else [])
        response = client.get(LIST, params=params, headers=auth)
        assert response.status_code == 200
        # Uncached, still right: only the org's own agent matches.
        assert {row["agent"]["id"] for row in response.json()["data"]} <= {str(mine)}
    assert entries() == before


def test_small_filter_sets_are_still_cached(client: TestClient, world: World) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    queries._cached_page_statement.cache_clear()  # an earlier test may have built these very keys
    before = entries()
    for _ in range(3):
        for agent in world.acme.agent_ids[:2]:
            assert client.get(LIST, params={"agent_id": str(agent)}, headers=auth).status_code == 200
    assert entries() - before == 2
