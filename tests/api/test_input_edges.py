"""Input at the edges: org references that only look like ids, dates at the ends of the calendar,
repeated single-valued parameters. Each is a clear 4xx, decided before any response starts."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World, bearer

LIST = "/core/conversations"
EXPORT = "/core/conversations/export.csv"
LIVE = "/core/conversations/live"

# Look like numbers, are no org's id: other scripts' digits, past the column, negative, empty-ish.
FAKE_ORG_IDS = [
    "\u0661\u0662",
    "\uff11\uff12",
    "²",
    "99999999999999999999",
    "9223372036854775808",
    "2147483648",
    "-1",
    "0",
    "+1",
]


@pytest.mark.parametrize("ref", FAKE_ORG_IDS)
def test_an_org_header_that_only_looks_like_an_id_is_an_unknown_org(
    client: TestClient, world: World, ref: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get(
            LIST, headers={"Authorization": f"Bearer {world.analyst_pat}", "X-Anyreach-Org": ref.encode()}
        )
    unknown = client.get(LIST, headers=bearer(world.analyst_pat, "no-such-org"))
    assert response.status_code == unknown.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


EDGE_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01T00:30:00+00:31"]


@pytest.mark.parametrize("moment", EDGE_DATES)
@pytest.mark.parametrize("name", ["created_after", "created_before"])
@pytest.mark.parametrize("path", [LIST, EXPORT, LIVE])
def test_a_date_past_the_calendar_in_utc_is_refused_before_any_response_starts(
    client: TestClient, world: World, path: str, name: str, moment: str
) -> None:
    response = client.get(path, params={name: moment}, headers=bearer(world.acme.tokens["sensitive"]))
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == name
    assert "9999" in response.json()["detail"]


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00-01:00", "9999-12-31T23:59:59+01:00"]
)
def test_the_ends_of_the_calendar_that_exist_in_utc_are_accepted(
    client: TestClient, world: World, moment: str
) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    assert client.get(LIST, params={"created_after": moment}, headers=auth).status_code == 200
    with client.stream("GET", EXPORT, params={"created_before": moment}, headers=auth) as response:
        assert response.status_code == 200
        response.read()  # the whole file arrives: the stream does not abort


SINGLE_VALUED = {
    LIST: {
        "limit": "5",
        "cursor": "x",
        "direction": "inbound",
        "q": "refund",
        "user_id": "+15550100",
        "created_after": "2026-01-01T00:00:00Z",
        "created_before": "2027-01-01T00:00:00Z",
        "min_duration": "1",
        "max_duration": "9",
        "has_recording": "true",
        "successful": "true",
        "ended_reason": "customer-ended-call",
    },
    EXPORT: {"tz": "UTC", "direction": "outbound", "q": "refund", "created_after": "2026-01-01T00:00:00Z"},
    LIVE: {"direction": "inbound", "last_event_id": "1", "min_duration": "1"},
}


@pytest.mark.parametrize(
    ("path", "name", "value"),
    [(path, name, value) for path, params in SINGLE_VALUED.items() for name, value in params.items()],
)
def test_a_single_valued_parameter_given_twice_is_refused_by_name(
    client: TestClient, world: World, path: str, name: str, value: str
) -> None:
    response = client.get(
        path, params=[(name, value), (name, value)], headers=bearer(world.acme.tokens["sensitive"])
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["parameter"] == name
    assert "2 times" in response.json()["detail"]


def test_a_single_valued_parameter_given_twice_is_refused_on_detail_and_recording(
    client: TestClient, world: World
) -> None:
    auth = bearer(world.acme.tokens["sensitive"])
    some = client.get(LIST, headers=auth).json()["data"][0]["id"]
    response = client.get(f"{LIST}/{some}/recording", params=[("seq", "0"), ("seq", "0")], headers=auth)
    assert (response.status_code, response.json()["parameter"]) == (400, "seq")


@pytest.mark.parametrize("name", ["agent_id", "status", "channel", "sentiment", "tag"])
def test_repeatable_filters_still_take_several_values(client: TestClient, world: World, name: str) -> None:
    values = {
        "agent_id": ["1000", "1001"],
        "status": ["completed", "failed"],
        "channel": ["telephone", "email"],
        "sentiment": ["positive", "negative"],
        "tag": ["a", "b"],
    }[name]
    response = client.get(
        LIST, params=[(name, v) for v in values], headers=bearer(world.acme.tokens["sensitive"])
    )
    assert response.status_code == 200


def test_an_offset_beyond_what_postgresql_parses_still_filters_the_export(
    client: TestClient, world: World
) -> None:
    """+16:00 is valid RFC 3339 but beyond PostgreSQL's offsets; found by the schema fuzzer."""
    auth = bearer(world.acme.tokens["sensitive"])
    params = {"created_after": "2000-01-01T00:00:00+16:00"}
    listed = client.get(LIST, params={**params, "limit": 200}, headers=auth)
    assert listed.status_code == 200
    exported = client.get(EXPORT, params=params, headers=auth)
    assert exported.status_code == 200
    assert exported.text.count("\r\n") - 1 == len(listed.json()["data"])


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"tags": ["a\x00b"]}, "tags.0"),
        ({"summary": "x\x00"}, "summary"),
        ({"caller_name": "\x00"}, "caller_name"),
        ({"participants": [{"address": "a\x00@b.test"}]}, "participants.0.address"),
    ],
)
def test_a_nul_in_a_written_text_is_refused_by_name(
    client: TestClient, world: World, body: dict[str, object], parameter: str
) -> None:
    """Found by the schema fuzzer: PostgreSQL refuses NUL in text, and that was a 500."""
    response = client.post(
        LIST,
        json={"channel": "email", "direction": "inbound", **body},
        headers=bearer(world.acme.tokens["manage"]),
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == parameter
    assert response.json()["detail"] == f"{parameter} must not contain a NUL character."
