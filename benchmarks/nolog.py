"""``python -m benchmarks.nolog serve …``: ``parley serve`` with the event log switched off, the
baseline that ``python -m benchmarks logcost`` measures the log's cost against. Nothing else
differs: the same code, with appending events made a no-op (so no event, no wake-up, no bus)."""

from __future__ import annotations

from typing import Any


def _no_events(*_args: Any, **_kwargs: Any) -> list[int]:
    return []


def main() -> None:
    from parley import cli
    from parley.ingest import service

    service.append_events = _no_events  # type: ignore[assignment]
    cli.main()


if __name__ == "__main__":
    main()
