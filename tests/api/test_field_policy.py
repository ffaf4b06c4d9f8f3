"""The field table is the one place a field's sensitivity is decided: change a field's line
there and every output (list, detail, CSV export) follows, with nothing else edited."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from parley.api.schemas import ConversationDetail, ConversationFields, ConversationItem
from parley.conversations import policy
from parley.conversations.export import cells
from parley.conversations.policy import FIELDS, SENSITIVE, CsvColumn, Field, View
from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def outputs(
    client: TestClient, token: str, conversation_id: int
) -> tuple[dict[str, object], dict[str, object], str]:
    headers = bearer(token)
    item = next(
        i
        for i in client.get(f"{LIST}?limit=200", headers=headers).json()["data"]
        if i["id"] == str(conversation_id)
    )
    detail = client.get(f"{LIST}/{conversation_id}", headers=headers).json()
    export = client.get(f"{LIST}/export.csv", headers=headers).text
    return item, detail, export


def export_row(export: str, conversation_id: int) -> dict[str, str]:
    return next(
        r for r in csv.DictReader(io.StringIO(export)) if r["Conversation ID"] == str(conversation_id)
    )


def test_a_new_sensitive_field_reaches_every_output_only_with_read_sensitive(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    added = Field(
        "caller_reference",
        SENSITIVE,
        lambda s: f"ref-{s.row.user_id}",
        csv=(CsvColumn("Caller Reference", cells.user_id),),
    )
    monkeypatch.setattr(policy, "FIELDS", (*FIELDS, added))
    conversation_id = world.acme.conversation_ids[2]

    item, detail, export = outputs(client, world.acme.tokens["sensitive"], conversation_id)
    assert str(item["caller_reference"]).startswith("ref-+")
    assert detail["caller_reference"] == item["caller_reference"]
    row = export_row(export, conversation_id)
    assert row["Caller Reference"] == row["Caller ID"] != ""
    assert export.splitlines()[0].endswith(",Type,Caller Reference")

    item, detail, export = outputs(client, world.acme.tokens["read"], conversation_id)
    assert "caller_reference" not in item and "caller_reference" not in detail
    assert "Caller Reference" not in export.splitlines()[0]
    assert "ref-" not in export


def test_marking_a_safe_field_sensitive_hides_its_values_everywhere(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = world.acme.conversation_ids[2]
    item, _, export = outputs(client, world.acme.tokens["read"], conversation_id)
    number = str(item["agent_number"])
    assert number and number in export  # safe today: shown to a read-only key

    monkeypatch.setattr(
        policy, "FIELDS", tuple(replace(f, sensitive=True) if f.name == "agent_number" else f for f in FIELDS)
    )
    item, detail, export = outputs(client, world.acme.tokens["read"], conversation_id)
    assert "agent_number" not in item and "agent_number" not in detail
    assert "Agent Number" not in export and number not in export
    assert number in outputs(client, world.acme.tokens["sensitive"], conversation_id)[2]


def test_making_a_field_sensitive_makes_its_filter_need_read_sensitive(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = f"?agent_id={world.acme.agent_ids[0]}"
    assert client.get(LIST + query, headers=bearer(world.acme.tokens["read"])).status_code == 200
    monkeypatch.setattr(
        policy, "FIELDS", tuple(replace(f, sensitive=True) if f.name == "agent" else f for f in FIELDS)
    )
    for path in (LIST, f"{LIST}/export.csv"):
        response = client.get(path + query, headers=bearer(world.acme.tokens["read"]))
        assert response.status_code == 403
        assert response.json()["parameter"] == "agent_id"
    assert client.get(LIST + query, headers=bearer(world.acme.tokens["sensitive"])).status_code == 200


@pytest.mark.parametrize(
    ("model", "view"), [(ConversationItem, View.LIST), (ConversationDetail, View.DETAIL)]
)
def test_the_schema_documents_what_the_table_decides(model: type[ConversationFields], view: View) -> None:
    """The OpenAPI descriptions say "read_sensitive" exactly for the table's sensitive fields."""
    shown = {f.name: f.sensitive for f in FIELDS if view in f.views}
    assert set(model.model_fields) == set(shown)
    for name, sensitive in shown.items():
        description = model.model_fields[name].description or ""
        assert bool(re.search(r"read_sensitive", description)) == sensitive, name
