"""List latency at two sizes, side by side in one run: does a page cost the same at 10M rows as at 1M?

``python -m benchmarks scale --db postgres --rows 1000000 --large-rows 10000000`` prepares (or
reuses) both data sets, starts ``parley serve`` on each, and times every list, filter and search
scenario against both servers alternately, so the ratio large/small is measured under the same
machine conditions.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import servers
from benchmarks.client import Client
from benchmarks.dataset import Dataset, Spec, create_reader_token, prepare
from benchmarks.facts import Facts, gather
from benchmarks.report import Result, check, machine, write
from benchmarks.runner import Options, list_path, log
from benchmarks.timing import alternate, ratio
from parley.db.engine import build_engine

TARGET_RATIO = 1.2


def _paths(facts: Facts) -> dict[str, str]:
    paths = {"first_page": list_path({}), "deep_page": list_path({}, facts.deep_cursor)}
    for case in (*facts.filters, *facts.searches):
        paths[case.key] = list_path(case.params)
    return paths


def run_scale(options: Options, large_rows: int) -> tuple[Path, Path]:
    started = datetime.now(UTC)
    sets: list[tuple[Dataset, Facts, str]] = []
    for rows in (options.rows, large_rows):
        log(f"preparing {rows:,} conversations on {options.db} (seed {options.seed})")
        dataset = prepare(options.db, Spec(rows, options.seed), options.data_dir, options.postgres_url)
        engine = build_engine(dataset.url)
        try:
            sets.append((dataset, gather(engine, dataset), create_reader_token(engine)))
        finally:
            engine.dispose()
    results: list[Result] = []
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="parley-scale-")))
        clients: list[Client] = []
        for n, (dataset, _facts, token) in enumerate(sets):
            log_file = folder / f"parley-{n}.log"
            server = stack.enter_context(
                servers.parley(dataset.url, dataset.recordings_dir, log_file, options.workers)
            )
            client = Client(server.port, {"Authorization": f"Bearer {token}"})
            stack.callback(client.close)
            clients.append(client)
        small_paths, large_paths = (_paths(facts) for _dataset, facts, _token in sets)
        for name, small_path in small_paths.items():
            log(f"scale: {name}")
            sides: dict[str, Callable[[], object]] = {
                "small": lambda path=small_path: clients[0].get_ok(path),  # type: ignore[misc]
                "large": lambda path=large_paths[name]: clients[1].get_ok(path),  # type: ignore[misc]
            }
            s = alternate(sides, options.repeat)
            grown = ratio(s["large"], s["small"])
            results.append(
                Result(
                    f"scale.{name}",
                    s["large"].median_ms,
                    compared_with=f"{options.rows:,} rows",
                    other=s["small"].median_ms,
                    ratio=grown,
                    ratio_label=f"of {options.rows:,}",
                    target=f"≤ {TARGET_RATIO:g}x",
                    verdict=check(grown <= TARGET_RATIO),
                    detail={side: [round(x * 1000, 4) for x in v.seconds] for side, v in s.items()},
                )
            )
    context = {
        "kind": "scale",
        "db": options.db,
        "rows": large_rows,
        "compared_rows": options.rows,
        "seed": options.seed,
        "repeat": options.repeat,
        "workers": options.workers,
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "database_version": "",
    }
    return write(results, context, options.out)
