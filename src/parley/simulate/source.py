"""An endless, deterministic stream of scripts for one org, drawn from the seeder's generator."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from parley.conversations.enums import FINISHED_STATUSES, Status
from parley.seed import vocabulary as vocab
from parley.seed.generator import SeedAgent, SeedVersion, company_for, generate_conversations, make_seed_agent
from parley.simulate.audio import clip_pool
from parley.simulate.scripts import Script, build_script

# Below 100 a batch has no rows the generator keeps "live" at its window's end, and a small
# batch keeps the customer base (a quarter of a batch, at least 50) varied enough.
_BATCH = 99
# The generator only uses the window for creation times, which the simulator replaces with now.
_WINDOW_START = datetime(2026, 1, 5, tzinfo=UTC)
_WINDOW = timedelta(days=30)
_VERSIONS_SINCE = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class KnownAgent:
    """An agent the org's conversations name, with the versions seen."""

    id: str
    name: str
    versions: tuple[int, ...]


def agents_in(page: Mapping[str, Any]) -> list[KnownAgent]:
    """The agents of a ``GET /core/conversations`` page, in id order."""
    seen: dict[str, tuple[str, set[int]]] = {}
    for row in page.get("data", []):
        agent = row.get("agent")
        if not agent or not agent.get("id"):
            continue
        _, versions = seen.setdefault(str(agent["id"]), (str(agent.get("name") or "Agent"), set()))
        if agent.get("version") is not None:
            versions.add(int(agent["version"]))
    return [KnownAgent(i, name, tuple(sorted(v))) for i, (name, v) in sorted(seen.items())]


def scripts(slug: str, agents: Sequence[KnownAgent], seed: int, run: str) -> Iterator[Script]:
    """Scripts for the org ``slug`` forever; the same seed and agents give the same scripts.

    ``run`` goes into every external_id, so two runs never claim the same one. Without agents
    the conversations name none (agent id 0 is left out of the request).
    """
    rng = random.Random(f"parley-simulate:{seed}:{slug}")
    company = company_for(slug)
    seed_agents = [_seed_agent(a, company[1]) for a in agents] or [
        make_seed_agent(0, vocab.AGENT_TEMPLATES[0].name, (), company[1])
    ]
    pool = clip_pool()
    number = 0
    while True:
        batch = generate_conversations(
            rng, _BATCH, seed_agents, _WINDOW_START, _WINDOW_START + _WINDOW, pool, company=company
        )
        for record in batch:
            # Rows still running at the window's end, and web sessions that never connected
            # (hidden from every listing), have no life to play out.
            if Status(record.status) not in FINISHED_STATUSES:
                continue
            yield build_script(record, number, rng, f"sim-{run}-{number}")
            number += 1


def _seed_agent(agent: KnownAgent, domain: str) -> SeedAgent:
    # All versions count as released long ago, so the generator mostly picks the newest.
    versions = [SeedVersion(v, _VERSIONS_SINCE) for v in agent.versions]
    return make_seed_agent(int(agent.id), agent.name, versions, domain)
