"""How a simulated conversation's analysis reads at its end: why it ended, how it felt, whether
it did its job. The seeder leaves these empty; a provider's post-call analysis fills them, so the
simulator does too, drawn per outcome and channel from its own random generator."""

from __future__ import annotations

import random
from typing import Any

from parley.conversations.enums import Channel, Status

# Provider-style reasons (lower-case, hyphenated, as voice platforms report them), per outcome,
# for a voice call and for a written thread.
_REASONS: dict[tuple[str, bool], tuple[str, ...]] = {
    (Status.COMPLETED, True): ("customer-ended-call", "customer-ended-call", "assistant-ended-call"),
    (Status.COMPLETED, False): ("resolved", "resolved", "customer-stopped-replying"),
    (Status.TRANSFERRED, True): ("assistant-forwarded-call",),
    (Status.TRANSFERRED, False): ("handed-off-to-human",),
    (Status.FAILED, True): ("pipeline-error", "carrier-error", "call-dropped"),
    (Status.FAILED, False): ("delivery-failed",),
    (Status.NO_ANSWER, True): ("customer-did-not-answer",),
    (Status.BUSY, True): ("customer-busy",),
    (Status.CANCELED, True): ("customer-hung-up-before-answer",),
    (Status.CANCELED, False): ("canceled-before-reply",),
    (Status.VOICEMAIL, True): ("voicemail",),
}
# (positive, neutral, negative) weights; no sentiment where nobody spoke.
_SENTIMENT: dict[str, tuple[float, float, float]] = {
    Status.COMPLETED: (62, 30, 8),
    Status.TRANSFERRED: (15, 45, 40),
    Status.FAILED: (5, 35, 60),
    Status.VOICEMAIL: (0, 100, 0),
}
# Share judged successful: a completed conversation mostly did what it was for.
_SUCCESS: dict[str, float] = {Status.COMPLETED: 0.9, Status.TRANSFERRED: 0.3, Status.VOICEMAIL: 0.5}
# Set at creation, so simulated rows can be told from real ones.
TAG = "simulated"


def analysis(
    rng: random.Random, channel: str, outcome: str, spoke: bool, summary: str | None
) -> dict[str, Any]:
    """The fields the final update sets besides status and times."""
    voice = channel in (Channel.TELEPHONE, Channel.WEBRTC)
    reasons = _REASONS.get((outcome, voice)) or _REASONS.get((outcome, True), ("ended",))
    sentiment = None
    if spoke and outcome in _SENTIMENT:
        sentiment = rng.choices(("positive", "neutral", "negative"), weights=_SENTIMENT[outcome])[0]
    fields: dict[str, Any] = {
        "ended_reason": rng.choice(reasons),
        "sentiment": sentiment,
        "successful": rng.random() < _SUCCESS.get(outcome, 0.0),
    }
    if summary is not None:
        fields["summary"] = summary
    return fields
