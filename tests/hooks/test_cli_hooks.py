"""parley hook create / list / revoke, through Typer's runner against a real database."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from parley.cli import app
from parley.db import tables
from parley.ingest.hooks import unseal
from tests.factories import OrgFixture

SECRET_KEY = "cli-instance-key"


def _run(
    database_url: str, *args: str, secret: str | None = None, public_url: str = "https://inbox.example.com"
) -> object:
    env = {
        "PARLEY_DATABASE_URL": database_url,
        "PARLEY_SECRET_KEY": SECRET_KEY,
        "PARLEY_PUBLIC_URL": public_url,
    }
    if secret is not None:
        env["PARLEY_HOOK_SECRET"] = secret
    return CliRunner().invoke(app, list(args), env=env)


def test_create_list_and_revoke(database_url: str, engine: Engine, acme: OrgFixture) -> None:
    created = _run(
        database_url, "hook", "create", "--org", "acme", "--provider", "retell", secret="key_retell_1"
    )
    assert created.exit_code == 0, created.output  # type: ignore[attr-defined]
    (url,) = created.stdout.strip().splitlines()  # type: ignore[attr-defined]
    assert url.startswith("https://inbox.example.com/hooks/retell/hk_")
    hook_id = url.rsplit("/", 1)[1]
    assert "webhook badge" in created.stderr  # type: ignore[attr-defined]
    with engine.connect() as conn:
        stored = conn.execute(select(tables.hooks.c.secret).where(tables.hooks.c.id == hook_id)).scalar_one()
    assert "key_retell_1" not in stored and stored.startswith("fernet:")
    assert unseal(stored, SECRET_KEY).plain == "key_retell_1"  # encrypted with the instance key

    vapi = _run(
        database_url, "hook", "create", "--org", "acme", "--provider", "vapi", "--vapi-auth", "secret"
    )
    assert vapi.exit_code == 0, vapi.output  # type: ignore[attr-defined]
    vapi_url, generated = vapi.stdout.strip().splitlines()  # type: ignore[attr-defined]
    with engine.connect() as conn:
        hashed = conn.execute(
            select(tables.hooks.c.secret).where(tables.hooks.c.id == vapi_url.rsplit("/", 1)[1])
        ).scalar_one()
    assert hashed == "sha256:" + hashlib.sha256(generated.encode()).hexdigest() and len(generated) >= 40

    listed = _run(database_url, "hook", "list", "--org", "acme")
    rows = [line.split("\t") for line in listed.stdout.strip().splitlines()]  # type: ignore[attr-defined]
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in rows] == [
        (hook_id, "acme", "retell", "hmac", "active"),
        (vapi_url.rsplit("/", 1)[1], "acme", "vapi", "secret", "active"),
    ]
    assert rows[0][6] == url

    revoked = _run(database_url, "hook", "revoke", hook_id)
    assert revoked.exit_code == 0
    again = _run(database_url, "hook", "revoke", hook_id)
    assert again.exit_code == 1 and "no active hook" in again.stderr  # type: ignore[attr-defined]
    rows = [line.split("\t") for line in _run(database_url, "hook", "list").stdout.strip().splitlines()]  # type: ignore[attr-defined]
    assert rows[0][5] != "active"


def test_mistakes_exit_1_and_store_nothing(database_url: str, engine: Engine, acme: OrgFixture) -> None:
    unknown_org = _run(database_url, "hook", "create", "--org", "nobody", "--provider", "twilio", secret="t")
    assert unknown_org.exit_code == 1 and "no org" in unknown_org.stderr  # type: ignore[attr-defined]
    no_secret = _run(database_url, "hook", "create", "--org", "acme", "--provider", "twilio")
    assert no_secret.exit_code == 1 and "PARLEY_HOOK_SECRET" in no_secret.stderr  # type: ignore[attr-defined]
    bad_provider = _run(database_url, "hook", "create", "--org", "acme", "--provider", "genesys", secret="t")
    assert bad_provider.exit_code == 2
    without_base = _run(
        database_url, "hook", "create", "--org", "acme", "--provider", "twilio", secret="tok", public_url=""
    )
    assert without_base.exit_code == 0 and without_base.stdout.startswith("/hooks/twilio/")  # type: ignore[attr-defined]
    assert "PARLEY_PUBLIC_URL is not set" in without_base.stderr  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert len(conn.execute(select(tables.hooks.c.id)).all()) == 1
