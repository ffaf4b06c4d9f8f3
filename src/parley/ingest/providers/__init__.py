"""The voice and messaging providers whose webhooks Parley takes, one module each: how a
request is verified, what its payload maps to, and its dedupe key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parley.ingest.providers import elevenlabs, retell, twilio, vapi
from parley.ingest.providers.common import Delivery, HookSecret, Inbound


@dataclass(frozen=True, slots=True)
class Adapter:
    name: str
    verify: Callable[[Inbound, HookSecret], None]
    parse: Callable[[Inbound], Delivery | None]
    # What the provider expects back: Twilio reads TwiML from every webhook answer, and an
    # empty <Response/> sends no reply text.
    ack: bytes = b'{"received": true}'
    ack_type: str = "application/json"


ADAPTERS: dict[str, Adapter] = {
    "retell": Adapter("retell", retell.verify, retell.parse),
    "vapi": Adapter("vapi", vapi.verify, vapi.parse),
    "elevenlabs": Adapter("elevenlabs", elevenlabs.verify, elevenlabs.parse),
    "twilio": Adapter(
        "twilio",
        twilio.verify,
        twilio.parse,
        ack=b'<?xml version="1.0" encoding="UTF-8"?><Response/>',
        ack_type="text/xml",
    ),
}
PROVIDERS = tuple(ADAPTERS)
