"""Schemathesis generates requests from the OpenAPI schema and runs every one of its checks (the
Python form of ``--checks all``) on each answer, schema-valid and schema-invalid requests alike:
nothing the schema allows may be refused, nothing it forbids accepted, no 500, every error
problem+json. Zero findings, on each database.

The live streams are left out: a request the schema allows opens a stream that never ends, which
the checks cannot read to the end (their refusals are covered by test_error_shape and test_input_edges).

What JSON Schema cannot say is told to the generator here, each rule once: a cursor is one the
API issued (a forged one is refused, which is the point of signing it), and an agent one the
org has, a created_at between 1970 and now, and an Idempotency-Key new for each request; created_after comes before
created_before, min_duration is at most max_duration and agent_version comes with agent_id; a date with an offset must still lie in
years 1 to 9999 in UTC; an uploaded recording's bytes are audio of the type it declares.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode, SerializationContext
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.schemas import OpenApiSchema

from parley.api.conversation_params import _timestamp
from parley.errors import BadRequest
from tests.api.conftest import World, bearer
from tests.factories import write_sample_wav

STREAMS = {"/core/conversations/live", "/core/conversations/{conversation_id}/live"}
# Per operation: about 40 s for the whole file on each database here.
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 10}


# What a file of each type starts with (``recordings.upload.sniff``).
MAGIC = {
    "audio/mpeg": b"ID3",
    "audio/ogg": b"OggS",
    "audio/webm": b"\x1a\x45\xdf\xa3",
    "audio/mp4": b"\0\0\0\x18ftyp",
}


@pytest.fixture(scope="module", autouse=True)
def audio_bodies(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Recording uploads carry real audio of the type they declare, whatever bytes were generated."""
    wav = write_sample_wav(tmp_path_factory.mktemp("audio") / "a.wav").read_bytes()

    def body_for(media_type: str) -> object:
        def serialize(_ctx: SerializationContext, value: object) -> bytes:
            rest = value if isinstance(value, bytes) else str(value).encode()
            return wav if media_type == "audio/wav" else MAGIC[media_type] + rest

        return serialize

    for media_type in ("audio/wav", *MAGIC):
        schemathesis.serializer(media_type)(body_for(media_type))  # type: ignore[arg-type]


def within_the_rules(case: Case) -> bool:
    """The rules between parameters, and of the calendar, that the schema cannot state."""
    query = dict(case.query or {})
    try:
        after = _timestamp("created_after", query.get("created_after"))
        before = _timestamp("created_before", query.get("created_before"))
    except BadRequest:
        return False
    low, high = query.get("min_duration"), query.get("max_duration")
    return not (
        (after and before and after >= before)
        or (low is not None and high is not None and low > high)
        or (query.get("agent_version") is not None and not query.get("agent_id"))
    )


def all_checks() -> list[object]:
    """Every check schemathesis has: what ``--checks all`` runs."""
    load_all_checks()
    return [check for check in CHECKS.get_all() if not isinstance(check, type)]


def operations(client: TestClient) -> list[tuple[str, str]]:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(path, method.upper()) for path, ops in paths.items() if path not in STREAMS for method in ops]


def test_the_fuzzed_operations_are_every_one_but_the_streams(client: TestClient) -> None:
    found = {path for path, _ in operations(client)}
    assert {
        "/core/conversations",
        "/core/conversations/count",
        "/core/conversations/export.csv",
        "/hooks/{provider}/{hook_id}",
        "/core/audit",
        "/readyz",
    } <= found
    assert len(operations(client)) == 14


def follow_the_rules(case: Case) -> None:
    """A positive case made to keep the rules the schema cannot state (see the module docstring)."""
    assume(within_the_rules(case))
    if case.query:
        case.query.pop("cursor", None)
    if isinstance(case.body, dict):
        for stateful in ("agent_id", "agent_external_id", "agent_version", "created_at"):
            case.body.pop(stateful, None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex


def fuzz(
    schema: OpenApiSchema, path: str, method: str, mode: GenerationMode, auth: dict[str, str]
) -> str | None:
    """Every check on the generated requests to one operation: the findings, or None."""
    checks = all_checks()

    @settings(
        max_examples=EXAMPLES[mode], deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    @given(case=schema[path][method].as_strategy(generation_mode=mode))
    def check(case: Case) -> None:
        if mode is GenerationMode.POSITIVE:
            follow_the_rules(case)
        case.headers = {**(case.headers or {}), **auth}
        case.validate_response(case.call(), checks=checks)  # type: ignore[arg-type]

    try:
        check()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # an operation whose schema forbids nothing it can send
    except Exception as exc:
        parts = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        return f"{method} {path} ({mode}): " + "\n".join(
            f"{type(e).__name__}: {str(e)[:1500]}" for e in parts
        )
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_generated_requests_meet_every_check(client: TestClient, world: World, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    tokens = world.acme.tokens
    findings = [
        fuzz(schema, path, method, mode, bearer(tokens["manage"] if method != "GET" else tokens["sensitive"]))
        for path, method in operations(client)
    ]
    assert not [f for f in findings if f], "\n\n".join(f for f in findings if f)
