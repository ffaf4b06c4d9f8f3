"""GET /core/conversations/export.csv."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.api.conftest import World, bearer
from tests.factories import BASE_TIME, conversation, insert_all

EXPORT = "/core/conversations/export.csv"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_matches_the_list_in_order(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    response = client.get(f"{EXPORT}?channel=telephone", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(
        'attachment; filename="parley-acme-conversations-'
    ) and disposition.endswith('.csv"')
    listed = client.get("/core/conversations?channel=telephone&limit=200", headers=headers).json()["data"]
    exported = rows(response.text)
    assert [r["Conversation ID"] for r in exported] == [item["id"] for item in listed]
    assert {r["Type"] for r in exported} == {"Phone Call"}


def test_export_columns_and_labels(client: TestClient, world: World) -> None:
    exported = rows(client.get(EXPORT, headers=bearer(world.acme.tokens["sensitive"])).text)
    assert list(exported[0]) == [
        "Conversation ID", "Link", "Agent", "Agent Version", "Caller ID", "Caller Name", "Agent Number",
        "Direction", "Status", "Summary", "Duration", "Duration Seconds", "Date", "Time", "Type",
    ]  # fmt: skip
    assert {r["Type"] for r in exported} == {"Phone Call", "Web Chat", "Email", "Text"}
    assert "No Answer" in {r["Status"] for r in exported}
    assert {r["Direction"] for r in exported} == {"Inbound", "Outbound"}
    assert all(r["Link"].endswith("/conversations/" + r["Conversation ID"]) for r in exported)


def test_export_without_read_sensitive_leaves_sensitive_columns_out(client: TestClient, world: World) -> None:
    text = client.get(EXPORT, headers=bearer(world.acme.tokens["read"])).text
    header = text.splitlines()[0].split(",")
    assert "Caller ID" not in header and "Caller Name" not in header and "Summary" not in header
    assert "refund" not in text and "Caller 1" not in text and "+44207" not in text


def test_export_uses_the_requested_time_zone(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    utc = rows(client.get(f"{EXPORT}?tz=UTC", headers=headers).text)[0]
    tokyo = rows(client.get(f"{EXPORT}?tz=Asia/Tokyo", headers=headers).text)[0]
    assert (utc["Date"], utc["Time"]) == ("2026-11-01", "12:00:00")
    assert (tokyo["Date"], tokyo["Time"]) == ("2026-11-01", "21:00:00")


def test_export_rejects_an_unknown_time_zone(client: TestClient, world: World) -> None:
    response = client.get(f"{EXPORT}?tz=Mars/Olympus", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 400
    assert "tz" in response.json()["detail"]


def test_export_neutralises_spreadsheet_formulas(client: TestClient, world: World, engine: Engine) -> None:
    evil = conversation(
        random.Random(3),
        BASE_TIME + timedelta(hours=2),
        None,
        caller_name='=HYPERLINK("http://evil")',
        summary="@SUM(A1:A2)",
        user_id="+15550001111",
    )
    insert_all(engine, world.acme, [evil])
    first = rows(client.get(EXPORT, headers=bearer(world.acme.tokens["sensitive"])).text)[0]
    assert first["Caller Name"] == '\'=HYPERLINK("http://evil")'
    assert first["Summary"] == "'@SUM(A1:A2)"
    assert first["Caller ID"] == "'+15550001111"


def test_export_honours_filters_and_sensitive_filter_rules(client: TestClient, world: World) -> None:
    sensitive = bearer(world.acme.tokens["sensitive"])
    exported = rows(client.get(f"{EXPORT}?q=9000012", headers=sensitive).text)
    assert [r["Caller ID"] for r in exported] == ["'+442079000012"]
    assert client.get(f"{EXPORT}?q=refund", headers=bearer(world.acme.tokens["read"])).status_code == 403
    assert client.get(f"{EXPORT}?limit=5", headers=sensitive).status_code == 400


def test_export_is_scoped_to_the_org(client: TestClient, world: World) -> None:
    exported = rows(client.get(EXPORT, headers=bearer(world.globex.tokens["read"])).text)
    assert {r["Conversation ID"] for r in exported} <= {str(i) for i in world.globex.conversation_ids}
    assert len(exported) > 0
