"""The stress suite's short form (``python -m stress run --seconds 20``), so CI runs it: load,
faults, and the end checks (nothing acknowledged lost or duplicated, the database whole)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]


def short_run(db: str, tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    if POSTGRES_URL:
        env["PARLEY_TEST_POSTGRES_URL"] = POSTGRES_URL
    done = subprocess.run(
        [sys.executable, "-m", "stress", "run", "--db", db, "--seconds", "20", "--folder", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_the_short_stress_run_on_sqlite_loses_nothing(tmp_path: Path) -> None:
    summary = short_run("sqlite", tmp_path)
    assert "| data lost | 0 of " in summary
    assert "| duplicated | 0 |" in summary
    assert "PRAGMA integrity_check = ok" in summary
    assert "server SIGKILLed mid-export" in summary
    assert summary.rstrip().endswith("PASSED")


@pytest.mark.slow
@pytest.mark.postgres_only
def test_the_short_stress_run_on_postgres_survives_the_database_going_away(tmp_path: Path) -> None:
    summary = short_run("postgres", tmp_path)
    outage = next(line for line in summary.splitlines() if line.startswith("| PostgreSQL refused"))
    assert "503: " in outage  # readers were told, not left hanging
    assert "| data lost | 0 of " in summary
    assert summary.rstrip().endswith("PASSED")
