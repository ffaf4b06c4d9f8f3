"""One benchmark run: prepare the data, start the servers, measure every scenario, write the report."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from benchmarks import bulk, concurrency, servers
from benchmarks.client import Client
from benchmarks.dataset import Dataset, Spec, create_reader_token, prepare
from benchmarks.facts import PAGE, Facts, Filtered, gather
from benchmarks.report import INFO, MET, NOT_AVAILABLE, Result, check, machine, unavailable, write
from benchmarks.timing import Samples, alternate, ratio
from parley.conversations import queries
from parley.conversations.filters import ConversationFilters
from parley.conversations.visible import Visible
from parley.db.engine import build_engine
from parley.db.search_tables import words_table

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Options:
    rows: int = 1_000_000
    db: str = "sqlite"
    repeat: int = 15
    out: Path = Path("benchmarks/results")
    seed: int = 1
    data_dir: Path = Path("benchmarks/data")
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432"
    wrk_seconds: float = 5.0
    peer_csv_rows: int = 10_000
    peer: bool = True
    wrk: bool = True
    heavy: int | None = None
    workers: int = 1

    @property
    def heavy_repeat(self) -> int:
        """Whole exports and wrk runs take seconds each: fewer of them (3 unless told), still a median."""
        return max(1, self.heavy if self.heavy is not None else min(self.repeat, 3))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def list_path(params: dict[str, Any], cursor: str | None = None) -> str:
    query = {"limit": str(PAGE), **params}
    if cursor:
        query["cursor"] = cursor
    return "/core/conversations?" + urlencode(query, doseq=True)


@dataclass(slots=True)
class Peer:
    """Datasette serving the same SQLite file."""

    client: Client
    database: str
    org_id: int

    def table_path(self, extra: dict[str, str], fmt: str = "json") -> str:
        query = {
            "_sort_desc": "created_at",
            "org_id": str(self.org_id),
            "status__not": "token_created",
            **extra,
        }
        if fmt == "json":
            query = {"_shape": "objects", "_size": str(PAGE), "_nocount": "1", "_nofacet": "1", **query}
        return f"/{quote(self.database)}/conversations.{fmt}?" + urlencode(query)


class Run:
    def __init__(self, options: Options, dataset: Dataset, engine: Engine, facts: Facts) -> None:
        self.options, self.dataset, self.engine, self.facts = options, dataset, engine, facts
        self.results: list[Result] = []

    # --- raw queries, through the product's own query layer --------------------------------------

    def raw_page(self, filters: ConversationFilters, after: Any = None) -> Callable[[], object]:
        def run() -> object:
            with self.engine.connect() as connection:
                return queries.list_conversations(
                    connection, Visible(self.facts.org_id), filters, after, PAGE
                )

        return run

    def raw_offset(self) -> Callable[[], object]:
        statement = (
            queries.all_conversations(
                self.engine.dialect.name, Visible(self.facts.org_id), ConversationFilters()
            )
            .limit(PAGE + 1)
            .offset(self.facts.depth)
        )

        def run() -> object:
            with self.engine.connect() as connection:
                return list(connection.execute(statement))

        return run

    # --- the blocks ---------------------------------------------------------------------------

    def lists(self, client: Client, peer: Peer | None) -> None:
        f = self.facts
        sides: dict[str, Callable[[], object]] = {
            "http_first": lambda: client.get_ok(list_path({})),
            "http_deep": lambda: client.get_ok(list_path({}, f.deep_cursor)),
            "raw_first": self.raw_page(ConversationFilters()),
            "raw_deep": self.raw_page(ConversationFilters(), f.deep_position),
            "raw_offset": self.raw_offset(),
        }
        deep_next = None
        if peer is not None and f.deep_sqlite_key is not None:
            from datasette.utils import tilde_encode

            deep_next = ",".join(tilde_encode(str(part)) for part in f.deep_sqlite_key)
            sides["peer_first"] = lambda: peer.client.get_ok(peer.table_path({}))
            sides["peer_deep"] = lambda: peer.client.get_ok(peer.table_path({"_next": deep_next}))
            self._check_peer_page(peer, deep_next)
        s = alternate(sides, self.options.repeat)
        first, deep = s["http_first"], s["http_deep"]
        depth = f"{f.depth:,} rows deep"
        self.results += [
            Result(
                "list.first_page",
                first.median_ms,
                raw_ms=s["raw_first"].median_ms,
                target="< 3 ms median",
                verdict=check(first.median_ms < 3),
            ),
            Result(
                "list.deep_page",
                deep.median_ms,
                raw_ms=s["raw_deep"].median_ms,
                compared_with="first page",
                other=first.median_ms,
                ratio=ratio(deep, first),
                ratio_label="of first page",
                target="≤ 1.2x first page",
                verdict=check(ratio(deep, first) <= 1.2),
                note="" if f.depth == 100_000 else depth,
            ),
            Result(
                "list.offset_deep_page",
                None,
                raw_ms=s["raw_offset"].median_ms,
                compared_with="cursor, raw",
                other=s["raw_deep"].median_ms,
                ratio=ratio(s["raw_offset"], s["raw_deep"]),
                ratio_label="slower",
                target="≥ 20x slower than cursor",
                verdict=check(ratio(s["raw_offset"], s["raw_deep"]) >= 20),
                note="" if f.depth == 100_000 else depth,
            ),
        ]
        if peer is not None and "peer_first" in s:
            self.results += [
                self._versus_peer("peer.first_page", first, s["peer_first"]),
                self._versus_peer("peer.deep_page", deep, s["peer_deep"]),
            ]
        self._detail("list", s)

    def _check_peer_page(self, peer: Peer, deep_next: str) -> None:
        """Datasette must answer the constructed deep page with rows, or the comparison is void."""
        body = json.loads(peer.client.get_ok(peer.table_path({"_next": deep_next})))
        if not body.get("rows"):
            raise RuntimeError(f"Datasette returned no rows for _next={deep_next}: {body}")

    def _versus_peer(self, key: str, ours: Samples, theirs: Samples, note: str = "") -> Result:
        return Result(
            key,
            ours.median_ms,
            compared_with="Datasette",
            other=theirs.median_ms,
            ratio=ratio(theirs, ours),
            ratio_label="faster",
            target="faster than Datasette",
            verdict=check(theirs.median > ours.median),
            note=note,
        )

    def filtered(self, client: Client, peer: Peer | None, cases: tuple[Filtered, ...], group: str) -> None:
        # The issue sets none for a rare word; it is measured because it is the slow case for GIN.
        targets: dict[str, float | None] = {"common_word": 10.0, "rare_word": None, "no_match": 20.0}
        for case in cases:
            path = list_path(case.params)
            sides: dict[str, Callable[[], object]] = {
                "http": lambda path=path: client.get_ok(path),  # type: ignore[misc]
                "raw": self.raw_page(case.filters),
            }
            peer_params = case.datasette
            if peer is not None and peer_params is not None:
                peer_path = peer.table_path(peer_params)
                sides["peer"] = lambda peer_path=peer_path: peer.client.get_ok(peer_path)  # type: ignore[misc]
            s = alternate(sides, self.options.repeat)
            limit = targets.get(case.key, 5.0)
            self.results.append(
                Result(
                    f"{group}.{case.key}",
                    s["http"].median_ms,
                    raw_ms=s["raw"].median_ms,
                    target=f"< {limit:g} ms median" if limit is not None else "",
                    verdict=check(s["http"].median_ms < limit) if limit is not None else INFO,
                )
            )
            if "peer" in s:
                key = f"peer.{group}_{case.key}" if group == "filter" else f"peer.search_{case.key}"
                note = "Datasette: words only, no identifier search" if group == "search" else ""
                self.results.append(self._versus_peer(key, s["http"], s["peer"], note))
            self._detail(f"{group}.{case.key}", s)

    def export(self, client: Client, server: servers.Server) -> None:
        sql = bulk.export_sql(self.engine, self.facts.org_id)
        sqlite_file = _sqlite_file(self.dataset.url)
        peaks: list[int] = []
        baselines: list[int] = []
        parley_rates: list[float] = []
        reset_ok = True

        def parley_export() -> None:
            nonlocal reset_ok
            baselines.append(server.memory()["VmRSS"])
            reset_ok = server.reset_peak_memory() and reset_ok
            streamed = client.stream("/core/conversations/export.csv")
            if streamed.status != 200:
                raise RuntimeError(f"export answered {streamed.status}")
            peaks.append(server.memory()["VmHWM"])
            parley_rates.append((streamed.lines - 1) / streamed.seconds)

        sides: dict[str, Callable[[], object]] = {"parley": parley_export}
        if sqlite_file is not None:
            shell = servers.sqlite3_shell()
            if shell is not None:
                sides["bulk"] = lambda: bulk.sqlite_shell_export(shell, sqlite_file, sql)
            sides["csv_module"] = lambda: bulk.sqlite_csv_module_export(sqlite_file, sql)
            bulk_name = "sqlite3 -csv"
        else:
            url = self.dataset.url
            sides["bulk"] = lambda: bulk.postgres_copy_export(url, sql)
            sides["csv_module"] = lambda: bulk.postgres_csv_module_export(url, sql)
            bulk_name = "PostgreSQL COPY … TO STDOUT CSV"
        warmup = 1 if self.options.heavy_repeat > 1 else 0
        s = alternate(sides, self.options.heavy_repeat, warmup=warmup)
        # Drop the warm-up run's figures.
        parley_rates, peaks, baselines = parley_rates[warmup:], peaks[warmup:], baselines[warmup:]
        rows = self.facts.total_rows
        ours = _median(parley_rates)
        if "bulk" in s:
            theirs = rows / s["bulk"].median
            self.results.append(
                Result(
                    "export.full",
                    ours,
                    unit="rows/s",
                    compared_with=bulk_name,
                    other=theirs,
                    ratio=ours / theirs,
                    ratio_label="of the database's speed",
                    target="≥ 0.5x the database's own export",
                    verdict=check(ours / theirs >= 0.5),
                )
            )
        else:
            self.results.append(
                unavailable("export.full", "sqlite3 shell not installed (apt-get install sqlite3)")
            )
        peak = max(peaks) / MB
        self.results.append(
            Result(
                "export.memory",
                peak,
                unit="MB",
                compared_with="server RSS before the export",
                other=_median([b / MB for b in baselines]),
                target="< 100 MB peak RSS",
                verdict=check(peak < 100) if reset_ok else NOT_AVAILABLE,
                note="" if reset_ok else "cannot reset VmHWM",
            )
        )
        module = rows / s["csv_module"].median
        self.results.append(
            Result(
                "export.vs_csv_module",
                ours,
                unit="rows/s",
                compared_with="csv.writer over the driver",
                other=module,
                ratio=ours / module,
                ratio_label="of csv.writer",
                target="faster than csv.writer" if sqlite_file else "",
                verdict=check(ours > module) if sqlite_file else INFO,
            )
        )
        self._detail("export", s, rows=rows, parley_rates=parley_rates, peaks=peaks, baselines=baselines)

    def peer_csv(self, client: Client, peer: Peer) -> None:
        cap = min(self.options.peer_csv_rows, self.facts.total_rows)
        rates: dict[str, list[float]] = {"parley": [], "peer": [], "peer_max": []}

        def reader(name: str, target: Client, path: str) -> Callable[[], object]:
            def run() -> object:
                streamed = target.stream(path, max_lines=cap + 1)
                rates[name].append(min(streamed.lines - 1, cap) / streamed.seconds)
                return streamed

            return run

        sides = {
            "parley": reader("parley", client, "/core/conversations/export.csv"),
            "peer": reader("peer", peer.client, peer.table_path({"_stream": "on"}, fmt="csv")),
            "peer_max": reader(
                "peer_max", peer.client, peer.table_path({"_stream": "on", "_size": "max"}, fmt="csv")
            ),
        }
        alternate(sides, self.options.heavy_repeat, warmup=0)
        ours = _median(rates["parley"])
        for key, name in (("peer.csv_stream", "peer"), ("peer.csv_stream_max", "peer_max")):
            theirs = _median(rates[name])
            self.results.append(
                Result(
                    key,
                    ours,
                    unit="rows/s",
                    compared_with="Datasette",
                    other=theirs,
                    ratio=ours / theirs,
                    ratio_label="faster",
                    target="faster than Datasette",
                    verdict=check(ours > theirs),
                    note=f"first {cap:,} rows",
                )
            )
        self._detail("peer_csv", {}, rates=rates, rows=cap)

    def detail(self, client: Client) -> None:
        conversation_id = self.dataset.long_conversation_id
        org = Visible(self.facts.org_id)

        def raw_detail() -> object:
            with self.engine.connect() as connection:
                row = queries.get_conversation(connection, org, conversation_id)
                assert row is not None
                return (
                    queries.participants_by_conversation(connection, org, [conversation_id]),
                    queries.transcript(connection, org, conversation_id),
                    queries.recordings(connection, org, conversation_id),
                )

        detail_path = f"/core/conversations/{conversation_id}"
        body = json.loads(client.get_ok(detail_path))
        turns = len(body.get("transcript", []))
        recording = f"/core/conversations/{conversation_id}/recording"
        sides: dict[str, Callable[[], object]] = {
            "http": lambda: client.get_ok(detail_path),
            "raw": raw_detail,
            "range": lambda: client.get_ok(recording, {"Range": "bytes=0-65535"}, expect=206),
        }
        s = alternate(sides, self.options.repeat)
        self.results += [
            Result(
                "detail.long_transcript",
                s["http"].median_ms,
                raw_ms=s["raw"].median_ms,
                note=f"{turns} turns",
            ),
            Result("detail.recording_range", s["range"].median_ms, note="206 Partial Content"),
        ]
        self._detail("detail", s)

    def concurrency(self, port: int, token: str) -> None:
        wrk = servers.wrk_path()
        keys = {1: "concurrency.c1", 16: "concurrency.c16", 64: "concurrency.c64"}
        if wrk is None or not self.options.wrk:
            why = "wrk not installed (apt-get install wrk)" if wrk is None else "skipped (--no-wrk)"
            self.results += [unavailable(key, why) for key in keys.values()]
            return
        url = f"http://127.0.0.1:{port}{list_path({})}"
        runs: dict[int, list[concurrency.WrkRun]] = {}
        for _ in range(self.options.heavy_repeat):  # rounds of 1, 16, 64: alternating levels too
            for clients in keys:
                runs.setdefault(clients, []).append(
                    concurrency.run_wrk(wrk, url, token, clients, self.options.wrk_seconds)
                )
        for clients, key in keys.items():
            m = concurrency.median_run(runs[clients])
            result = Result(
                key,
                m.requests_per_second,
                unit="req/s",
                compared_with="p99",
                note=f"p50 {m.p50_ms:.1f} ms, p99 {m.p99_ms:.1f} ms"
                + (f", {m.errors} errors" if m.errors else ""),
            )
            if clients == 16:
                result.target = "p99 < 20 ms"
                result.verdict = check(m.p99_ms < 20 and m.errors == 0 and m.requests_per_second > 0)
            result.detail = {
                "runs": [r.__dict__ if hasattr(r, "__dict__") else _as_dict(r) for r in runs[clients]]
            }
            self.results.append(result)

    def _detail(self, name: str, samples: dict[str, Samples], **extra: Any) -> None:
        record = {side: [round(x * 1000, 4) for x in v.seconds] for side, v in samples.items()}
        if self.results:
            self.results[-1].detail.setdefault(name, {"samples_ms": record, **extra})


def _as_dict(run: concurrency.WrkRun) -> dict[str, float]:
    return {
        "requests_per_second": run.requests_per_second,
        "p50_ms": run.p50_ms,
        "p99_ms": run.p99_ms,
        "errors": run.errors,
    }


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


@contextmanager
def _peer(options: Options, dataset: Dataset, org_id: int, folder: Path) -> Iterator[Peer | None]:
    path = _sqlite_file(dataset.url)
    if path is None or not options.peer or not servers.datasette_available():
        yield None
        return
    metadata = folder / "datasette-metadata.json"
    metadata.write_text(
        json.dumps(
            {
                "databases": {
                    path.stem: {
                        # The big org's own FTS5 table (see parley/db/search_tables.py).
                        "tables": {"conversations": {"fts_table": words_table(org_id), "fts_pk": "id"}}
                    }
                }
            }
        )
    )
    with servers.datasette(path, metadata, folder / "datasette.log") as server:
        client = Client(server.port)
        try:
            yield Peer(client, path.stem, org_id)
        finally:
            client.close()


def _peer_unavailable(options: Options, dataset: Dataset) -> str:
    if _sqlite_file(dataset.url) is None:
        return "Datasette serves SQLite only"
    if not options.peer:
        return "skipped (--no-peer)"
    return "datasette not installed (pip install -e '.[bench]')"


def _database_version(engine: Engine) -> str:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return "SQLite " + str(connection.execute(text("select sqlite_version()")).scalar())
        return str(connection.execute(text("select version()")).scalar()).split(" on ")[0]


def run(options: Options) -> tuple[Path, Path]:
    started = datetime.now(UTC)
    log(f"preparing {options.rows:,} conversations on {options.db} (seed {options.seed})")
    dataset = prepare(options.db, Spec(options.rows, options.seed), options.data_dir, options.postgres_url)
    log("data set reused" if dataset.reused else f"data set built in {dataset.seconds_to_prepare:,.0f} s")
    engine = build_engine(dataset.url)
    try:
        token = create_reader_token(engine)
        facts = gather(engine, dataset)
        bench = Run(options, dataset, engine, facts)
        with ExitStack() as stack:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="parley-bench-")))
            server = stack.enter_context(
                servers.parley(dataset.url, dataset.recordings_dir, folder / "parley.log", options.workers)
            )
            client = Client(server.port, {"Authorization": f"Bearer {token}"})
            stack.callback(client.close)
            peer = stack.enter_context(_peer(options, dataset, facts.org_id, folder))
            log("lists")
            bench.lists(client, peer)
            log("filters")
            bench.filtered(client, peer, facts.filters, "filter")
            log("search")
            bench.filtered(client, peer, facts.searches, "search")
            log("detail")
            bench.detail(client)
            log("export")
            bench.export(client, server)
            if peer is not None:
                log("Datasette CSV")
                bench.peer_csv(client, peer)
            log("concurrency")
            bench.concurrency(server.port, token)
        results = _in_order(bench.results, _peer_unavailable(options, dataset))
        context = {
            "db": options.db,
            "rows": options.rows,
            "seed": options.seed,
            "repeat": options.repeat,
            "heavy_repeat": options.heavy_repeat,
            "wrk_seconds": options.wrk_seconds,
            "workers": options.workers,
            "started": started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "database_version": _database_version(engine),
            "dataset": {
                "reused": dataset.reused,
                "seconds_to_prepare": dataset.seconds_to_prepare,
                "rows_listed_in_big_org": facts.total_rows,
                "deep_page_depth": facts.depth,
            },
        }
    finally:
        engine.dispose()
    return write(results, context, options.out)


def _in_order(results: list[Result], peer_missing: str) -> list[Result]:
    from benchmarks.report import SCENARIOS

    found = {r.key: r for r in results}
    ordered = []
    for key, _label in SCENARIOS:
        if key in found:
            ordered.append(found[key])
        elif key.startswith("peer."):
            ordered.append(unavailable(key, peer_missing))
        else:
            ordered.append(unavailable(key, "not measured"))
    return ordered


__all__ = ["MET", "Options", "run"]
