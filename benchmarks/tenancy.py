"""Does the time of a search tell one org anything about another's data?

    python -m benchmarks tenancy --db sqlite|postgres [--rows N] [--repeat K]

Two orgs seeded by ``parley.seed``: ``tenancy-a`` (the prober, ``--rows`` / 10 conversations) and
``tenancy-b`` (``--rows``), plus ``--rows`` / 2 conversations of org B's that name a client,
"Qazwexjor", in their summary, transcript and email participant. Org A searches for ``qazwexjor``
(only in org B) and for ``vujqoxkaz`` (in no org), interleaved after three warm-up rounds; both
answers are empty. The two words are as long and share no trigram with each other or with org A's
data: a query is also an identifier fragment, whose trigrams are looked up in the org's own
identifiers, so the two sides differ only in what org B holds. The figure is the ratio of the two
medians: 1.0 means the time says nothing about org B's data. Each search goes
through Parley's query layer (``queries.list_conversations``), on a fresh pooled connection, as the
list route runs it, without HTTP in front: HTTP adds the same cost to both sides and would only
dilute the ratio.

Data sets: ``benchmarks/data/tenancy-<rows>.db`` or PostgreSQL database ``parley_tenancy_<rows>``,
seeded once (org A last, so an interrupted seed is redone) and brought to the current schema by
``parley db upgrade`` on every run, so a data set seeded with older code measures the migration.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from benchmarks.dataset import _analyze, _ensure_postgres_database
from benchmarks.timing import Samples, alternate, ratio, timed
from parley.config import Settings
from parley.conversations import queries
from parley.conversations.enums import Channel, Direction, ParticipantRole, Speaker, Status
from parley.conversations.filters import ConversationFilters
from parley.conversations.ids import new_conversation_id, truncate_to_millis
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db import tables
from parley.db.engine import build_engine, normalize_url
from parley.db.migrate import upgrade
from parley.ingest.records import NewConversation, Participant, Turn
from parley.ingest.writer import insert_conversations

PROBER, TARGET = "tenancy-a", "tenancy-b"
FOREIGN_WORD = "qazwexjor"  # planted in org B's conversations, never in org A's data
ABSENT_WORD = "vujqoxkaz"  # in no org; as long, and no trigram in common with FOREIGN_WORD
COMMON_WORD = "help"  # in most of org A's conversations: the ordinary search, for scale
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_RATIO = 1.15


def dataset(db: str, rows: int, data_dir: Path, server: str) -> str:
    """The URL of the data set, seeded if it is not complete."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        url = f"sqlite:///{(data_dir / f'tenancy-v2-{rows}.db').resolve()}"
    else:
        name = f"parley_tenancy_v2_{rows}"
        _ensure_postgres_database(server, name)
        url = make_url(normalize_url(server)).set(database=name).render_as_string(False)
    engine = build_engine(url)
    try:
        upgrade(engine)
        if _org_id(engine, PROBER) is None:
            from parley.seed.run import seed_org

            settings = Settings(database_url=url, recordings_dir=(data_dir / "recordings").resolve())
            seed_org(engine, settings, TARGET, rows, seed=11, days=90, until=UNTIL)
            _plant(engine, TARGET, max(1, rows // 2))
            seed_org(engine, settings, PROBER, max(1, rows // 10), seed=12, days=90, until=UNTIL)
            _analyze(engine)
    finally:
        engine.dispose()
    return url


def _plant(engine: Engine, slug: str, count: int, batch: int = 5000) -> None:
    """``count`` email conversations of the org that name FOREIGN_WORD's client everywhere."""
    org_id = _org_id(engine, slug)
    assert org_id is not None
    rng = random.Random(13)
    start = UNTIL - timedelta(days=90)
    client = FOREIGN_WORD.title()
    for first in range(0, count, batch):
        items = []
        for n in range(first, min(count, first + batch)):
            at = truncate_to_millis(start + timedelta(seconds=rng.randrange(90 * 86400)))
            items.append(
                NewConversation(
                    id=new_conversation_id(at, rng),
                    created_at=at,
                    channel=Channel.EMAIL,
                    direction=Direction.INBOUND,
                    status=Status.COMPLETED,
                    caller_name=f"{client} Ltd",
                    summary=f"{client} asked about invoice {n}.",
                    turns=(Turn(Speaker.CALLER, f"Hello, this is {client} about invoice {n}.", 0),),
                    participants=(Participant(f"billing{n}@{FOREIGN_WORD}.test", ParticipantRole.TO),),
                )
            )
        with engine.begin() as connection:
            insert_conversations(connection, org_id, items)


def _org_id(engine: Engine, slug: str) -> int | None:
    with engine.connect() as connection:
        found = connection.execute(select(tables.orgs.c.id).where(tables.orgs.c.slug == slug)).scalar()
    return None if found is None else int(found)


def _search(engine: Engine, org_id: int, word: str) -> Callable[[], list[int]]:
    filters = ConversationFilters(q=SearchTerms.parse(word))

    def run() -> list[int]:
        with engine.connect() as connection:
            page = queries.list_conversations(connection, Visible(org_id), filters, None, 50)
        return [row.id for row in page.rows]

    return run


def _matches(engine: Engine, org_id: int, word: str) -> int:
    """How many of the org's conversations a search for ``word`` finds (as the export reads them)."""
    filters = ConversationFilters(q=SearchTerms.parse(word))
    statement = queries.all_conversations(engine.dialect.name, Visible(org_id), filters)
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(statement.order_by(None).subquery())
            ).scalar_one()
        )


def _interleaved(probes: dict[str, Callable[[], list[int]]], repeat: int) -> dict[str, Samples]:
    """Each probe ``repeat`` times, after three warm-up rounds, the order swapped every round
    (A B, B A, …): a sample runs slower right after another search, so neither probe may always
    come first."""
    alternate(probes, 0, warmup=3)
    found = {name: Samples() for name in probes}
    names = list(probes)
    for n in range(max(1, repeat)):
        for name in names if n % 2 == 0 else reversed(names):
            found[name].seconds.append(timed(probes[name]))
    return found


def run_tenancy(db: str, rows: int, repeat: int, data_dir: Path, server: str) -> str:
    url = dataset(db, rows, data_dir, server)
    engine = build_engine(url)
    try:
        prober, target = _org_id(engine, PROBER), _org_id(engine, TARGET)
        assert prober is not None and target is not None
        in_target = _matches(engine, target, FOREIGN_WORD)
        if in_target == 0 or _matches(engine, prober, FOREIGN_WORD) or _matches(engine, target, ABSENT_WORD):
            raise RuntimeError("the data set does not hold the words as this scenario needs them")
        probes = {
            "foreign": _search(engine, prober, FOREIGN_WORD),
            "absent": _search(engine, prober, ABSENT_WORD),
        }
        if any(probe() for probe in probes.values()):
            raise RuntimeError("org A's search found rows for a word it does not hold")
        samples = _interleaved(probes, repeat)
        samples |= alternate({"common": _search(engine, prober, COMMON_WORD)}, max(1, repeat // 10))
    finally:
        engine.dispose()
    leak = ratio(samples["foreign"], samples["absent"])
    verdict = "within" if leak <= TARGET_RATIO else "OVER"
    return "\n".join(
        [
            f"tenancy on {db}: org B {rows + max(1, rows // 2):,} conversations ({in_target:,} hold {FOREIGN_WORD!r}), "
            f"org A {max(1, rows // 10):,}; {repeat} interleaved samples each",
            f"  org A, q={FOREIGN_WORD} (only in org B): median {samples['foreign'].median_ms:.3f} ms",
            f"  org A, q={ABSENT_WORD} (in no org):    median {samples['absent'].median_ms:.3f} ms",
            f"  org A, q={COMMON_WORD} (a full page):   median {samples['common'].median_ms:.3f} ms",
            f"  ratio foreign / absent: {leak:.2f} ({verdict} the {TARGET_RATIO}x target)",
        ]
    )
