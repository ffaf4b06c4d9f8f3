"""How the inbox writes values for people (shared by the CSV export and the HTML pages)."""

from __future__ import annotations


def format_duration(seconds: int | None) -> str | None:
    """``3725`` -> ``1h 02m 05s``, ``187`` -> ``3m 07s``, ``42`` -> ``42s``."""
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
