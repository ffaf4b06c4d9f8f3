"""GET /core/conversations: order, pagination, filters, search and the safe field set."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, bearer

LIST = "/core/conversations"


def walk(
    client: TestClient, headers: dict[str, str], params: str = "", limit: int = 7
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(1000):
        query = (
            f"{LIST}?limit={limit}"
            + (f"&{params}" if params else "")
            + (f"&cursor={cursor}" if cursor else "")
        )
        response = client.get(query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body["data"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert len(body["data"]) == limit  # only the last page may be short
    raise AssertionError("pagination did not end")


def test_newest_first_with_ties_broken_by_id(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["read"]))
    keys = [(item["created_at"], int(item["id"])) for item in items]
    assert keys == sorted(keys, reverse=True)
    assert len({item["created_at"] for item in items}) < len(items)  # the data really has ties


def test_pending_web_sessions_never_appear(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["sensitive"]))
    assert all(item["status"] != "token_created" for item in items)
    hidden = 40 - len(items)
    assert hidden > 0  # the factory made some; they were filtered out, not missing


def test_status_filter_refuses_token_created(client: TestClient, world: World) -> None:
    response = client.get(f"{LIST}?status=token_created", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 400
    assert "pending web sessions" in response.json()["detail"]


def test_pages_cover_every_visible_row_once(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["read"]), limit=3)
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    first_page = client.get(f"{LIST}?limit=200", headers=bearer(world.acme.tokens["read"])).json()
    assert first_page["next_cursor"] is None
    assert [item["id"] for item in first_page["data"]] == ids


def test_rows_inserted_while_paging_do_not_shift_pages(client: TestClient, world: World, engine: Any) -> None:
    import random
    from datetime import UTC, datetime

    from tests.factories import conversation, insert_all

    headers = bearer(world.acme.tokens["read"])
    first = client.get(f"{LIST}?limit=5", headers=headers).json()
    rng = random.Random(9)
    insert_all(engine, world.acme, [conversation(rng, datetime.now(UTC), None) for _ in range(3)])
    rest: list[dict[str, Any]] = []
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(f"{LIST}?limit=5&cursor={cursor}", headers=headers).json()
        rest.extend(page["data"])
        cursor = page["next_cursor"]
    seen = [item["id"] for item in first["data"] + rest]
    assert len(seen) == len(set(seen))
    assert len(seen) == len(walk(client, headers)) - 3  # everything that existed at the start, once


# What the README promises a list item holds, with and without read_sensitive.
SAFE_KEYS = {
    "id", "created_at", "channel", "direction", "status", "agent", "agent_number", "duration_seconds",
    "has_recording", "url", "external_id", "ended_reason", "sentiment", "successful",
}  # fmt: skip
SENSITIVE_KEYS = {"user_id", "caller_name", "summary", "participants", "recording_url"}


def test_safe_subset_without_read_sensitive(client: TestClient, world: World) -> None:
    item = client.get(LIST, headers=bearer(world.acme.tokens["read"])).json()["data"][0]
    assert set(item) == SAFE_KEYS


def test_sensitive_fields_with_read_sensitive(client: TestClient, world: World) -> None:
    item = client.get(LIST, headers=bearer(world.acme.tokens["sensitive"])).json()["data"][0]
    assert set(item) == SAFE_KEYS | SENSITIVE_KEYS


def test_item_shape(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["sensitive"]))
    with_agent = next(item for item in items if item["agent"])
    assert with_agent["agent"]["name"] in ("Billing Assistant", "Appointment Scheduler")
    assert with_agent["agent"]["version"] == 2
    assert with_agent["created_at"].endswith("Z")
    assert with_agent["url"].endswith(f"/conversations/{with_agent['id']}")
    assert any(item["agent"] is None for item in items)
    recorded = [item for item in items if item["has_recording"]]
    assert recorded and all(item["recording_url"].endswith("/recording") for item in recorded)
    assert all(item["recording_url"] is None for item in items if not item["has_recording"])
    email = [item for item in items if item["channel"] == "email" and item["participants"]]
    assert email and all("@" in p for item in email for p in item["participants"])


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ("channel=email", lambda i: i["channel"] == "email"),
        ("channel=email&channel=text", lambda i: i["channel"] in ("email", "text")),
        ("direction=outbound", lambda i: i["direction"] == "outbound"),
        ("status=failed&status=busy", lambda i: i["status"] in ("failed", "busy")),
        ("min_duration=100&max_duration=200", lambda i: 100 <= (i["duration_seconds"] or -1) <= 200),
        ("has_recording=true", lambda i: i["has_recording"]),
        ("has_recording=false", lambda i: not i["has_recording"]),
        ("created_after=2026-11-01T11:50:00Z", lambda i: i["created_at"] >= "2026-11-01T11:50:00"),
        ("created_before=2026-11-01T11:50:00%2B00:00", lambda i: i["created_at"] < "2026-11-01T11:50:00"),
        ("user_id=guest_000005", lambda i: i["user_id"] == "guest_000005"),
    ],
)
def test_filters_narrow_the_list(client: TestClient, world: World, params: str, check: Any) -> None:
    headers = bearer(world.acme.tokens["sensitive"])
    everything = walk(client, headers)
    filtered = walk(client, headers, params, limit=4)
    assert filtered, params
    assert all(check(item) for item in filtered)
    assert [i["id"] for i in filtered] == [i["id"] for i in everything if check(i)]


def test_agent_filter(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    agent = world.acme.agent_ids[0]
    items = walk(client, headers, f"agent_id={agent}")
    assert items and all(item["agent"]["id"] == str(agent) for item in items)
    both = walk(client, headers, f"agent_id={agent}&agent_id={world.acme.agent_ids[1]}")
    assert len(both) > len(items)


def test_another_orgs_agent_yields_nothing(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["read"]), f"agent_id={world.globex.agent_ids[0]}")
    assert items == []


def test_full_text_search_finds_words_and_marks_them(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["sensitive"]), "q=refunds")  # stemmed: refund
    assert items
    for item in items:
        hits = [part["text"].lower() for part in item["match"]["parts"] if part["hit"]]
        assert any(hit.startswith("refund") for hit in hits)


def test_search_finds_the_last_digits_of_a_number(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["sensitive"]), "q=9000012")
    assert [item["user_id"] for item in items] == ["+442079000012"]
    parts = items[0]["match"]["parts"]
    assert items[0]["match"]["field"] == "user_id"
    assert [p["text"] for p in parts if p["hit"]] == ["9000012"]


def test_search_finds_email_participants(client: TestClient, world: World) -> None:
    items = walk(client, bearer(world.acme.tokens["sensitive"]), "q=cc6@example")
    assert [item["participants"] for item in items] == [["cc6@example.com"]]


def test_search_with_no_match_is_empty_not_an_error(client: TestClient, world: World) -> None:
    response = client.get(f"{LIST}?q=zyzzyva", headers=bearer(world.acme.tokens["sensitive"]))
    assert response.status_code == 200
    assert response.json() == {"data": [], "next_cursor": None}


def test_search_is_scoped_to_the_org(client: TestClient, world: World, engine: Any) -> None:
    import random

    from tests.factories import BASE_TIME, conversation, insert_all

    # A word in both orgs: each finds only its own rows.
    acme = walk(client, bearer(world.acme.tokens["sensitive"]), "q=refund")
    globex = walk(client, bearer(world.globex.tokens["sensitive"]), "q=refund")
    assert acme and globex
    assert {item["id"] for item in acme} <= {str(i) for i in world.acme.conversation_ids}
    assert {item["id"] for item in globex} <= {str(i) for i in world.globex.conversation_ids}
    # A word in one org only: found there, absent from the other.
    item = conversation(random.Random(5), BASE_TIME, None, summary="The caller asked about an aardvark.")
    insert_all(engine, world.acme, [item])
    assert [i["id"] for i in walk(client, bearer(world.acme.tokens["sensitive"]), "q=aardvark")] == [
        str(item.id)
    ]
    assert walk(client, bearer(world.globex.tokens["sensitive"]), "q=aardvark") == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ("channel=fax", "channel"),
        ("status=done", "status"),
        ("direction=sideways", "direction"),
        ("created_after=yesterday", "created_after"),
        ("created_after=2026-11-01T00:00:00", "created_after"),
        ("created_after=2026-11-02T00:00:00Z&created_before=2026-11-01T00:00:00Z", "created_after"),
        ("limit=0", "limit"),
        ("limit=1000", "limit"),
        ("limit=ten", "limit"),
        ("min_duration=10&max_duration=5", "min_duration"),
        ("min_duration=-1", "min_duration"),
        ("q=" + "a" * 501, "q"),
        ("q=%20%20", "q"),
        ("q=%2B", "q"),
        ("q=ref%00und", "q"),
        ("user_id=%2B1%00", "user_id"),
        ("agent_id=abc", "agent_id"),
        ("has_recording=maybe", "has_recording"),
        ("page=2", "page"),
        ("offset=10", "offset"),
        ("cursor=" + "x" * 600, "cursor"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(
    client: TestClient, world: World, params: str, parameter: str
) -> None:
    response = client.get(f"{LIST}?{params}", headers=bearer(world.acme.tokens["sensitive"]))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 400 and body["title"] and body["type"]
    assert parameter in body["detail"]


@pytest.mark.parametrize("cursor", ["garbage", "a.b", "eyJ2IjoxfQ.AAAA", "..", "%00"])
def test_malformed_cursor_is_400(client: TestClient, world: World, cursor: str) -> None:
    response = client.get(f"{LIST}?cursor={cursor}", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 400
    assert "cursor" in response.json()["detail"]


def _second_cursor(client: TestClient, headers: dict[str, str], params: str = "") -> str:
    cursor = client.get(f"{LIST}?limit=2&{params}", headers=headers).json()["next_cursor"]
    assert cursor
    return str(cursor)


def test_tampered_cursor_is_400(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    cursor = _second_cursor(client, headers)
    body, signature = cursor.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    response = client.get(f"{LIST}?cursor={flipped}.{signature}", headers=headers)
    assert response.status_code == 400


def test_cursor_from_another_org_is_400(client: TestClient, world: World) -> None:
    cursor = _second_cursor(client, bearer(world.globex.tokens["read"]))
    response = client.get(f"{LIST}?cursor={cursor}", headers=bearer(world.acme.tokens["read"]))
    assert response.status_code == 400
    assert "does not match" in response.json()["detail"]


def test_cursor_replayed_with_other_filters_is_400(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    cursor = _second_cursor(client, headers, "channel=telephone")
    response = client.get(f"{LIST}?cursor={cursor}&channel=email", headers=headers)
    assert response.status_code == 400
    assert "does not match" in response.json()["detail"]
    same = client.get(f"{LIST}?cursor={cursor}&channel=telephone", headers=headers)
    assert same.status_code == 200


def test_cursor_survives_a_restart(client: TestClient, world: World, settings: Any, engine: Any) -> None:
    from parley.app import create_app

    headers = bearer(world.acme.tokens["read"])
    cursor = _second_cursor(client, headers)
    with TestClient(create_app(settings, engine)) as restarted:
        assert restarted.get(f"{LIST}?cursor={cursor}", headers=headers).status_code == 200


def _search(client: TestClient, token: str, q: str) -> list[dict[str, Any]]:
    response = client.get(f"{LIST}?q={q}", headers=bearer(token))
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_snippet_shows_words_around_a_hit_deep_in_a_transcript(
    client: TestClient, world: World, engine: Any
) -> None:
    import random

    from parley.ingest.records import Turn
    from tests.factories import BASE_TIME, conversation, insert_all

    filler = " ".join(f"word{n}" for n in range(60))
    turns = (
        Turn("agent", f"Hello. {filler}.", 0),
        Turn("caller", "My gizmo was Overcharged twice, and again later", 4000),
        Turn("agent", f"Sorry. {filler}.", 8000),
    )
    item = conversation(random.Random(7), BASE_TIME, None, summary="About a gadget.", turns=turns)
    insert_all(engine, world.acme, [item])
    [found] = _search(client, world.acme.tokens["sensitive"], "overcharge")
    match = found["match"]
    assert match["field"] == "transcript"
    text = "".join(part["text"] for part in match["parts"])
    hits = [part["text"] for part in match["parts"] if part["hit"]]
    assert hits == ["Overcharged"]  # stemmed, in its own case
    assert text.startswith("…") and text.endswith("…")  # cut on both sides of a long transcript
    assert "gizmo was Overcharged twice" in text
    assert len(text.split()) <= 14  # about a dozen words, not the whole transcript


def test_snippet_prefers_the_summary_and_marks_every_hit_in_it(
    client: TestClient, world: World, engine: Any
) -> None:
    import random

    from tests.factories import BASE_TIME, conversation, insert_all

    item = conversation(
        random.Random(8), BASE_TIME, None, summary="Wombat food: the wombats wanted more wombat food."
    )
    insert_all(engine, world.acme, [item])
    [found] = _search(client, world.acme.tokens["sensitive"], "wombat")
    match = found["match"]
    assert match["field"] == "summary"
    assert "".join(part["text"] for part in match["parts"]) == item.summary  # short: shown whole
    assert [part["text"] for part in match["parts"] if part["hit"]] == ["Wombat", "wombats", "wombat"]


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_walks_for_common_words_and_asks_the_index_for_rare_ones(
    client: TestClient, world: World, engine: Any
) -> None:
    """On PostgreSQL a search walks the newest rows when its words are common and reads the GIN
    index first when they are rare; both ways must give the same pages."""
    assert engine.dialect.name == "postgresql"
    from parley.conversations.search import common_words
    from parley.conversations.terms import SearchTerms
    from parley.db.engine import build_engine
    from tests.conftest import owner_url

    token = world.acme.tokens["sensitive"]
    before = walk(client, bearer(token), "q=refund", limit=3)  # no statistics yet: the index way
    with engine.begin() as connection:
        assert not common_words(connection, SearchTerms.parse("refund"), world.acme.id)
    owner = build_engine(owner_url(str(engine.url.render_as_string(hide_password=False))))
    with owner.begin() as connection:  # only the table's owner may ANALYZE it
        connection.exec_driver_sql("ANALYZE conversation_text")
    owner.dispose()
    with engine.begin() as connection:
        assert common_words(connection, SearchTerms.parse("refund"), world.acme.id)  # in every summary
        assert not common_words(connection, SearchTerms.parse("zebrafish"), world.acme.id)
    after = walk(client, bearer(token), "q=refund", limit=3)  # the walk
    assert before and [i["id"] for i in after] == [i["id"] for i in before]
    assert walk(client, bearer(token), "q=zebrafish") == []
    everything = walk(client, bearer(token))
    assert len(before) == len([i for i in everything if "refund" in (i["summary"] or "").lower()])


def test_agent_version_narrows_an_agent_to_one_version(client: TestClient, world: World) -> None:
    headers = bearer(world.acme.tokens["read"])
    agent = world.acme.agent_ids[0]
    everything = walk(client, headers, f"agent_id={agent}")
    assert everything and all(item["agent"]["version"] == 2 for item in everything)  # the factory's
    assert walk(client, headers, f"agent_id={agent}&agent_version=2") == everything
    assert walk(client, headers, f"agent_id={agent}&agent_version=1") == []
    refused = client.get(f"{LIST}?agent_version=2", headers=headers)
    assert refused.status_code == 400
    assert refused.json()["parameter"] == "agent_version"
