"""``python -m benchmarks run [--rows N] [--db sqlite|postgres] [--repeat K] [--out DIR]``."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from benchmarks.runner import Options, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("run", help="seed (or reuse) a data set, run every scenario, write the report")
    defaults = Options()
    p.add_argument("--rows", type=int, default=defaults.rows, help="conversations in the big org")
    p.add_argument("--db", choices=("sqlite", "postgres"), default=defaults.db)
    p.add_argument("--repeat", type=int, default=defaults.repeat, help="timed runs per request scenario")
    p.add_argument("--out", type=Path, default=defaults.out, help="folder for the Markdown and JSON report")
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--data-dir", type=Path, default=defaults.data_dir, help="where SQLite data sets live")
    p.add_argument(
        "--postgres-url",
        default=defaults.postgres_url,
        help="server holding the parley_bench_<rows>_<seed> databases",
    )
    p.add_argument("--wrk-seconds", type=float, default=defaults.wrk_seconds)
    p.add_argument("--peer-csv-rows", type=int, default=defaults.peer_csv_rows)
    p.add_argument("--heavy-repeat", type=int, default=None, help="runs of whole exports and wrk (default 3)")
    p.add_argument(
        "--workers", type=int, default=defaults.workers, help="server processes (parley serve --workers)"
    )
    p.add_argument("--no-peer", dest="peer", action="store_false", help="skip Datasette")
    p.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk concurrency runs")
    args = parser.parse_args(argv)
    options = Options(
        rows=args.rows,
        db=args.db,
        repeat=args.repeat,
        out=args.out,
        seed=args.seed,
        data_dir=args.data_dir,
        postgres_url=args.postgres_url,
        wrk_seconds=args.wrk_seconds,
        peer_csv_rows=args.peer_csv_rows,
        peer=args.peer,
        wrk=args.wrk,
        heavy=args.heavy_repeat,
        workers=args.workers,
    )
    # A plain SIGTERM would skip the finally blocks and leave the servers running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    markdown, data = run(options)
    print(markdown.read_text())
    print(f"wrote {markdown} and {data}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
