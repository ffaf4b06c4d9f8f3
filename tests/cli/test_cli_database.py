"""A CLI command whose database accepts connections and never answers exits 1 with a sentence
after the connect timeout, rather than hanging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley.config import Settings
from tests.faults import FaultProxy


@pytest.mark.postgres_only
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_silent_database_fails_a_command_with_a_sentence(settings: Settings, tmp_path: Path) -> None:
    with FaultProxy(5432) as proxy:
        proxy.blackhole()
        env = {
            **os.environ,
            "PARLEY_DATABASE_URL": proxy.url_for(settings.database_url),
            "PARLEY_DB_CONNECT_TIMEOUT_SECONDS": "2",
        }
        done = subprocess.run(
            [sys.executable, "-m", "parley", "org", "create", "acme"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,  # a guard: the command itself gives up after 2 s
        )
    assert done.returncode == 1
    assert "cannot use the database" in done.stderr
    assert "timeout" in done.stderr
