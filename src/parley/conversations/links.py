"""The URLs a conversation points at, as the API and the export write them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute or root-relative URLs for what a conversation points at."""

    base: str  # no trailing slash; "" for root-relative links
    agent_console: str = "/agents"

    def conversation(self, conversation_id: int) -> str:
        return f"{self.base}/conversations/{conversation_id}"

    def recording(self, conversation_id: int, seq: int = 0) -> str:
        suffix = f"?seq={seq}" if seq else ""
        return f"{self.base}/core/conversations/{conversation_id}/recording{suffix}"

    @property
    def console(self) -> str:
        return self.agent_console if "://" in self.agent_console else f"{self.base}{self.agent_console}"

    def agent(self, agent_id: int, version: int | None, console: str | None = None) -> str:
        """``console``: ``self.console``, when the caller has it at hand (a page builds 50 links)."""
        base = self.console if console is None else console
        return f"{base}/{agent_id}" + (f"/versions/{version}" if version is not None else "")


def rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
