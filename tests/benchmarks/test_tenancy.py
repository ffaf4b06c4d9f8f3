"""The tenancy scenario runs end to end on a tiny data set (no timing asserted: it would mean
nothing on a few hundred rows; the figure comes from ``python -m benchmarks tenancy``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.tenancy import run_tenancy

pytestmark = pytest.mark.slow


def test_a_tiny_tenancy_run_reports_the_ratio(tmp_path: Path) -> None:
    report = run_tenancy("sqlite", 300, 2, tmp_path / "data", "postgresql://unused")
    assert "ratio foreign / absent:" in report
    assert "hold 'qazwexjor'" in report and "org B 450 conversations" in report
    assert run_tenancy("sqlite", 300, 1, tmp_path / "data", "postgresql://unused")  # reuses the set
