"""Does the time of a search tell one org anything about another's data?

    python -m benchmarks tenancy --db sqlite|postgres [--rows N] [--repeat K]

Two orgs: ``tenancy-a`` (the prober, ``--rows`` / 10 conversations) and ``tenancy-b`` (``--rows``
conversations of a company whose name, "Pinecrest", is in most of its transcripts and email
addresses, and nowhere in org A's). Org A searches for ``pinecrest`` (only in org B) and for
``zqxjvw`` (in no org), interleaved after a warm-up round; both answers are empty. The figure is
the ratio of the two medians: 1.0 means the time says nothing about org B's data. Each search goes
through Parley's query layer (``queries.list_conversations``), on a fresh pooled connection, as the
list route runs it, without HTTP in front: HTTP adds the same cost to both sides and would only
dilute the ratio.

Data sets: ``benchmarks/data/tenancy-<rows>.db`` or PostgreSQL database ``parley_tenancy_<rows>``,
seeded once (org A last, so an interrupted seed is redone) and brought to the current schema by
``parley db upgrade`` on every run, so a data set seeded with older code measures the migration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from benchmarks.dataset import _analyze, _ensure_postgres_database
from benchmarks.timing import alternate, ratio
from parley.config import Settings
from parley.conversations import queries
from parley.conversations.filters import ConversationFilters
from parley.conversations.terms import SearchTerms
from parley.conversations.visible import Visible
from parley.db import tables
from parley.db.engine import build_engine, normalize_url
from parley.db.migrate import upgrade

PROBER, TARGET = "tenancy-a", "tenancy-b"  # companies Lumen Home Goods and Pinecrest Clinics
FOREIGN_WORD = "pinecrest"  # in org B's greetings and email domain, never in org A's data
ABSENT_WORD = "zqxjvw"  # in no org
COMMON_WORD = "help"  # in most of org A's conversations: the ordinary search, for scale
UNTIL = datetime(2026, 11, 1, tzinfo=UTC)
TARGET_RATIO = 1.15


def dataset(db: str, rows: int, data_dir: Path, server: str) -> str:
    """The URL of the data set, seeded if it is not complete."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        url = f"sqlite:///{(data_dir / f'tenancy-{rows}.db').resolve()}"
    else:
        name = f"parley_tenancy_{rows}"
        _ensure_postgres_database(server, name)
        url = make_url(normalize_url(server)).set(database=name).render_as_string(False)
    engine = build_engine(url)
    try:
        upgrade(engine)
        if _org_id(engine, PROBER) is None:
            from parley.seed.run import seed_org

            settings = Settings(database_url=url, recordings_dir=(data_dir / "recordings").resolve())
            for slug, count, seed in ((TARGET, rows, 11), (PROBER, max(1, rows // 10), 12)):
                seed_org(engine, settings, slug, count, seed=seed, days=90, until=UNTIL)
            _analyze(engine)
    finally:
        engine.dispose()
    return url


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
        samples = alternate({**probes, "common": _search(engine, prober, COMMON_WORD)}, repeat, warmup=3)
    finally:
        engine.dispose()
    leak = ratio(samples["foreign"], samples["absent"])
    verdict = "within" if leak <= TARGET_RATIO else "OVER"
    return "\n".join(
        [
            f"tenancy on {db}: org B {rows:,} conversations ({in_target:,} hold {FOREIGN_WORD!r}), "
            f"org A {max(1, rows // 10):,}; {repeat} interleaved samples each",
            f"  org A, q={FOREIGN_WORD} (only in org B): median {samples['foreign'].median_ms:.3f} ms",
            f"  org A, q={ABSENT_WORD} (in no org):    median {samples['absent'].median_ms:.3f} ms",
            f"  org A, q={COMMON_WORD} (a full page):   median {samples['common'].median_ms:.3f} ms",
            f"  ratio foreign / absent: {leak:.2f} ({verdict} the {TARGET_RATIO}x target)",
        ]
    )
