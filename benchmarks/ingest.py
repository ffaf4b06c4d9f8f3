"""``python -m benchmarks ingest [--db sqlite|postgres] [--workers N] [--seconds S]``: how fast
conversations and turns come in through HTTP, and what ingestion costs the readers.

All on a fresh database, served by ``parley serve --workers N``, loaded by wrk in its own process:
conversations created per second, turns per second in batches of 10 and of 1, idempotent replays
per second, and the first page's p50/p99 at 64 readers, idle and while conversations are created
flat out (alternating, so drift touches both). ``parley seed`` writes to the same database in the
same run, as the rate to compare with (it writes about 9.5 turns with each conversation).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path
from threading import Thread

import httpx2 as httpx

from benchmarks.concurrency import WrkRun, run_wrk
from benchmarks.live import fresh_database
from benchmarks.servers import parley, parley_command, wrk_path
from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.db.engine import build_engine
from parley.db.migrate import upgrade

JSON = 'wrk.headers["Content-Type"] = "application/json"\n'
CREATE = JSON + (
    'wrk.method = "POST"\nwrk.path = "/core/conversations"\n'
    'wrk.body = \'{"channel": "telephone", "direction": "inbound", "status": "in_progress", '
    '"user_id": "+14155550100", "caller_name": "Bench Caller", "summary": "A call the benchmark made."}\'\n'
)
REPLAY = CREATE + 'wrk.headers["Idempotency-Key"] = "bench-replay"\n'
# Each wrk thread writes its own seqs: request k of thread t goes to conversation k mod n, with
# seqs from ((k div n) * threads + t) * batch, so no two requests write the same turn.
TURNS = (
    JSON
    + r"""
local ids = {}
for id in string.gmatch(os.getenv("BENCH_IDS"), "[^,]+") do ids[#ids + 1] = id end
local batch = tonumber(os.getenv("BENCH_BATCH"))
local threads_total = tonumber(os.getenv("BENCH_THREADS"))
local count = 0
local number = 0
setup = function(thread) thread:set("number", number); number = number + 1 end
request = function()
  local id = ids[(count % #ids) + 1]
  local base = (math.floor(count / #ids) * threads_total + number) * batch
  count = count + 1
  local turns = {}
  for n = 0, batch - 1 do
    turns[#turns + 1] = string.format('{"seq": %d, "speaker": "agent", "text": "Turn %d of the benchmark, a sentence of ordinary length.", "offset_ms": %d}', base + n, base + n, (base + n) * 1000)
  end
  return wrk.format("POST", "/core/conversations/" .. id .. "/turns", nil, '{"turns": [' .. table.concat(turns, ",") .. "]}")
end
"""
)


def _token(url: str) -> str:
    engine = build_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        org = service.create_org(connection, "ingest")
        token = service.create_token(
            connection, TokenKind.API_KEY, frozenset({Scope.READ, Scope.MANAGE}), org_id=org.id
        )
    engine.dispose()
    return token


def _seed_rate(url: str, folder: Path, count: int) -> float:
    began = time.perf_counter()
    subprocess.run(
        [*parley_command(), "seed", "--org", "seeded", "--conversations", str(count)],
        env={
            "PATH": "/usr/bin:/bin",
            "PARLEY_DATABASE_URL": url,
            "PARLEY_RECORDINGS_DIR": str(folder / "rec"),
        },
        check=True,
        capture_output=True,
    )
    return count / (time.perf_counter() - began)


def _line(label: str, run: WrkRun, per_request: int = 1, unit: str = "req/s") -> str:
    rate = run.requests_per_second * per_request
    return f"| {label} | {rate:,.0f} {unit} | p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms | {run.errors} errors |"


def run_ingest(db: str, workers: int, seconds: float, server_url: str) -> str:
    wrk = wrk_path()
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        url = fresh_database(db, folder, server_url, "parley_bench_ingest")
        token = _token(url)
        lines = [f"Ingestion on {db}, `parley serve --workers {workers}`, wrk {seconds:.0f} s per figure", ""]
        lines += ["| scenario | rate | latency | errors |", "| --- | --- | --- | --- |"]
        with parley(url, folder / "rec", folder / "server.log", workers=workers) as server:
            base = f"http://127.0.0.1:{server.port}"
            created = run_wrk(wrk, f"{base}/core/conversations", token, 16, seconds, CREATE)
            lines.append(_line("create conversations, 16 clients", created, unit="conversations/s"))
            headers = {"Authorization": f"Bearer {token}"}
            ids = [
                httpx.post(
                    f"{base}/core/conversations",
                    json={"channel": "telephone", "direction": "inbound"},
                    headers=headers,
                ).json()["id"]
                for _ in range(64)
            ]
            env = {"BENCH_IDS": ",".join(ids), "BENCH_THREADS": "2"}
            for batch in (10, 1):
                run = run_wrk(wrk, base, token, 16, seconds, TURNS, {**env, "BENCH_BATCH": str(batch)})
                lines.append(_line(f"turns in batches of {batch}, 16 clients", run, batch, "turns/s"))
            replays = run_wrk(wrk, f"{base}/core/conversations", token, 16, seconds, REPLAY)
            lines.append(_line("idempotent replays of one create, 16 clients", replays))
            page = f"{base}/core/conversations?limit=50"
            idle, busy = [], []
            for _ in range(2):  # alternating: idle readers, then readers during ingestion
                idle.append(run_wrk(wrk, page, token, 64, seconds))
                writer = Thread(
                    target=run_wrk, args=(wrk, f"{base}/core/conversations", token, 8, seconds + 1, CREATE)
                )
                writer.start()
                busy.append(run_wrk(wrk, page, token, 64, seconds))
                writer.join()
            for label, runs in (
                ("first page, 64 readers, idle", idle),
                ("first page, 64 readers, during creates", busy),
            ):
                best = sorted(runs, key=lambda r: r.p99_ms)[len(runs) // 2]
                lines.append(_line(label, best))
        seeded = _seed_rate(url, folder, 20_000)
        lines.append(
            f"| `parley seed` into the same database | {seeded:,.0f} conversations/s | with ~9.5 turns each | |"
        )
    return "\n".join(lines)
