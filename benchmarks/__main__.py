"""``python -m benchmarks run [--rows N] [--db sqlite|postgres] [--repeat K] [--out DIR]`` and
``python -m benchmarks scale --db postgres [--rows N] --large-rows M`` and
``python -m benchmarks tenancy --db sqlite|postgres [--rows N]``."""

from __future__ import annotations

import argparse
import signal
import sys
from dataclasses import replace
from pathlib import Path

from benchmarks.runner import Options, run

BUSES = ("notify", "redis", "nats")


def _common(p: argparse.ArgumentParser, defaults: Options) -> None:
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
    p.add_argument(
        "--workers", type=int, default=defaults.workers, help="server processes (parley serve --workers)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = Options()
    p = commands.add_parser("run", help="seed (or reuse) a data set, run every scenario, write the report")
    _common(p, defaults)
    p.add_argument("--wrk-seconds", type=float, default=defaults.wrk_seconds)
    p.add_argument("--peer-csv-rows", type=int, default=defaults.peer_csv_rows)
    p.add_argument("--heavy-repeat", type=int, default=None, help="runs of whole exports and wrk (default 3)")
    p.add_argument("--no-peer", dest="peer", action="store_false", help="skip Datasette")
    p.add_argument("--no-wrk", dest="wrk", action="store_false", help="skip the wrk concurrency runs")
    s = commands.add_parser("scale", help="list latency on two data set sizes, alternating, as a ratio")
    _common(s, defaults)
    s.add_argument("--large-rows", type=int, default=10_000_000, help="conversations in the large set")
    v = commands.add_parser("live", help="latency from a write to a live viewer of another server process")
    v.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    v.add_argument("--writes", type=int, default=30)
    v.add_argument("--bus", choices=BUSES, default="notify", help="how the processes wake each other")
    v.add_argument("--postgres-url", default=defaults.postgres_url)
    g = commands.add_parser(
        "ingest", help="conversations and turns per second through HTTP, readers under load"
    )
    g.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    g.add_argument("--workers", type=int, default=2)
    g.add_argument("--seconds", type=float, default=10.0)
    g.add_argument("--postgres-url", default=defaults.postgres_url)
    w = commands.add_parser("viewers", help="a change's latency to many live viewers, and their memory")
    w.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    w.add_argument("--viewers", type=int, nargs="+", default=[100, 1000])
    w.add_argument(
        "--bus", choices=BUSES, nargs="+", default=list(BUSES), help="buses to compare (PostgreSQL)"
    )
    w.add_argument("--rounds", type=int, default=2)
    w.add_argument("--postgres-url", default=defaults.postgres_url)
    c = commands.add_parser("logcost", help="ingestion with the event log against without it")
    c.add_argument("--db", choices=("sqlite", "postgres"), default="postgres")
    c.add_argument("--seconds", type=float, default=5.0)
    c.add_argument("--rounds", type=int, default=3)
    c.add_argument("--postgres-url", default=defaults.postgres_url)
    t = commands.add_parser("tenancy", help="does a search's time depend on another org's data?")
    t.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    t.add_argument("--rows", type=int, default=200_000, help="conversations in the other org (B)")
    t.add_argument("--repeat", type=int, default=500, help="interleaved samples per search")
    t.add_argument("--data-dir", type=Path, default=defaults.data_dir, help="where SQLite data sets live")
    t.add_argument("--postgres-url", default=defaults.postgres_url)
    args = parser.parse_args(argv)
    if args.command == "tenancy":
        from benchmarks.tenancy import run_tenancy

        print(run_tenancy(args.db, args.rows, args.repeat, args.data_dir, args.postgres_url))
        return 0
    if args.command == "viewers":
        from benchmarks.viewers import run_viewers

        print(run_viewers(args.db, args.viewers, args.postgres_url, args.bus, args.rounds))
        return 0
    if args.command == "logcost":
        from benchmarks.logcost import run_logcost

        print(run_logcost(args.db, args.seconds, args.rounds, args.postgres_url))
        return 0
    if args.command == "ingest":
        from benchmarks.ingest import run_ingest

        print(run_ingest(args.db, args.workers, args.seconds, args.postgres_url))
        return 0
    if args.command == "live":
        from benchmarks.live import run_live

        print(run_live(args.db, args.writes, args.postgres_url, args.bus))
        return 0
    options = Options(
        rows=args.rows,
        db=args.db,
        repeat=args.repeat,
        out=args.out,
        seed=args.seed,
        data_dir=args.data_dir,
        postgres_url=args.postgres_url,
        workers=args.workers,
    )
    if args.command == "run":
        options = replace(
            options,
            wrk_seconds=args.wrk_seconds,
            peer_csv_rows=args.peer_csv_rows,
            peer=args.peer,
            wrk=args.wrk,
            heavy=args.heavy_repeat,
        )
    # A plain SIGTERM would skip the finally blocks and leave the servers running.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.command == "scale":
        from benchmarks.scale import run_scale

        markdown, data = run_scale(options, args.large_rows)
    else:
        markdown, data = run(options)
    print(markdown.read_text())
    print(f"wrote {markdown} and {data}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
