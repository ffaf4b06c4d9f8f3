"""``parley simulate``'s mistakes: one sentence on stderr, exit status 1, and nothing written
(no conversation, and no API key left behind)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from parley.accounts import service
from parley.auth.scopes import Scope
from parley.auth.tokens import TokenKind
from parley.cli import app
from parley.config import Settings
from parley.db import tables
from parley.db.engine import build_engine
from parley.db.migrate import upgrade
from tests.simulate.servers import free_port, parley_env, running_server


def invoke(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(app, ["simulate", *args], env={"PARLEY_DATABASE_URL": database_url})


def counts(engine: Engine) -> tuple[int, int]:
    """(conversations, API keys not revoked)."""
    t = tables.api_tokens
    with engine.connect() as conn:
        conversations = conn.execute(select(func.count()).select_from(tables.conversations)).scalar_one()
        keys = conn.execute(select(func.count()).select_from(t).where(t.c.revoked_at.is_(None))).scalar_one()
    return int(conversations), int(keys)


def key(engine: Engine, slug: str, *scopes: Scope) -> str:
    with engine.begin() as conn:
        org = service.ensure_org(conn, slug)
        return service.create_token(conn, TokenKind.API_KEY, frozenset(scopes), org_id=org.id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "nope"), "There is no org 'nope'."),
        (("--org", "acme", "--url", "http://127.0.0.1:{port}"), "Cannot reach Parley at http://127.0.0.1:"),
        (("--org", "acme", "--url", "ftp://example.test"), "--url must be an http:// or https:// address"),
        (("--org", "acme", "--url", "nonsense"), "--url must be an http:// or https:// address"),
        (("--org", "acme", "--rate", "0"), "--rate must be more than 0"),
        (("--org", "acme", "--duration", "0"), "--duration must be more than 0"),
        (("--org", "acme", "--speed", "-2"), "--speed must be more than 0"),
    ],
)
def test_bad_input_is_one_sentence_and_writes_nothing(
    engine: Engine, settings: Settings, args: tuple[str, ...], message: str
) -> None:
    with engine.begin() as conn:
        service.create_org(conn, "acme")
    before = counts(engine)
    args = tuple(a.format(port=free_port()) for a in args)
    result = invoke(settings.database_url, *args, *(() if "--duration" in args else ("--duration", "1")))
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert counts(engine) == before


def test_a_missing_database_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.db"
    result = invoke(f"sqlite:///{path}", "--org", "acme", "--duration", "1")
    assert result.exit_code == 1
    assert f"There is no database at {path}" in result.stderr
    assert not path.exists()


@pytest.mark.slow
def test_tokens_the_server_refuses_write_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    manage = key(engine, "acme", Scope.MANAGE)
    read_only = key(engine, "acme", Scope.READ)
    other_org = key(engine, "other", Scope.MANAGE)
    # A database of its own with an org of the same name: keys minted there mean nothing to the server.
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    other_engine = build_engine(elsewhere)
    upgrade(other_engine)
    with other_engine.begin() as conn:
        service.create_org(conn, "acme")
    env = parley_env(settings.database_url, tmp_path)
    with running_server(env, tmp_path) as server:
        before = counts(engine)
        cases = [
            (settings.database_url, ("--token", "ak_nope"), "refused the token for org 'acme': The token"),
            (settings.database_url, ("--token", read_only), "needs the conversations:manage scope"),
            (settings.database_url, ("--token", other_org), "belongs to another org than 'acme'"),
            (elsewhere, (), "Is PARLEY_DATABASE_URL the server's database?"),
        ]
        for database_url, args, message in cases:
            result = invoke(database_url, "--org", "acme", "--url", server.url, "--duration", "1", *args)
            assert result.exit_code == 1, result.output
            assert message in result.stderr, result.stderr
            assert result.stdout == ""
            assert counts(engine) == before
        assert counts(other_engine) == (0, 0)  # the key it minted for the run was revoked
        other_engine.dispose()

        # The same command with a token that may write: conversations arrive.
        result = invoke(
            settings.database_url, "--org", "acme", "--url", server.url, "--token", manage,
            "--duration", "1", "--rate", "120", "--speed", "50", "--seed", "1",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        created = result.stdout.split()
        assert created and counts(engine)[0] == len(created)
