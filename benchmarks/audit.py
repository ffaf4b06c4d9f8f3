"""What recording the audit trail costs a reader: list + detail throughput with the trail on and
off, two ``parley serve`` processes on one database, measured in alternating rounds:

    python -m benchmarks.audit --db sqlite     # or --db postgres; --rounds, --seconds, --clients

Each round, ``--clients`` threads each ask for a first page and then the detail of every
conversation on it, with a token that reads sensitive data (so each detail is audited), for
``--seconds`` against one server, then the other. The report gives each round's requests a
second and the median ratio on/off (1.00: no cost). Data set: ``benchmarks.availability``'s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import threading
import time
from contextlib import ExitStack

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benchmarks.availability import dataset, parley, serve

LIST = "/core/conversations?limit=20"


def _sensitive_token(url: str) -> str:
    env = {**os.environ, "PARLEY_DATABASE_URL": url}
    scopes = ["--scope", "conversations:read", "--scope", "conversations:read_sensitive"]
    return parley(env, "token", "create", "--org", "big", *scopes)


def _client(port: int, token: str, until: float, counts: list[int]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    while time.monotonic() < until:
        connection.request("GET", LIST, headers=headers)
        response = connection.getresponse()
        page = json.loads(response.read())
        assert response.status == 200, page
        done += 1
        for item in page["data"]:
            if time.monotonic() >= until:
                break
            connection.request("GET", f"/core/conversations/{item['id']}", headers=headers)
            detail = connection.getresponse()
            detail.read()
            assert detail.status == 200
            done += 1
    connection.close()
    counts.append(done)


def _round(port: int, token: str, clients: int, seconds: float) -> float:
    counts: list[int] = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_client, args=(port, token, until, counts)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def _audited(url: str) -> int:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM audit_log")).scalar_one())
    engine.dispose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.audit", description=__doc__)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    url = dataset(args.db, args.rows, args.postgres_url)
    token = _sensitive_token(url)
    before = _audited(url)
    with ExitStack() as stack:
        ports = {
            "off": stack.enter_context(serve(url, None, {"PARLEY_AUDIT": "false"})),
            "on": stack.enter_context(serve(url, None, {"PARLEY_AUDIT": "true"})),
        }
        for port in ports.values():
            _round(port, token, 1, 1)  # warm both: caches, prepared statements
        rates: dict[str, list[float]] = {"off": [], "on": []}
        for n in range(args.rounds):
            # Alternate which goes first, so neither always runs on a cooler or warmer machine.
            order = ("off", "on") if n % 2 == 0 else ("on", "off")
            for name in order:
                rates[name].append(_round(ports[name], token, args.clients, args.seconds))
            print(f"round {n + 1}: off {rates['off'][-1]:,.0f} req/s, on {rates['on'][-1]:,.0f} req/s")
    print(f"audit entries written meanwhile (by the server with it on): {_audited(url) - before:,}")
    ratios = [on / off for on, off in zip(rates["on"], rates["off"], strict=True)]
    print(
        f"{args.db}: list + detail with the audit trail on / off, median of {args.rounds} rounds: "
        f"{statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
