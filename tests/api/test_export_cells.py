"""The export's cells are computed in SQL; they must be exactly what csv.writer makes of the
values in Python, for awkward text, every label and time zones with and without DST."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.conversations.enums import CHANNEL_LABELS, DIRECTION_LABELS, Channel, Direction, status_label
from parley.conversations.export.quoting import neutralise
from parley.conversations.export.zones import zone_spans
from parley.conversations.format import format_duration
from parley.ingest.records import NewConversation
from tests.api.conftest import World, bearer
from tests.factories import conversation, insert_all

EXPORT = "/core/conversations/export.csv"
AWKWARD = [
    'He said "refund", then left',
    "line one\nline two",
    "carriage\r\nreturn",
    "=1+2",
    "+33 1 23 45 67 89",
    "-minus",
    "@mention",
    "\ttab first",
    "\rreturn first",
    "plain",
    "",
    "comma, inside",
    'only "quotes"',
    "naïve café ✓",
    "'already quoted",
    # Blanks or line breaks before a formula character, and full-width formula characters.
    " =1+2",
    '\n=HYPERLINK("http://evil")',
    "\r\n+1",
    "  \t@SUM(A1)",
    "\u3000-2",
    "\uff1d1+2",
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    " plain after a blank",
    "\n",
]
ZONES = ["UTC", "Europe/Paris", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"]


def expected_csv(items: list[NewConversation], agents: dict[int, str], zone: ZoneInfo, base: str) -> str:
    """The former implementation, row by row in Python: the reference the SQL must match."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "Conversation ID", "Link", "Agent", "Agent Version", "Caller ID", "Caller Name", "Agent Number",
            "Direction", "Status", "Summary", "Duration", "Duration Seconds", "Date", "Time", "Type",
        ]
    )  # fmt: skip
    for item in sorted(items, key=lambda i: (i.created_at, i.id), reverse=True):
        local = item.created_at.astimezone(zone)
        cells = [
            str(item.id),
            f"{base}/conversations/{item.id}",
            agents.get(item.agent_id, "") if item.agent_id else "",
            "" if item.agent_version is None else str(item.agent_version),
            item.user_id or "",
            item.caller_name or "",
            item.agent_number or "",
            DIRECTION_LABELS[Direction(item.direction)],
            status_label(item.status),
            item.summary or "",
            format_duration(item.duration_seconds) or "",
            "" if item.duration_seconds is None else str(item.duration_seconds),
            local.strftime("%Y-%m-%d"),
            local.strftime("%H:%M:%S"),
            CHANNEL_LABELS[Channel(item.channel)],
        ]
        writer.writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()


def awkward_conversations(world: World, count: int) -> list[NewConversation]:
    rng = random.Random(7)
    # Around the 2026 DST changes in Europe (29 March, 25 October), in seconds-exact steps.
    moments = [
        datetime(2026, 3, 29, 0, 59, 59, 999000, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 0, 59, 59, 500000, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, 0, 1000, tzinfo=UTC),
    ]
    moments += [
        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(600_000)) for _ in range(count)
    ]
    items = []
    for n, moment in enumerate(moments):
        duration = rng.choice([None, 0, 9, 60, 187, 3599, 3600, 3725, 86_400 * 3 + 7])
        items.append(
            conversation(
                rng,
                moment,
                rng.choice([None, *world.globex.agent_ids]),
                channel=rng.choice([ch.value for ch in Channel]),
                direction=rng.choice([d.value for d in Direction]),
                status=rng.choice(["completed", "no_answer", "in_progress", "voicemail", "busy"]),
                user_id=rng.choice([None, *AWKWARD]),
                caller_name=rng.choice([None, *AWKWARD]),
                agent_number=rng.choice([None, *AWKWARD]),
                summary=AWKWARD[n % len(AWKWARD)] if n % 3 else rng.choice([None, *AWKWARD]),
                duration_seconds=duration,
                agent_version=rng.choice([None, 1, 2]),
            )
        )
    return items


@pytest.mark.parametrize("zone", ZONES)
def test_sql_cells_match_csv_writer(client: TestClient, world: World, engine: Engine, zone: str) -> None:
    items = awkward_conversations(world, 40)
    insert_all(engine, world.globex, items)
    everything = stored_rows(world, engine)
    agents = {
        world.globex.agent_ids[0]: "Billing Assistant",
        world.globex.agent_ids[1]: "Appointment Scheduler",
    }
    response = client.get(f"{EXPORT}?tz={zone}", headers=bearer(world.globex.tokens["sensitive"]))
    assert response.status_code == 200
    assert response.text == expected_csv(everything, agents, ZoneInfo(zone), "http://testserver")


def stored_rows(world: World, engine: Engine) -> list[NewConversation]:
    """Every listed globex row, read back as records (pending web sessions are never exported)."""
    from sqlalchemy import select

    from parley.db import tables

    c = tables.conversations
    with engine.connect() as connection:
        rows = connection.execute(
            select(c).where(c.c.org_id == world.globex.id, c.c.status != "token_created")
        ).all()
    return [
        NewConversation(
            id=row.id,
            created_at=row.created_at,
            channel=row.channel,
            direction=row.direction,
            status=row.status,
            agent_id=row.agent_id,
            agent_version=row.agent_version,
            user_id=row.user_id,
            caller_name=row.caller_name,
            agent_number=row.agent_number,
            summary=row.summary,
            duration_seconds=row.duration_seconds,
        )
        for row in rows
    ]


def test_zone_spans_find_each_change_to_the_second() -> None:
    paris = ZoneInfo("Europe/Paris")
    spans = zone_spans(paris, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    assert [(s.start, s.offset) for s in spans] == [
        (None, 3600),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 7200),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 3600),
    ]
    assert [
        s.offset
        for s in zone_spans(
            ZoneInfo("Asia/Tokyo"), datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
        )
    ] == [32400]
