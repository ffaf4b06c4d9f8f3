"""GET /core/conversations/export.csv."""

from __future__ import annotations

import csv
import io
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley.auth.principal import Principal
from parley.auth.scopes import Scope
from parley.conversations.enums import Channel
from parley.conversations.export import stream_csv
from parley.conversations.filters import ConversationFilters
from parley.conversations.policy import Links
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


@pytest.mark.parametrize("slice_rows", [1, 3, 7])
@pytest.mark.parametrize(
    "filters",
    [
        ConversationFilters(),
        ConversationFilters(channels=(Channel.EMAIL, Channel.TELEPHONE)),
        ConversationFilters(q="refund"),
    ],
    ids=["all", "two channels", "search"],
)
def test_export_in_slices_is_the_export_in_one_piece(
    world: World, engine: Engine, slice_rows: int, filters: ConversationFilters
) -> None:
    """Big exports are formatted in slices, several at once; the file must not change: no row lost,
    repeated or out of order at a slice boundary, including between rows sharing a timestamp."""
    principal = Principal(
        world.acme.id, world.acme.slug, frozenset({Scope.READ, Scope.READ_SENSITIVE}), token_kind=None
    )
    links = Links(base="http://testserver")

    def export(rows_per_slice: int) -> bytes:
        return b"".join(stream_csv(engine, principal, filters, links, ZoneInfo("UTC"), rows_per_slice))

    whole = export(10_000)
    assert len(rows(whole.decode())) > slice_rows  # really cut into several slices
    assert export(slice_rows) == whole
