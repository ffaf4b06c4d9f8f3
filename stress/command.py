"""``python -m stress run --db sqlite|postgres --minutes N [--attacks]``: exit 0 when every check
held, 1 when one did not (the summary says which)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from stress.checks import integrity_ok
from stress.deployment import deployment
from stress.run import READERS, Report, run

DEFAULT_POSTGRES = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def summary(report: Report) -> str:
    ok = report.outcomes.tally("reader")
    writes = len(report.ledger.acknowledged)
    listing = report.listing
    assert listing is not None
    lines = [
        f"stress run on {report.db}: {report.seconds:.0f} s, {READERS} readers + 1 writer",
        "",
        _row(["case", "result"]),
        _row(["---", "---"]),
        _row(
            [
                "load held",
                f"{ok['200'] / report.seconds:,.0f} list pages/s, {writes / report.seconds:,.1f} "
                f"conversations/s created (+2 turns each); {sum(ok.values()):,} reads, {writes:,} acknowledged",
            ]
        ),
    ]
    lines.append(
        _row(
            [
                "writer's answers",
                ", ".join(f"{k}: {v}" for k, v in sorted(report.outcomes.tally("writer").items())),
            ]
        )
    )
    for fault in report.faults:
        during = ", ".join(f"{status}: {count}" for status, count in sorted(fault.during.items()))
        lines.append(
            _row(
                [
                    fault.name,
                    f"{fault.ended - fault.started:.1f} s; readers meanwhile {during or 'nothing'}; "
                    f"list answered 200 again {fault.recovered_after:.1f} s after",
                ]
            )
        )
    unexpected = report.unexpected()
    lines += [
        _row(["errors outside the faults", ", ".join(f"{k}: {v}" for k, v in unexpected.items()) or "0"]),
        _row(
            [
                "data lost",
                f"{len(listing.lost)} of {listing.acknowledged} acknowledged "
                f"(listed {listing.listed}; checksum {listing.checksum_acknowledged} vs "
                f"{listing.checksum_listed})",
            ]
        ),
        _row(["duplicated", str(len(listing.duplicated))]),
        _row(
            [
                "writer told 409 (a claim left by a write the fault cut short)",
                str(report.outcomes.tally("writer")["409"]),
            ]
        ),
        _row(
            [
                "writes given up (never acknowledged)",
                f"{len(report.ledger.unacknowledged)}, of which {listing.unacknowledged_listed} exist (once)",
            ]
        ),
        _row(
            [
                "integrity",
                ("ok: " if integrity_ok(report.integrity) else "FAILED: ")
                + ", ".join(f"{k} = {v}" for k, v in report.integrity.items()),
            ]
        ),
        _row(["restart after the run", "serves" if report.restart_ok else "FAILED"]),
        "",
        "PASSED" if report.passed() else "FAILED",
    ]
    return "\n".join(lines)


def attacks(db: str, seconds: float, postgres_url: str) -> list[str]:
    """The availability benchmarks against this code; the other org's p99 against its idle figure."""
    from benchmarks import availability

    lines = [
        _row(["attack", "other org's list p99: idle → attacked (target: at most 2x)"]),
        _row(["---", "---"]),
    ]
    for command, extra in (("stalls", ["--rows", "20000"]), ("logins", [])):
        args = availability.parser().parse_args(
            [command, "--db", db, "--seconds", str(seconds), "--postgres-url", postgres_url, *extra]
        )
        idle, attacked = availability.stalls(args) if command == "stalls" else availability.logins(args)
        ratio = attacked.p99_ms / idle.p99_ms if idle.p99_ms else float("inf")
        lines.append(
            _row(
                [
                    "40 stalled exports" if command == "stalls" else "4 clients posting wrong passwords",
                    f"{idle.p99_ms:.1f} → {attacked.p99_ms:.1f} ms ({ratio:.2f}x, "
                    f"{'met' if ratio <= 2 else 'MISSED'}); errors {attacked.errors}",
                ]
            )
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stress", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("run", help="load, faults and checks against a parley serve of its own")
    command.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    length = command.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="length of the run (default 5)")
    length.add_argument("--seconds", type=float, help="length of the run, for short forms (at least 20)")
    command.add_argument("--postgres-url", default=DEFAULT_POSTGRES, help="a loopback PostgreSQL server")
    command.add_argument("--attacks", action="store_true", help="also run benchmarks.availability")
    command.add_argument("--attack-seconds", type=float, default=10, help="length of each wrk run")
    command.add_argument("--folder", type=Path, help="keep the database and server log here")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (args.minutes or 5) * 60
    if seconds < 20:
        parser.error("a run takes at least 20 seconds: the faults need room")
    host = args.postgres_url.split("@")[-1].split("/")[0].split(":")[0]
    if args.db == "postgres" and host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the stress suite runs against a loopback PostgreSQL only")
    with tempfile.TemporaryDirectory(prefix="parley-stress-") as scratch:
        folder = args.folder or Path(scratch)
        with deployment(args.db, folder, args.postgres_url) as site:
            report = asyncio.run(run(site, seconds))
        print(summary(report), flush=True)
        if args.attacks:
            print("\n".join(["", *attacks(args.db, args.attack_seconds, args.postgres_url)]), flush=True)
    sys.exit(0 if report.passed() else 1)
