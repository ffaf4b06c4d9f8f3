"""Hypothesis: a provider's real payload with any one field replaced by any JSON value, signed
correctly, is taken (200) or refused as bad input (400 or 413, problem+json); never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hooks import payloads
from tests.hooks.senders import Sender, elevenlabs_headers, retell_headers, twilio_headers, vapi_headers

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["", "\x00", "2026-13-40T99:00:00Z", "user", "agent", "ended", "completed", "9" * 300]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
SIGN = {"retell": retell_headers, "vapi": vapi_headers, "elevenlabs": elevenlabs_headers}
STORY = payloads.Story("call_fuzz", recording_url="http://127.0.0.1:9/x.wav")
SAMPLES: dict[str, list[Any]] = {
    "retell": [orjson.loads(b) for b in payloads.retell(STORY)],
    "vapi": [orjson.loads(b) for b in payloads.vapi(STORY)],
    "elevenlabs": [orjson.loads(b) for b in payloads.elevenlabs(STORY)],
    "twilio": [
        *payloads.twilio(STORY),
        payloads.sms("SMfuzz", "hi"),
        payloads.sms("SMfuzz2", "", inbound=False),
    ],
}


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            yield from paths(child, (*prefix, n))


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


@pytest.mark.parametrize("provider", sorted(SAMPLES))
def test_any_field_of_any_value_is_never_a_server_error(
    client: TestClient, sender: Sender, provider: str
) -> None:
    failing = TestClient(client.app, raise_server_exceptions=False)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        sample = data.draw(st.sampled_from(SAMPLES[provider]), label="sample")
        path = data.draw(st.sampled_from(list(paths(sample))), label="path")
        if provider == "twilio":  # form fields are strings
            new = data.draw(
                st.text(max_size=40) | st.sampled_from(["", "completed", "Mon, 99 Foo 2026"]), label="value"
            )
            params = {**sample, path[0]: new} if path else {}
            url = f"http://testserver{sender.path('twilio')}"
            response = failing.post(
                sender.path("twilio"), content=urlencode(params), headers=twilio_headers(url, params)
            )
        else:
            content = json.dumps(replaced(sample, path, data.draw(JSON_VALUES, label="value"))).encode()
            response = failing.post(sender.path(provider), content=content, headers=SIGN[provider](content))
        assert response.status_code in (200, 400, 413), response.text
        if response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json"

    check()
