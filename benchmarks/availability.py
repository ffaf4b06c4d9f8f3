"""Does the list keep answering while clients misbehave? Two scenarios against ``parley serve``:

    python -m benchmarks.availability stalls --db postgres   # clients request export.csv, never read
    python -m benchmarks.availability logins                 # clients post wrong passwords

Each measures another org's first page with wrk before and during the misbehaviour, and, for
stalls, /healthz once a second. ``--source DIR`` serves another checkout's ``src`` folder (e.g.
``git archive <commit> src | tar -x -C /tmp/before``) to compare with the code before a change.
Data sets: ``benchmarks/data/avail-<rows>.db`` or PostgreSQL database ``parley_avail_<rows>``,
seeded by ``parley seed`` when missing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.concurrency import WrkRun, run_wrk
from benchmarks.servers import free_port, parley_command

DATA = Path(__file__).parent / "data"
LIST = "/core/conversations?limit=50"


def parley(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [*parley_command(), *args], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def dataset(db: str, rows: int, postgres_url: str) -> str:
    """The database URL of a data set with an org ``big`` of ``rows`` conversations and ``quiet``."""
    if db == "sqlite":
        DATA.mkdir(exist_ok=True)
        url = f"sqlite:///{DATA / f'avail-{rows}.db'}"
    else:
        name = f"parley_avail_{rows}"
        admin = create_engine(
            make_url(postgres_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "PARLEY_DATABASE_URL": url}
    parley(env, "db", "upgrade")
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg") if db == "postgres" else url)
    with engine.connect() as conn:
        seeded = conn.execute(text("SELECT count(*) FROM orgs WHERE slug = 'quiet'")).scalar_one()
    engine.dispose()
    if not seeded:  # quiet is seeded last: an interrupted seed is redone
        parley(env, "seed", "--org", "big", "--conversations", str(rows), "--seed", "1")
        parley(env, "seed", "--org", "quiet", "--conversations", "500", "--seed", "2")
    return url


@contextmanager
def serve(url: str, source: Path | None, extra: dict[str, str]) -> Iterator[int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env |= {"PARLEY_DATABASE_URL": url, "PARLEY_RECORDINGS_DIR": str(DATA / "avail-recordings"), **extra}
    if source is not None:
        env["PYTHONPATH"] = str(source)
    DATA.mkdir(exist_ok=True)
    log = (DATA / f"avail-server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "parley", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        for _ in range(600):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def token(url: str, org: str) -> str:
    return parley(
        {**os.environ, "PARLEY_DATABASE_URL": url},
        "token",
        "create",
        "--org",
        org,
        "--scope",
        "conversations:read",
    )


def measure(port: int, quiet: str, seconds: float, label: str) -> WrkRun:
    run = run_wrk(shutil.which("wrk") or "wrk", f"http://127.0.0.1:{port}{LIST}", quiet, 4, seconds)
    print(
        f"{label}: {run.requests_per_second:,.0f} req/s, p50 {run.p50_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, errors (non-2xx or timeouts over 10 s) {run.errors}"
    )
    return run


def stalls(args: argparse.Namespace) -> tuple[WrkRun, WrkRun]:
    """The other org's list idle and while exports stall (``python -m stress`` reads them)."""
    url = dataset(args.db, args.rows, args.postgres_url)
    big, quiet = token(url, "big"), token(url, "quiet")
    with serve(url, args.source, {}) as port, ExitStack() as held:
        idle = measure(port, quiet, args.seconds, "list, nobody stalled")
        statuses: Counter[int] = Counter()
        for _ in range(args.stalled):
            client = held.enter_context(socket.socket())
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            client.connect(("127.0.0.1", port))
            client.sendall(
                f"GET /core/conversations/export.csv HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {big}\r\n\r\n".encode()
            )
            statuses[int(client.recv(12).split()[1])] += 1
        print(f"{args.stalled} exports requested and never read: statuses {dict(statuses)}")
        health: list[tuple[str, float]] = []  # (status or error, seconds)
        stop = threading.Event()

        def probe() -> None:
            while not stop.wait(1):
                began = time.perf_counter()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    connection.request("GET", "/healthz")
                    answer = str(connection.getresponse().status)
                except OSError as exc:
                    answer = type(exc).__name__
                finally:
                    connection.close()
                health.append((answer, time.perf_counter() - began))

        prober = threading.Thread(target=probe, daemon=True)
        prober.start()
        attacked = measure(port, quiet, args.seconds, f"list, {args.stalled} stalled")
        stop.set()
        prober.join()
        answers = Counter(answer for answer, _ in health)
        print(f"/healthz once a second meanwhile: {dict(answers)}, slowest {max(s for _, s in health):.2f} s")
    return idle, attacked


def logins(args: argparse.Namespace) -> tuple[WrkRun, WrkRun]:
    """The list idle and during a flood of wrong passwords (``python -m stress`` reads them)."""
    url = dataset(args.db, args.rows, args.postgres_url)
    quiet = token(url, "quiet")
    with serve(url, args.source, {}) as port:
        idle = measure(port, quiet, args.seconds, "list, no logins")
        stop = threading.Event()
        answers: Counter[int] = Counter()

        def flood(n: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            connection.request("GET", "/login")
            page = connection.getresponse()
            cookie = page.getheader("set-cookie", "").split(";")[0]
            form_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.read().decode())
            assert form_token, "no form token on /login"
            rng = random.Random(n)
            while not stop.is_set():
                # --spread: every attempt from a new address for a new account, so each is hashed.
                address = (
                    f"10.{n}.{rng.randrange(256)}.{rng.randrange(256)}" if args.spread else f"10.0.0.{n}"
                )
                email = f"guess{rng.randrange(10**9)}@acme.test" if args.spread else "admin@acme.test"
                body = f"email={email}&password=wrong&csrf_token={form_token.group(1)}"
                connection.request(
                    "POST",
                    "/login",
                    body=body,
                    headers={
                        "Cookie": cookie,
                        "X-Forwarded-For": address,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
                response = connection.getresponse()
                response.read()
                answers[response.status] += 1

        flooders = [threading.Thread(target=flood, args=(n,), daemon=True) for n in range(args.clients)]
        for flooder in flooders:
            flooder.start()
        time.sleep(1)
        attacked = measure(port, quiet, args.seconds, f"list, {args.clients} clients posting wrong passwords")
        stop.set()
        for flooder in flooders:
            flooder.join()
        print(f"login answers meanwhile: {dict(answers)}")
    return idle, attacked


def parser() -> argparse.ArgumentParser:
    """The command line, also read by ``python -m stress`` for its defaults."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.availability", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, rows in (("stalls", 100_000), ("logins", 2_000)):
        p = commands.add_parser(name)
        p.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
        p.add_argument("--rows", type=int, default=rows, help="conversations in the org that is exported")
        p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
        p.add_argument("--seconds", type=float, default=10, help="length of each wrk run")
        p.add_argument("--source", type=Path, help="a src folder to serve instead of this checkout's")
    commands.choices["stalls"].add_argument("--stalled", type=int, default=40)
    commands.choices["logins"].add_argument("--clients", type=int, default=4)
    commands.choices["logins"].add_argument(
        "--spread", action="store_true", help="a new address each attempt"
    )
    return parser


def main() -> None:
    args = parser().parse_args()
    stalls(args) if args.command == "stalls" else logins(args)


if __name__ == "__main__":
    main()
