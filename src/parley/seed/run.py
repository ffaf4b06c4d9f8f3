"""Seeding an org: its agents, the shared audio clips, then conversations in batches."""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import islice

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from parley.accounts.service import ensure_org
from parley.config import Settings
from parley.conversations.ids import new_conversation_id, truncate_to_millis
from parley.db import tables
from parley.errors import BadRequest
from parley.ingest.records import NewConversation
from parley.ingest.writer import insert_conversations
from parley.seed import vocabulary as vocab
from parley.seed.audio import ensure_audio_pool
from parley.seed.generator import SeedAgent, SeedVersion, company_for, generate_conversations, make_seed_agent

_AGENT_ID_LOW = 10**11
_AGENT_ID_HIGH = 10**12  # 12 digits: distinctive, and well under 2**53 so JavaScript reads them exactly
_MAX_ATTEMPTS = 5
# Concurrent inserting connections on PostgreSQL; more stops paying off on a small machine.
_POSTGRES_WRITERS = 3


@dataclass(frozen=True, slots=True)
class SeedReport:
    """What a seed did: the org's slug, conversations written, the org's agents, wall time."""

    org: str
    conversations: int
    agents: int
    seconds: float


def seed_org(
    engine: Engine,
    settings: Settings,
    slug: str,
    conversations: int,
    seed: int = 0,
    days: int = 90,
    until: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int = 5000,
) -> SeedReport:
    """Add ``conversations`` synthetic conversations to the org ``slug``, creating it if needed.

    Conversations are spread over the ``days`` before ``until`` (default: the start of the
    current UTC hour, so a seed gives the same data for an hour). The same seed, count, days,
    until and slug give the same conversations on an empty org. Running again adds more: the
    number already there is mixed into the seed, so the new rows differ from the old. Each batch
    is its own transaction and ``on_progress`` hears the running total after each.
    """
    if conversations < 0:
        raise BadRequest(f"The number of conversations to seed must be zero or more, not {conversations}.")
    if days < 1:
        raise BadRequest(f"Seeded conversations need a window of at least one day, not {days}.")
    if batch_size < 1:
        raise BadRequest(f"The batch size must be at least 1, not {batch_size}.")
    if until is not None and until.tzinfo is None:
        raise BadRequest("The end of the seeding window must carry a timezone.")
    began = time.perf_counter()
    end = truncate_to_millis(until) if until else datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    company = company_for(slug)

    with engine.begin() as connection:
        org = ensure_org(connection, slug)
        existing = connection.execute(
            select(func.count())
            .select_from(tables.conversations)
            .where(tables.conversations.c.org_id == org.id)
        ).scalar_one()
        agents = _ensure_agents(
            connection, org.id, random.Random(f"parley-agents:{seed}:{slug}"), start, end, company[1]
        )
    pool = ensure_audio_pool(settings.recordings_dir)

    rng = random.Random(f"parley-seed:{seed}:{slug}:{existing}")
    rows = generate_conversations(rng, conversations, agents, start, end, pool, company=company)
    batches = _batches(rows, batch_size)
    repair_seed = f"parley-repair:{seed}:{slug}:{existing}"
    if engine.dialect.name == "sqlite":
        written = _write_in_turn(engine, org.id, batches, repair_seed)
    else:
        written = _write_concurrently(engine, org.id, batches, _POSTGRES_WRITERS, repair_seed)
    done = 0
    # closing(): if on_progress raises, the writer threads are stopped now, not when the
    # traceback holding this frame is collected.
    with closing(written):
        for size in written:
            done += size
            if on_progress is not None:
                on_progress(done)
    return SeedReport(
        org=org.slug, conversations=done, agents=len(agents), seconds=time.perf_counter() - began
    )


def _batches(rows: Iterable[NewConversation], size: int) -> Iterator[list[NewConversation]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _write_in_turn(
    engine: Engine, org_id: int, batches: Iterator[list[NewConversation]], repair_seed: str
) -> Generator[int, None, None]:
    """Generate and insert batches one after the other, yielding each committed batch's size.

    SQLite takes one writer at a time, and its module releases the GIL around every row it
    steps, so a generating thread next to the writing one mostly fights it for the GIL; measured,
    it was no faster than this.
    """
    repair_rng = random.Random(f"{repair_seed}:0")
    for batch in batches:
        _insert_batch(engine, org_id, batch, repair_rng)
        yield len(batch)


def _write_concurrently(
    engine: Engine, org_id: int, batches: Iterator[list[NewConversation]], writers: int, repair_seed: str
) -> Generator[int, None, None]:
    """Insert ``batches`` and yield the size of each once it is committed, in order.

    This thread generates while ``writers`` pool threads insert, each batch in its own
    transaction: generating is pure Python and inserting mostly waits on the database (which
    releases the GIL), so the two overlap. PostgreSQL takes several writers at once, and its
    server-side work (search vectors, GIN indexes) is the slowest part there. The data does not
    depend on the thread count: one generator makes every row, in order, and a batch's id
    repairs draw from a generator seeded by its position. At most ``writers`` batches wait, so
    memory stays flat; an error in any batch is raised here, and stopping early (an exception
    in the caller) lets the batches in flight finish and drops the rest.
    """
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="parley-seed-write") as pool:
        in_flight: deque[Future[int]] = deque()
        try:
            for index, batch in enumerate(batches):
                repair_rng = random.Random(f"{repair_seed}:{index}")
                in_flight.append(pool.submit(_insert_sized, engine, org_id, batch, repair_rng))
                if len(in_flight) >= writers:
                    yield in_flight.popleft().result()
            while in_flight:
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()


