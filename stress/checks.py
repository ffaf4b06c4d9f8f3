"""After the run: does the API list exactly what the writer was acknowledged, and is the
database whole (nothing half-written by a killed server)?"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from stress.load import Ledger


@dataclass(frozen=True)
class Listing:
    acknowledged: int
    listed: int  # of the acknowledged external ids
    lost: list[str]  # acknowledged, not listed (must be empty)
    duplicated: list[str]  # listed more than once (must be empty)
    unacknowledged_listed: int  # gave up on them, yet they exist: allowed, once each
    checksum_acknowledged: str
    checksum_listed: str


def _checksum(pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for external_id, conversation_id in sorted(pairs):
        digest.update(f"{external_id} {conversation_id}\n".encode())
    return digest.hexdigest()[:16]


def compare_listing(base_url: str, token: str, ledger: Ledger) -> Listing:
    seen: list[tuple[str, str]] = []
    cursor: str | None = None
    with httpx.Client(base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        while True:
            url = "/core/conversations?tag=stress&limit=200" + (f"&cursor={cursor}" if cursor else "")
            page = http.get(url)
            page.raise_for_status()
            body = page.json()
            seen += [(row["external_id"], row["id"]) for row in body["data"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
    counts: dict[str, int] = {}
    for external_id, _ in seen:
        counts[external_id] = counts.get(external_id, 0) + 1
    listed = dict(seen)
    acknowledged = ledger.acknowledged
    return Listing(
        acknowledged=len(acknowledged),
        listed=sum(1 for external_id in acknowledged if external_id in listed),
        lost=sorted(e for e, i in acknowledged.items() if listed.get(e) != i),
        duplicated=sorted(e for e, n in counts.items() if n > 1),
        unacknowledged_listed=sum(1 for e in listed if e in ledger.unacknowledged),
        checksum_acknowledged=_checksum(list(acknowledged.items())),
        checksum_listed=_checksum([(e, i) for e, i in listed.items() if e in acknowledged]),
    )


# Each query counts rows that break a rule; every count must be 0.
CONSISTENCY = {
    "participant_count differs from its participants": """
        SELECT count(*) FROM conversations c WHERE c.participant_count <> (
            SELECT count(*) FROM participants p WHERE p.org_id = c.org_id AND p.conversation_id = c.id)""",
    "has_recording differs from its recordings": """
        SELECT count(*) FROM conversations c WHERE c.has_recording <> EXISTS (
            SELECT 1 FROM recordings r WHERE r.org_id = c.org_id AND r.conversation_id = c.id)""",
    "turns without their conversation": """
        SELECT count(*) FROM transcript_turns t WHERE NOT EXISTS (
            SELECT 1 FROM conversations c WHERE c.org_id = t.org_id AND c.id = t.conversation_id)""",
    "participants without their conversation": """
        SELECT count(*) FROM participants p WHERE NOT EXISTS (
            SELECT 1 FROM conversations c WHERE c.org_id = p.org_id AND c.id = p.conversation_id)""",
    "orgs whose event log has holes": """
        SELECT count(*) FROM (SELECT org_id FROM events GROUP BY org_id
            HAVING count(*) <> max(seq) - min(seq) + 1) holes""",
    "orgs whose event counter is not the log's last seq": """
        SELECT count(*) FROM event_counters k WHERE k.last_seq <> COALESCE(
            (SELECT max(seq) FROM events e WHERE e.org_id = k.org_id), k.last_seq)""",
}


def integrity(database_url: str, ledger: Ledger) -> dict[str, int | str]:
    """Every rule of CONSISTENCY, SQLite's own integrity and foreign-key checks, and that every
    acknowledged batch of turns is there."""
    url = make_url(database_url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    found: dict[str, int | str] = {}
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                found["PRAGMA integrity_check"] = conn.exec_driver_sql("PRAGMA integrity_check").scalar_one()
                found["PRAGMA foreign_key_check rows"] = len(
                    conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                )
            for rule, query in CONSISTENCY.items():
                found[rule] = int(conn.execute(text(query)).scalar_one())
            turns = dict(
                conn.execute(
                    text("SELECT conversation_id, count(*) FROM transcript_turns GROUP BY conversation_id")
                ).all()
            )
            found["acknowledged turns missing"] = sum(
                1 for cid, n in ledger.turns.items() if turns.get(int(cid), 0) < n
            )
    finally:
        engine.dispose()
    return found


def integrity_ok(found: dict[str, int | str]) -> bool:
    return all(value in (0, "ok") for value in found.values())
