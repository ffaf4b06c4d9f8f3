"""Every provider's signature, checked against what its SDK computes: a good one is taken, a
missing, wrong or stale one is 401 problem+json and writes nothing."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from parley import errors
from parley.config import Settings
from parley.ingest.hooks import Scheme, create_hook, revoke_hook
from tests.api.test_error_shape import assert_problem
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.helpers import count
from tests.hooks.senders import (
    FORM,
    JSON,
    TWILIO_TOKEN,
    VAPI_SECRET,
    Sender,
    elevenlabs_headers,
    retell_headers,
    twilio_headers,
    vapi_headers,
)

RETELL = payloads.retell(payloads.Story("call_sig_retell"))[0]
VAPI = payloads.vapi(payloads.Story("5d1c9f0e-vapi"))[1]
ELEVEN = payloads.elevenlabs(payloads.Story("conv_sig_eleven"))[0]
TWILIO = payloads.twilio(payloads.Story("CA0000000000000000000000000000sig1"))[0]


def now_ms() -> int:  # at the moment of signing: modules are imported long before their tests run
    return int(time.time() * 1000)


def _nothing_written(engine: Engine) -> None:
    assert count(engine, "conversations") == 0
    assert count(engine, "hook_deliveries") == 0


def _refused(response: object, engine: Engine) -> None:
    assert response.status_code == 401, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert_problem(response.json(), 401, errors.UNAUTHORIZED, None)  # type: ignore[attr-defined]
    _nothing_written(engine)


@pytest.mark.parametrize(
    ("provider", "payload", "headers"),
    [
        ("retell", RETELL, lambda p: retell_headers(p)),
        ("vapi", VAPI, lambda p: vapi_headers(p)),
        ("elevenlabs", ELEVEN, lambda p: elevenlabs_headers(p)),
    ],
)
def test_json_providers(
    client: TestClient, engine: Engine, sender: Sender, provider: str, payload: bytes, headers: object
) -> None:
    path = sender.path(provider)
    signed = headers(payload)  # type: ignore[operator]
    _refused(client.post(path, content=payload, headers=JSON), engine)  # no signature
    tampered = payload.replace(payloads.CALLER.encode(), b"+14155559999")
    _refused(client.post(path, content=tampered, headers=signed), engine)  # signed another body
    other = {"retell": retell_headers, "vapi": vapi_headers, "elevenlabs": elevenlabs_headers}[provider]
    _refused(client.post(path, content=payload, headers=other(payload, "not-the-secret")), engine)
    response = client.post(path, content=payload, headers=signed)
    assert response.status_code == 200, response.text
    assert count(engine, "conversations") == 1


@pytest.mark.parametrize(
    ("provider", "payload", "stale"),
    [
        ("retell", RETELL, lambda p: retell_headers(p, at_ms=now_ms() - 6 * 60_000)),
        ("retell", RETELL, lambda p: retell_headers(p, at_ms=now_ms() + 6 * 60_000)),
        ("vapi", VAPI, lambda p: vapi_headers(p, at_ms=now_ms() - 6 * 60_000)),
        ("vapi", VAPI, lambda p: vapi_headers(p, at_ms=(now_ms() - 6 * 60_000) // 1000)),  # in seconds
        ("elevenlabs", ELEVEN, lambda p: elevenlabs_headers(p, at=now_ms() // 1000 - 31 * 60)),
    ],
)
def test_a_stale_timestamp_is_refused(
    client: TestClient, engine: Engine, sender: Sender, provider: str, payload: bytes, stale: object
) -> None:
    _refused(client.post(sender.path(provider), content=payload, headers=stale(payload)), engine)  # type: ignore[operator]


def test_timestamps_within_the_tolerance_are_taken(
    client: TestClient, engine: Engine, sender: Sender
) -> None:
    assert (
        client.post(
            sender.path("retell"), content=RETELL, headers=retell_headers(RETELL, at_ms=now_ms() - 4 * 60_000)
        ).status_code
        == 200
    )
    stamp = now_ms() // 1000 - 60  # Vapi's timestamp in seconds works too
    assert (
        client.post(sender.path("vapi"), content=VAPI, headers=vapi_headers(VAPI, at_ms=stamp)).status_code
        == 200
    )
    assert count(engine, "conversations") == 2


def test_twilio_form_signature(client: TestClient, engine: Engine, sender: Sender) -> None:
    path = sender.path("twilio")
    url = f"http://testserver{path}"
    body = urlencode(TWILIO)
    _refused(client.post(path, content=body, headers=FORM), engine)
    _refused(
        client.post(path, content=body, headers=twilio_headers("https://elsewhere.example/hook", TWILIO)),
        engine,
    )
    changed = {**TWILIO, "CallStatus": "completed"}
    _refused(client.post(path, content=urlencode(changed), headers=twilio_headers(url, TWILIO)), engine)
    _refused(client.post(path, content=body, headers=twilio_headers(url, TWILIO, token="f" * 32)), engine)
    response = client.post(path, content=body, headers=twilio_headers(url, TWILIO))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    assert response.text.endswith("<Response/>")


def test_twilio_sha256_shared_key(client: TestClient, engine: Engine, sender: Sender) -> None:
    path = sender.path("twilio")
    url = f"http://testserver{path}"
    headers = twilio_headers(url, TWILIO, algorithm="HMAC_SHA256")
    assert client.post(path, content=urlencode(TWILIO), headers=headers).status_code == 200
    sha1 = twilio_headers(url, TWILIO)["X-Twilio-Signature"]
    wrong = {**headers, "X-Twilio-Signature": sha1}  # a SHA-1 signature under SHA-256 settings
    assert client.post(path, content=urlencode(TWILIO), headers=wrong).status_code == 401


def test_twilio_json_body_is_signed_through_its_hash(
    client: TestClient, engine: Engine, sender: Sender
) -> None:
    from twilio.request_validator import RequestValidator

    content = payloads.body(TWILIO)
    digest = hashlib.sha256(content).hexdigest()
    path = f"{sender.path('twilio')}?bodySHA256={digest}"
    url = f"http://testserver{path}"
    validator = RequestValidator(TWILIO_TOKEN)
    signature = validator.compute_signature(url, {})
    assert validator.validate(url, content.decode(), signature)  # the SDK's JSON check
    headers = {**JSON, "X-Twilio-Signature": signature}
    _refused(client.post(path, content=content.replace(b"initiated", b"completed"), headers=headers), engine)
    assert client.post(path, content=content, headers=headers).status_code == 200
    assert count(engine, "conversations") == 1


def test_vapi_secret_header_scheme(
    client: TestClient, engine: Engine, settings: Settings, acme: OrgFixture
) -> None:
    assert settings.secret_key
    with engine.begin() as conn:
        hook_id = create_hook(conn, acme.id, "vapi", VAPI_SECRET, settings.secret_key, Scheme.SECRET)
        stored = conn.exec_driver_sql("SELECT secret FROM hooks").scalar_one()
    assert stored == "sha256:" + hashlib.sha256(VAPI_SECRET.encode()).hexdigest()  # only the hash
    path = f"/hooks/vapi/{hook_id}"
    _refused(client.post(path, content=VAPI, headers={**JSON, "x-vapi-secret": "guess"}), engine)
    _refused(
        client.post(path, content=VAPI, headers=vapi_headers(VAPI)), engine
    )  # HMAC is not this hook's scheme
    assert client.post(path, content=VAPI, headers={**JSON, "x-vapi-secret": VAPI_SECRET}).status_code == 200


@pytest.mark.parametrize("provider", ["retell", "twilio"])
def test_unknown_revoked_and_mismatched_hooks_are_404(
    client: TestClient, engine: Engine, sender: Sender, provider: str
) -> None:
    payload = RETELL if provider == "retell" else urlencode(TWILIO).encode()
    headers = retell_headers(RETELL) if provider == "retell" else FORM
    for path in (
        f"/hooks/{provider}/hk_nothing",
        f"/hooks/nobody/{sender.hooks[provider]}",
        f"/hooks/{'vapi' if provider == 'retell' else 'retell'}/{sender.hooks[provider]}",
    ):
        response = client.post(path, content=payload, headers=headers)
        assert response.status_code == 404, (path, response.text)
        assert_problem(response.json(), 404, errors.NOT_FOUND, None)
    with engine.begin() as conn:
        revoke_hook(conn, sender.hooks[provider])
    response = client.post(sender.path(provider), content=payload, headers=headers)
    assert response.status_code == 404
    _nothing_written(engine)


@pytest.mark.parametrize(
    ("payload", "parameter"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"event": "call_started"}', "call"),
        (b'{"event": "call_started", "call": {"agent_id": "a"}}', "call.call_id"),
        (b'{"event": "call_started", "call": {"call_id": 7, "agent_id": "a"}}', "call.call_id"),
        (
            b'{"event": "call_ended", "call": {"call_id": "c", "agent_id": "a", "start_timestamp": "soon"}}',
            "call.start_timestamp",
        ),
        (
            b'{"event": "call_ended", "call": {"call_id": "c", "agent_id": "a", "transcript_object": [1]}}',
            "call.transcript_object[0]",
        ),
    ],
)
def test_a_signed_but_malformed_body_is_400(
    client: TestClient, engine: Engine, sender: Sender, payload: bytes, parameter: str | None
) -> None:
    response = client.post(sender.path("retell"), content=payload, headers=retell_headers(payload))
    assert response.status_code == 400, response.text
    kind = errors.INVALID_PARAMETER if parameter else errors.BAD_REQUEST
    assert_problem(response.json(), 400, kind, parameter)
    _nothing_written(engine)


def test_a_kind_of_message_not_stored_is_acknowledged(
    client: TestClient, engine: Engine, sender: Sender
) -> None:
    tool = payloads.body({"message": {"type": "tool-calls", "toolCallList": []}})
    assert client.post(sender.path("vapi"), content=tool, headers=vapi_headers(tool)).status_code == 200
    transfer = payloads.body({"event": "transfer_started", "call": {"call_id": "c1"}})
    assert (
        client.post(sender.path("retell"), content=transfer, headers=retell_headers(transfer)).status_code
        == 200
    )
    _nothing_written(engine)


def test_a_body_larger_than_allowed_is_413(
    client: TestClient, engine: Engine, sender: Sender, settings: Settings
) -> None:
    from parley.api.hooks import body_limit

    big = b'{"event": "call_started", "call": {"pad": "' + b"x" * body_limit(settings) + b'"}}'
    response = client.post(sender.path("retell"), content=big, headers=JSON)
    assert response.status_code == 413
    assert_problem(response.json(), 413, errors.PAYLOAD_TOO_LARGE, None)
    _nothing_written(engine)


def test_twilio_is_checked_against_the_public_url(engine: Engine, settings: Settings, sender: Sender) -> None:
    """Behind a proxy the request's own URL is not the one Twilio signed: PARLEY_PUBLIC_URL is."""
    from parley.app import create_app

    public = settings.model_copy(update={"public_url": "https://inbox.example.com/"})
    path = sender.path("twilio")
    with TestClient(create_app(public, engine)) as client:
        local = twilio_headers(f"http://testserver{path}", TWILIO)
        _refused(client.post(path, content=urlencode(TWILIO), headers=local), engine)
        signed = twilio_headers(f"https://inbox.example.com{path}", TWILIO)
        assert client.post(path, content=urlencode(TWILIO), headers=signed).status_code == 200
        with_port = twilio_headers(f"https://inbox.example.com:443{path}", TWILIO)  # Twilio may sign either
        assert client.post(path, content=urlencode(TWILIO), headers=with_port).status_code == 200
