"""How many CSV exports may run at once, per org and per process.

An export holds a database connection and a thread for as long as its client keeps reading, and
the client decides how long that is. Counting them here, before a response starts, bounds both:
per org, so one org's downloads never take every slot; per process, so the export pool (sized to
that number, see ``api.export_response``) always has a connection for an export that got a slot.
"""

from __future__ import annotations

import threading

from parley.errors import TooManyRequests

# A slot frees when an export finishes or its client stops reading for the send timeout; neither
# is known in advance, so clients are asked to come back after a short, fixed while.
RETRY_AFTER_SECONDS = 10


class ExportSlot:
    """One running export's place in the gate. ``release`` gives it back; calling it again does
    nothing, so every way an export can end may call it without counting which came first."""

    __slots__ = ("_gate", "_org_id", "_released")

    def __init__(self, gate: ExportGate, org_id: int) -> None:
        self._gate = gate
        self._org_id = org_id
        self._released = False

    @property
    def org_id(self) -> int:
        return self._org_id

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._gate._release(self._org_id)


class ExportGate:
    """Counts running exports. Acquiring never waits: a full gate answers 429 at once, since a
    request queued behind a stalled download would hold its client just as long."""

    def __init__(self, per_org: int, per_process: int) -> None:
        self.per_org = per_org
        self.per_process = per_process
        self._lock = threading.Lock()
        self._by_org: dict[int, int] = {}
        self._total = 0

    def acquire(self, org_id: int) -> ExportSlot:
        """A slot for one export of ``org_id``, or TooManyRequests (429, with Retry-After)."""
        with self._lock:
            if self._by_org.get(org_id, 0) >= self.per_org:
                raise TooManyRequests(
                    f"Your org already has {self.per_org} export(s) running, as many as it may at once; "
                    "try again when one has finished.",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            if self._total >= self.per_process:
                raise TooManyRequests(
                    "The server is running as many exports as it can at once; try again shortly.",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            self._by_org[org_id] = self._by_org.get(org_id, 0) + 1
            self._total += 1
        return ExportSlot(self, org_id)

    def running(self, org_id: int | None = None) -> int:
        """Exports holding a slot: in ``org_id``, or in the whole process."""
        with self._lock:
            return self._total if org_id is None else self._by_org.get(org_id, 0)

    def _release(self, org_id: int) -> None:
        with self._lock:
            left = self._by_org[org_id] - 1
            if left:
                self._by_org[org_id] = left
            else:
                del self._by_org[org_id]  # orgs come and go; the dict holds only running ones
            self._total -= 1
