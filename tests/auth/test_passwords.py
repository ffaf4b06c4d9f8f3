"""Password hashing: the cost comes from the settings, and nothing is hashed before it is needed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import argon2
import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from parley.app import create_app
from parley.auth.passwords import Passwords
from parley.config import Settings


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The passwords argon2 hashes while the test runs."""
    made: list[str] = []
    original = argon2.PasswordHasher.hash

    def counting(self: argon2.PasswordHasher, password: str | bytes, **kwargs: object) -> str:
        made.append(str(password))
        return original(self, password, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(argon2.PasswordHasher, "hash", counting)
    yield made


def test_a_hash_verifies_its_password_only(passwords: Passwords) -> None:
    stored = passwords.hash("correct horse battery")
    assert "correct horse" not in stored
    assert passwords.verify(stored, "correct horse battery")
    assert not passwords.verify(stored, "correct horse battery!")
    assert not passwords.verify("not an argon2 hash", "correct horse battery")


def test_the_settings_choose_the_cost_of_new_hashes(settings: Settings) -> None:
    cheap = Passwords.from_settings(settings.model_copy(update={"password_time_cost": 2}))
    assert "$m=32,t=2," in cheap.hash("correct horse battery")
    # A hash records its own cost: changing the settings never locks out an existing user.
    dearer = Passwords.from_settings(
        settings.model_copy(update={"password_time_cost": 3, "password_memory_kib": 64})
    )
    assert dearer.verify(cheap.hash("correct horse battery"), "correct horse battery")


def test_the_default_cost_is_argon2s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARLEY_PASSWORD_TIME_COST", raising=False)
    monkeypatch.delenv("PARLEY_PASSWORD_MEMORY_KIB", raising=False)
    defaults = Settings()
    assert defaults.password_time_cost == argon2.DEFAULT_TIME_COST
    assert defaults.password_memory_kib == argon2.DEFAULT_MEMORY_COST


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PARLEY_PASSWORD_TIME_COST", "0"),
        ("PARLEY_PASSWORD_MEMORY_KIB", "31"),  # below argon2's 8 KiB for each of 4 lanes
        ("PARLEY_PASSWORD_MEMORY_KIB", str(64 * 1024 * 1024)),  # 64 MiB written in bytes: 64 GiB
    ],
)
def test_a_cost_out_of_bounds_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("PARLEY_").lower()):
        Settings()


def test_the_lowest_cost_allowed_works() -> None:
    lowest = Passwords(time_cost=1, memory_kib=32)
    assert lowest.verify(lowest.hash("correct horse battery"), "correct horse battery")


def test_an_unknown_user_is_checked_against_a_dummy_made_once_on_first_use(
    settings: Settings, hashes: list[str]
) -> None:
    passwords = Passwords.from_settings(settings)
    assert hashes == []
    assert not passwords.verify(None, "correct horse battery")
    assert len(hashes) == 1  # the dummy, at this object's cost
    assert not passwords.verify(None, "correct horse battery")
    assert not passwords.verify(None, "")
    assert len(hashes) == 1


def test_building_the_app_hashes_nothing(settings: Settings, engine: Engine, hashes: list[str]) -> None:
    app = create_app(settings, engine)
    assert isinstance(app.state.passwords, Passwords)
    assert hashes == []


def test_importing_the_cli_and_its_help_hash_nothing() -> None:
    # A fresh interpreter: this one has imported everything already. argon2 is made to fail, so
    # any hash or verification before a command needs one ends the run with the step's name.
    probe = (
        "import argon2\n"
        "def refuse(*args, **kwargs):\n"
        "    raise SystemExit(f'argon2 ran while {step}')\n"
        "argon2.PasswordHasher.hash = argon2.PasswordHasher.verify = refuse\n"
        "step = 'importing parley.cli and parley.app'\n"
        "import parley.cli, parley.app\n"
        "step = 'running parley --help'\n"
        "parley.cli.app(['--help'], prog_name='parley')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: parley" in result.stdout
