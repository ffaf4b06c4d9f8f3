"""Without Chromium the browser tests skip under one line saying how to enable them; where the
browser is required (``.ci/run``) they fail instead. Run as a separate pytest over one real
browser test file and a file of other tests, pointed at a Chromium that does not exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_browser_tests(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_TEST_")}
    environment.update(PARLEY_TEST_CHROMIUM=str(tmp_path / "no-chromium-here"), **env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/web/test_browser_detail.py",
            "tests/test_layers.py",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_chromium_the_browser_tests_skip_under_one_line(tmp_path: Path) -> None:
    result = run_browser_tests(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if "browser tests skipped" in line]
    assert len(lines) == 1, result.stdout
    assert "PARLEY_TEST_CHROMIUM=/path/to/chromium" in lines[0]
    assert str(tmp_path / "no-chromium-here") in lines[0]
    assert lines[0].startswith("browser tests skipped (5): no Chromium at")
    assert re.fullmatch(r"\d+ passed, 5 deselected in .*", result.stdout.splitlines()[-1]), result.stdout


def test_where_the_browser_is_required_its_absence_fails(tmp_path: Path) -> None:
    result = run_browser_tests(tmp_path, PARLEY_TEST_REQUIRE_BROWSER="1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot run: no Chromium at" in result.stdout
    assert re.fullmatch(r"\d+ passed, 5 errors in .*", result.stdout.splitlines()[-1]), result.stdout