def _insert_sized(engine: Engine, org_id: int, batch: Sequence[NewConversation], rng: random.Random) -> int:
    _insert_batch(engine, org_id, batch, rng)
    return len(batch)


def _ensure_agents(
    connection: Connection, org_id: int, rng: random.Random, start: datetime, end: datetime, domain: str
) -> list[SeedAgent]:
    """The org's agents, after creating a handful with version histories if it has none."""
    if (
        connection.execute(
            select(tables.agents.c.id).where(tables.agents.c.org_id == org_id).limit(1)
        ).first()
        is None
    ):
        _create_agents(connection, org_id, rng, start, end)
    versions: defaultdict[int, list[SeedVersion]] = defaultdict(list)
    for row in connection.execute(
        select(
            tables.agent_versions.c.agent_id,
            tables.agent_versions.c.version,
            tables.agent_versions.c.created_at,
        ).where(tables.agent_versions.c.org_id == org_id)
    ):
        versions[row.agent_id].append(SeedVersion(row.version, row.created_at))
    # Read back even after creating them, so a fresh run and a rerun see the agents in the same order.
    agents = connection.execute(
        select(tables.agents.c.id, tables.agents.c.name)
        .where(tables.agents.c.org_id == org_id)
        .order_by(tables.agents.c.id)
    ).all()
    return [make_seed_agent(row.id, row.name, versions[row.id], domain) for row in agents]


def _create_agents(
    connection: Connection, org_id: int, rng: random.Random, start: datetime, end: datetime
) -> None:
    templates = rng.sample(vocab.AGENT_TEMPLATES, rng.randint(6, 8))
    ids = _free_agent_ids(connection, rng, len(templates))
    agent_rows = []
    version_rows = []
    for agent_id, template in zip(ids, templates, strict=True):
        created = (start - timedelta(days=rng.uniform(7, 120))).replace(microsecond=0)
        agent_rows.append({"org_id": org_id, "id": agent_id, "name": template.name, "created_at": created})
        # Version 1 ships with the agent; later ones land during the window, so recent
        # conversations run newer versions.
        span = max((end - start).total_seconds() - 6 * 3600, 3600)
        later = sorted(rng.uniform(0, span) for _ in range(rng.randint(0, 4)))
        moments = [created, *((start + timedelta(seconds=s)).replace(microsecond=0) for s in later)]
        notes = rng.sample(vocab.VERSION_NOTES[1:], len(moments) - 1)
        for number, moment in enumerate(moments, start=1):
            version_rows.append(
                {
                    "org_id": org_id,
                    "agent_id": agent_id,
                    "version": number,
                    "notes": vocab.VERSION_NOTES[0] if number == 1 else notes[number - 2],
                    "created_at": moment,
                }
            )
    connection.execute(insert(tables.agents), agent_rows)
    connection.execute(insert(tables.agent_versions), version_rows)


def _free_agent_ids(connection: Connection, rng: random.Random, how_many: int) -> list[int]:
    """Ids drawn from the seeded rng, redrawn while any is taken: agent ids are unique across
    orgs, and two orgs seeded with the same seed must not clash."""
    ids: list[int] = []
    while len(ids) < how_many:
        wanted = how_many - len(ids)
        candidates = {rng.randrange(_AGENT_ID_LOW, _AGENT_ID_HIGH) for _ in range(wanted)} - set(ids)
        taken = set(
            connection.execute(select(tables.agents.c.id).where(tables.agents.c.id.in_(candidates))).scalars()
        )
        ids.extend(sorted(candidates - taken))
    return ids[:how_many]


def _insert_batch(engine: Engine, org_id: int, batch: Sequence[NewConversation], rng: random.Random) -> None:
    """Insert one batch in its own transaction.

    The ids carry 22 random bits per millisecond, so a clash with rows already stored (another
    seed in this org, or any org on SQLite, where the search index is keyed by id alone) is very
    rare; rather than check every batch up front, a failed batch is rolled back, the clashing
    ids are redrawn and it is tried again.
    """
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with engine.begin() as connection:
                insert_conversations(connection, org_id, batch)
            return
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
            with engine.connect() as connection:
                taken = _stored_ids(connection, org_id, [c.id for c in batch])
            if not taken:
                raise  # not an id clash: a real error
            batch = _redraw_ids(batch, taken, rng)


def _stored_ids(connection: Connection, org_id: int, ids: list[int]) -> set[int]:
    """Which of ``ids`` are stored already: in this org on PostgreSQL, where ids are unique per
    org, and in any org on SQLite, where the full-text tables are keyed by id alone."""
    column = tables.conversations.c.id
    found: set[int] = set()
    for i in range(0, len(ids), 1000):
        query = select(column).where(column.in_(ids[i : i + 1000]))
        if connection.dialect.name != "sqlite":
            query = query.where(tables.conversations.c.org_id == org_id)
        found.update(connection.execute(query).scalars())
    return found


def _redraw_ids(
    batch: Sequence[NewConversation], taken: set[int], rng: random.Random
) -> list[NewConversation]:
    used = taken | {c.id for c in batch}
    fixed = []
    for conversation in batch:
        if conversation.id in taken:
            new_id = new_conversation_id(conversation.created_at, rng)
            while new_id in used:
                new_id = new_conversation_id(conversation.created_at, rng)
            used.add(new_id)
            conversation = replace(conversation, id=new_id)
        fixed.append(conversation)
    return fixed
