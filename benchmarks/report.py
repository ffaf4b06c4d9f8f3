"""Results: one row per scenario, written as a Markdown table and as JSON."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MET, MISSED, INFO, NOT_AVAILABLE = "met", "MISSED", "info", "not available"

# Every scenario the harness reports, in table order. A scenario that cannot run here still
# gets its row, marked "not available", never passing.
SCENARIOS: tuple[tuple[str, str], ...] = (
    ("list.first_page", "First page (50 rows)"),
    ("list.deep_page", "Page 100,000 rows deep (cursor)"),
    ("list.offset_deep_page", "Same page with LIMIT/OFFSET (naive)"),
    ("filter.agent_status_channel_30d", "Filter: agent + status + channel + 30 days"),
    ("filter.duration_range", "Filter: duration range"),
    ("filter.user_id", "Filter: caller id (user_id)"),
    ("search.common_word", "q: common word"),
    ("search.rare_word", "q: rare word"),
    ("search.no_match", "q: word matching nothing"),
    ("export.full", "CSV export of the whole org"),
    ("export.memory", "CSV export: server peak memory"),
    ("export.vs_csv_module", "CSV export vs csv.writer over the driver"),
    ("detail.long_transcript", "Detail with a 200-turn transcript"),
    ("detail.recording_range", "Recording, Range request (64 KiB)"),
    ("concurrency.c1", "First page, 1 client (wrk)"),
    ("concurrency.c16", "First page, 16 clients (wrk)"),
    ("concurrency.c64", "First page, 64 clients (wrk)"),
    ("peer.first_page", "Datasette: first page"),
    ("peer.deep_page", "Datasette: page 100,000 rows deep"),
    ("peer.filter_agent_status_channel_30d", "Datasette: agent + status + channel + 30 days"),
    ("peer.filter_duration_range", "Datasette: duration range"),
    ("peer.filter_user_id", "Datasette: caller id"),
    ("peer.search_common_word", "Datasette: full-text, common word"),
    ("peer.csv_stream", "Datasette: CSV stream (_stream=on)"),
    ("peer.csv_stream_max", "Datasette: CSV stream, _size=max"),
)
# The scale run (python -m benchmarks scale): the list scenarios at two sizes.
SCALE_SCENARIOS: tuple[tuple[str, str], ...] = (
    ("scale.first_page", "First page"),
    ("scale.deep_page", "Page 100,000 rows deep"),
    ("scale.agent_status_channel_30d", "Filter: agent + status + channel + 30 days"),
    ("scale.duration_range", "Filter: duration range"),
    ("scale.user_id", "Filter: caller id"),
    ("scale.common_word", "q: common word"),
    ("scale.rare_word", "q: rare word"),
    ("scale.no_match", "q: word matching nothing"),
)
LABELS = dict(SCENARIOS) | dict(SCALE_SCENARIOS)


@dataclass(slots=True)
class Result:
    key: str
    value: float | None = None  # Parley's figure through HTTP
    unit: str = "ms"
    raw_ms: float | None = None  # the same query through SQLAlchemy Core, no HTTP
    compared_with: str = ""
    other: float | None = None  # the other side's figure, same unit
    ratio: float | None = None
    ratio_label: str = ""
    target: str = ""
    verdict: str = INFO
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)


def check(passed: bool) -> str:
    return MET if passed else MISSED


def unavailable(key: str, why: str) -> Result:
    return Result(key, verdict=NOT_AVAILABLE, note=why)


def _number(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "MB":
        return f"{value:,.1f} MB"
    return f"{value:,.0f} {unit}"


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0]
        memory = f"{int(first.split()[1]) / 1024 / 1024:.1f} GiB"
    return {
        "nproc": os.cpu_count(),
        "memory": memory,
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
    }


def markdown(results: list[Result], context: dict[str, Any]) -> str:
    lines = [
        f"# Parley benchmarks — {context['db']}, {context['rows']:,} conversations"
        + (f" against {context['compared_rows']:,}" if "compared_rows" in context else ""),
        "",
        f"Run {context['started']} · repeat {context['repeat']} · "
        f"{context.get('workers', 1)} server worker(s) · "
        f"machine: {context['machine']['nproc']} cores, {context['machine']['memory']}, "
        f"{context['machine']['cpu']} · {context.get('database_version', '')}",
        "",
        "Figures are medians over the repeated runs; every ratio compares two sides measured in the "
        "same run, alternating.",
        "",
        "| Scenario | Parley (HTTP) | Raw query | Compared with | Ratio | Target | Result |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        compared = r.compared_with
        if r.other is not None:
            compared = f"{compared}: {_number(r.other, r.unit)}"
        ratio = f"{r.ratio:,.2f}x {r.ratio_label}".strip() if r.ratio is not None else ""
        verdict = r.verdict + (f" ({r.note})" if r.note else "")
        lines.append(
            f"| {r.label} | {_number(r.value, r.unit)} | {_number(r.raw_ms, 'ms')} | {compared} | "
            f"{ratio} | {r.target} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def write(results: list[Result], context: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kind = f"{context['kind']}-" if "kind" in context else ""
    stem = f"{kind}{context['db']}-{context['rows']}-{stamp}"
    md_path, json_path = out / f"{stem}.md", out / f"{stem}.json"
    md_path.write_text(markdown(results, context))
    payload = {"context": context, "results": [{**asdict(r), "label": r.label} for r in results]}
    json_path.write_text(json.dumps(payload, indent=2, default=str))
    # Stable names for the latest run of each database, handy for the README.
    (out / f"latest-{kind}{context['db']}.md").write_text(md_path.read_text())
    (out / f"latest-{kind}{context['db']}.json").write_text(json_path.read_text())
    return md_path, json_path
