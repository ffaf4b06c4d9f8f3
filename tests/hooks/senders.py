"""Signing test deliveries the way each provider does, with the providers' own SDKs where they
have a helper: Retell's ``sign`` (checked back with ``Retell.verify``), Twilio's
``RequestValidator`` and ElevenLabs' ``construct_event`` (which accepts our header before the
app ever sees it). Vapi has no signing helper in an SDK; its documented HMAC defaults are used."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx2
from elevenlabs.client import ElevenLabs
from fastapi.testclient import TestClient
from retell import Retell
from retell.lib.webhook_auth import symmetric
from sqlalchemy import Engine
from twilio.request_validator import RequestValidator

from parley.ingest.hooks import Scheme, create_hook

RETELL_KEY = "key_0f4c2a9e8b7d6c5b4a3921"
VAPI_SECRET = "vapi-shared-secret-for-tests"
ELEVENLABS_SECRET = "wsec_8f1e2d3c4b5a69788796a5b4c3d2e1f0"
TWILIO_TOKEN = "0123456789abcdef0123456789abcdef"
SECRETS = {"retell": RETELL_KEY, "vapi": VAPI_SECRET, "elevenlabs": ELEVENLABS_SECRET, "twilio": TWILIO_TOKEN}
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def make_hooks(engine: Engine, org_id: int, instance_key: str) -> dict[str, str]:
    with engine.begin() as conn:
        return {
            provider: create_hook(conn, org_id, provider, secret, instance_key, Scheme.HMAC)
            for provider, secret in SECRETS.items()
        }


def retell_headers(payload: bytes, key: str = RETELL_KEY, at_ms: int | None = None) -> dict[str, str]:
    signature = symmetric["sign"](payload.decode(), key, at_ms)
    if at_ms is None:
        assert Retell(api_key=key).verify(payload.decode(), key, signature)
    return {**JSON, "x-retell-signature": signature}


def elevenlabs_headers(
    payload: bytes, secret: str = ELEVENLABS_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    header = f"t={stamp},v0={digest}"
    if at is None:  # the SDK accepts what we send
        ElevenLabs(api_key="unused").webhooks.construct_event(payload.decode(), header, secret)
    return {**JSON, "ElevenLabs-Signature": header}


def vapi_headers(payload: bytes, secret: str = VAPI_SECRET, at_ms: int | None = None) -> dict[str, str]:
    stamp = str(at_ms if at_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return {**JSON, "x-signature": digest, "x-timestamp": stamp}


def twilio_headers(
    url: str, params: Mapping[str, str], token: str = TWILIO_TOKEN, algorithm: str | None = None
) -> dict[str, str]:
    validator = RequestValidator(token)
    signature = validator.compute_signature(url, dict(params), algorithm)
    assert validator.validate(url, dict(params), signature, algorithm)
    headers = {**FORM, "X-Twilio-Signature": signature}
    if algorithm:
        headers["X-Twilio-Webhooks-Signature-Settings"] = f"key=webhooks_sharedkey_test,algorithm={algorithm}"
    return headers


@dataclass
class Sender:
    """Posts deliveries to the real app, signed for the hook of each provider."""

    client: TestClient
    hooks: dict[str, str]

    def path(self, provider: str) -> str:
        return f"/hooks/{provider}/{self.hooks[provider]}"

    def send(self, provider: str, item: Any) -> httpx2.Response:
        if provider == "twilio":
            url = f"http://testserver{self.path(provider)}"
            return self.client.post(
                self.path(provider), content=urlencode(item), headers=twilio_headers(url, item)
            )
        sign = {"retell": retell_headers, "vapi": vapi_headers, "elevenlabs": elevenlabs_headers}[provider]
        return self.client.post(self.path(provider), content=item, headers=sign(item))

    def deliver(self, provider: str, item: Any) -> None:
        response = self.send(provider, item)
        assert response.status_code == 200, response.text
