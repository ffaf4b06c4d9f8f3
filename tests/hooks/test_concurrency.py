"""Deliveries arriving at the same moment: the first sight of a call, and the first text of a
pair, each make one conversation; twin deliveries apply once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import Engine

from parley.audit.trail import AuditTrail
from parley.config import Settings
from parley.ingest.providers.common import Inbound
from parley.ingest.receive import receive
from tests.factories import OrgFixture
from tests.hooks import payloads
from tests.hooks.helpers import count
from tests.hooks.senders import Sender, retell_headers, twilio_headers


def _at_once(
    settings: Settings, engine: Engine, sender: Sender, provider: str, requests: list[Inbound]
) -> None:
    assert settings.secret_key
    key, hook = settings.secret_key, sender.hooks[provider]
    audit = AuditTrail(engine)

    def one(inbound: Inbound) -> None:
        receive(
            engine,
            key,
            settings.recordings_dir,
            settings.max_recording_bytes,
            provider,
            hook,
            inbound,
            audit,
            None,
        )

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        for future in [pool.submit(one, inbound) for inbound in requests]:
            future.result()


def _headers(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def test_a_call_first_heard_of_by_several_deliveries_at_once(
    engine: Engine, settings: Settings, acme: OrgFixture, sender: Sender
) -> None:
    bodies = payloads.retell(payloads.Story("call_race"))
    bodies = bodies + bodies[3:]  # twins of call_ended and call_analyzed among them
    url = f"http://testserver{sender.path('retell')}"
    now = datetime.now(UTC)
    _at_once(
        settings,
        engine,
        sender,
        "retell",
        [Inbound(url, _headers(retell_headers(b)), b, now) for b in bodies],
    )
    assert count(engine, "conversations") == 1
    assert count(engine, "hook_deliveries") == 5


def test_first_texts_of_a_pair_at_once(
    engine: Engine, settings: Settings, acme: OrgFixture, sender: Sender
) -> None:
    url = f"http://testserver{sender.path('twilio')}"
    now = datetime.now(UTC)
    requests = []
    for n in range(6):
        params = payloads.sms(f"SM{n:03d}", f"message {n}")
        requests.append(Inbound(url, _headers(twilio_headers(url, params)), urlencode(params).encode(), now))
    _at_once(settings, engine, sender, "twilio", requests)
    assert count(engine, "conversations") == 1
    assert count(engine, "transcript_turns") == 6
