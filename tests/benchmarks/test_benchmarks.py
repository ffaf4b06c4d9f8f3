"""The benchmark harness runs end to end on a tiny data set and reports every scenario.

No timing is asserted: on 2,000 rows the figures mean little. What is checked is that one
command seeds, serves, measures and writes both reports, with a row for every scenario, and
that a tool missing here is reported as "not available", never as passing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from benchmarks.report import MET, MISSED, NOT_AVAILABLE, SCENARIOS
from benchmarks.runner import Options, run
from benchmarks.servers import datasette_available

pytestmark = pytest.mark.slow


def test_a_tiny_run_reports_every_scenario(tmp_path: Path) -> None:
    options = Options(
        rows=2000,
        db="sqlite",
        repeat=1,
        heavy=1,
        out=tmp_path / "results",
        data_dir=tmp_path / "data",
        wrk_seconds=1,
        peer_csv_rows=500,
        workers=2,  # as the published runs: the memory and wrk figures come from the workers
    )
    markdown, data = run(options)

    assert markdown.exists() and data.exists()
    report = json.loads(data.read_text())
    keys = [result["key"] for result in report["results"]]
    assert keys == [key for key, _ in SCENARIOS]
    assert report["context"]["workers"] == 2
    table = markdown.read_text()
    for _key, label in SCENARIOS:
        assert f"| {label} |" in table

    verdicts = {result["key"]: result["verdict"] for result in report["results"]}
    measured = [k for k in keys if not k.startswith(("peer.", "concurrency."))]
    assert all(verdicts[k] != NOT_AVAILABLE for k in measured), verdicts
    if shutil.which("wrk") is None:
        assert {verdicts[k] for k in keys if k.startswith("concurrency.")} == {NOT_AVAILABLE}
    else:
        assert verdicts["concurrency.c16"] in (MET, MISSED)
    if not datasette_available():
        assert {verdicts[k] for k in keys if k.startswith("peer.")} == {NOT_AVAILABLE}
    else:
        assert all(verdicts[k] in (MET, MISSED) for k in keys if k.startswith("peer."))


def test_a_matching_data_set_is_reused(tmp_path: Path) -> None:
    from benchmarks.dataset import Spec, prepare

    first = prepare("sqlite", Spec(rows=200, seed=3), tmp_path)
    second = prepare("sqlite", Spec(rows=200, seed=3), tmp_path)
    other = prepare("sqlite", Spec(rows=200, seed=4), tmp_path)
    assert not first.reused and second.reused and not other.reused
    assert second.long_conversation_id == first.long_conversation_id


def test_a_tiny_scale_run_compares_every_list_scenario(tmp_path: Path) -> None:
    from benchmarks.report import SCALE_SCENARIOS
    from benchmarks.scale import run_scale

    options = Options(rows=300, db="sqlite", repeat=1, out=tmp_path / "results", data_dir=tmp_path / "data")
    markdown, data = run_scale(options, large_rows=600)

    report = json.loads(data.read_text())
    assert [r["key"] for r in report["results"]] == [key for key, _ in SCALE_SCENARIOS]
    assert all(r["ratio"] > 0 and r["verdict"] in (MET, MISSED) for r in report["results"])
    assert "against 300" in markdown.read_text()
    assert (tmp_path / "results" / "latest-scale-sqlite.md").exists()
