"""The parley command end to end through Typer's runner, against a real database."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from parley.auth.tokens import hash_secret
from parley.cli import app
from parley.db import tables
from tests.conftest import CHEAP_PASSWORDS


@pytest.fixture
def run(database_url: str, tmp_path: object) -> object:
    runner = CliRunner()

    def invoke(*args: str, password: str | None = None) -> object:
        env = {
            "PARLEY_DATABASE_URL": database_url,
            "PARLEY_RECORDINGS_DIR": str(tmp_path),
            **{f"PARLEY_{name.upper()}": str(value) for name, value in CHEAP_PASSWORDS.items()},
        }
        if password is not None:
            env["PARLEY_PASSWORD"] = password
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_db_upgrade_then_org_user_and_tokens(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    result = run("org", "create", "acme", "--name", "Acme Health")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "acme"
    result = run(
        "user", "create", "ana@acme.test", "--org", "acme", "--role", "analyst", password="long enough pw"
    )
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        [password_hash] = conn.execute(select(tables.users.c.password_hash)).scalars()
    assert "$m=32,t=1," in password_hash  # the cost PARLEY_PASSWORD_* chose

    key = run("token", "create", "--org", "acme", "--scope", "conversations:read")
    assert key.exit_code == 0
    secret = key.stdout.strip()
    assert secret.startswith("ak_") and "\n" not in secret and len(secret) > 30

    pat = run("token", "create", "--user", "ana@acme.test", "--scope", "conversations:read", "--scope",
              "conversations:read_sensitive")  # fmt: skip
    assert pat.exit_code == 0
    assert pat.stdout.strip().startswith("pat_")

    with engine.connect() as conn:
        stored = conn.execute(select(tables.api_tokens.c.token_hash, tables.api_tokens.c.scopes)).all()
    assert (hash_secret(secret), "conversations:read") in [tuple(row) for row in stored]
    assert all(secret not in str(row) for row in stored)  # only the hash is kept

    revoked = run("token", "revoke", secret[:12])
    assert revoked.exit_code == 0
    with engine.connect() as conn:
        row = conn.execute(
            select(tables.api_tokens.c.revoked_at).where(
                tables.api_tokens.c.token_hash == hash_secret(secret)
            )
        ).one()
    assert row.revoked_at is not None

    # Each token made or revoked is in the audit trail: the key in its org, the PAT in its user's.
    a = tables.audit_log
    with engine.connect() as conn:
        org_id = conn.execute(select(tables.orgs.c.id)).scalar_one()
        trail = conn.execute(
            select(a.c.org_id, a.c.action, a.c.target, a.c.credential).order_by(a.c.id)
        ).all()
    assert [tuple(r) for r in trail] == [
        (org_id, "token.created", secret[:12], "cli"),
        (org_id, "token.created", pat.stdout.strip()[:12], "cli"),
        (org_id, "token.revoked", secret[:12], "cli"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("token", "create", "--org", "nope", "--scope", "conversations:read"), "no org 'nope'"),
        (("token", "create", "--user", "ghost@x.test", "--scope", "conversations:read"), "no user"),
        (("token", "create", "--org", "acme", "--scope", "conversations:write"), "unknown scope"),
        (("token", "create", "--scope", "conversations:read"), "exactly one of --org"),
        (("token", "revoke", "ak_doesnotexist"), "No active token"),
        (("org", "create", "acme"), "already exists"),
        (("org", "create", "Not A Slug"), "not a valid org slug"),
        (("user", "create", "x@y.test", "--org", "nope", "--role", "viewer"), "no org"),
    ],
)
def test_bad_input_exits_non_zero_with_one_sentence(
    run, engine: Engine, args: tuple[str, ...], message: str
) -> None:  # type: ignore[no-untyped-def]
    assert run("org", "create", "acme").exit_code == 0
    with engine.connect() as conn:
        before = conn.execute(select(tables.api_tokens.c.id)).all()
    result = run(*args, password="long enough pw")
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    with engine.connect() as conn:
        assert conn.execute(select(tables.api_tokens.c.id)).all() == before


UNREACHABLE = ["sqlite:////nonexistent-folder/parley.db"]
if importlib.util.find_spec("psycopg") is not None:  # an install without the postgres extra has none
    UNREACHABLE.append("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.parametrize("url", UNREACHABLE)
def test_unreachable_database_is_one_clear_sentence(url: str) -> None:
    result = CliRunner().invoke(app, ["org", "create", "acme"], env={"PARLEY_DATABASE_URL": url})
    assert result.exit_code == 1
    assert f"cannot use the database at {url.partition(':')[0]}" in result.stderr
    assert "Traceback" not in result.output


def run_without_psycopg(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``parley ARGS`` in a fresh interpreter where psycopg cannot be imported, as on an install
    without the postgres extra."""
    probe = (
        "import sys\n"
        "sys.modules['psycopg'] = None  # makes 'import psycopg' raise ModuleNotFoundError\n"
        "from parley.cli import app\n"
        f"app({list(args)!r}, prog_name='parley')\n"
    )
    env = {
        **os.environ,
        "PARLEY_DATABASE_URL": url,
        **{f"PARLEY_{name.upper()}": str(value) for name, value in CHEAP_PASSWORDS.items()},
    }
    return subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_sqlite_needs_no_psycopg(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    for args in (
        ("org", "create", "acme"),
        ("seed", "--org", "acme", "--conversations", "20", "--days", "2"),
    ):
        result = run_without_psycopg(tmp_path, url, *args)
        assert result.returncode == 0, result.stderr
    key = run_without_psycopg(
        tmp_path, url, "token", "create", "--org", "acme", "--scope", "conversations:read"
    )
    assert key.returncode == 0, key.stderr
    # The app serves from that database in the same psycopg-less interpreter.
    probe = (
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from fastapi.testclient import TestClient\n"
        "from parley.app import create_app\n"
        "with TestClient(create_app()) as client:\n"
        f"    r = client.get('/core/conversations', headers={{'Authorization': 'Bearer {key.stdout.strip()}'}})\n"
        "print(r.status_code, len(r.json()['data']))\n"
    )
    served = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PARLEY_DATABASE_URL": url},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.stdout.split() == ["200", "20"], served.stderr


def test_postgresql_without_psycopg_says_which_extra_to_install(tmp_path: Path) -> None:
    result = run_without_psycopg(tmp_path, "postgresql://parley@127.0.0.1:1/parley", "db", "upgrade")
    assert result.returncode == 1
    assert "needs psycopg, which is not installed: pip install 'parley[postgres]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_database_url_is_one_clear_sentence() -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"PARLEY_DATABASE_URL": "not a url"})
    assert result.exit_code == 1
    assert "not a valid database URL" in result.stderr


def test_seed_adds_conversations_and_creates_the_org(run, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    result = run("seed", "--org", "fresh", "--conversations", "120", "--seed", "3", "--days", "5")
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(tables.conversations)).scalar_one()
        slugs = conn.execute(select(tables.orgs.c.slug)).scalars().all()
    assert count == 120
    assert slugs == ["fresh"]


@pytest.mark.parametrize(
    ("args", "message"), [(("--conversations", "-1"), "zero or more"), (("--days", "0"), "at least 1")]
)
def test_seed_rejects_bad_numbers_without_writing(
    run, engine: Engine, args: tuple[str, ...], message: str
) -> None:  # type: ignore[no-untyped-def]
    base = {"--conversations": "10", "--days": "5"}
    base[args[0]] = args[1]
    result = run("seed", "--org", "fresh", *[item for pair in base.items() for item in pair])
    assert result.exit_code == 1
    assert message in result.stderr
    with engine.connect() as conn:
        assert conn.execute(select(tables.orgs.c.slug)).all() == []
