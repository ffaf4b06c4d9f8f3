"""Where a conversation's status may go next: forward through its life, never out of a final state.

    token_created -> queued -> ringing -> in_progress -> a final state
    (any step may be skipped; a final state is completed, transferred, failed, no_answer, busy,
    canceled or voicemail)

Setting the status a conversation already has changes nothing and is allowed, so a retried
update succeeds.
"""

from __future__ import annotations

from parley.conversations.enums import FINISHED_STATUSES, Status
from parley.errors import Conflict

# The statuses before the end, in the order a conversation passes through them.
_STAGES = (Status.TOKEN_CREATED, Status.QUEUED, Status.RINGING, Status.IN_PROGRESS)


def allowed_next(current: Status) -> frozenset[Status]:
    if current in FINISHED_STATUSES:
        return frozenset({current})
    later = _STAGES[_STAGES.index(current) :]
    return frozenset(later) | FINISHED_STATUSES


def is_forward(current: Status, new: Status) -> bool:
    return new in allowed_next(current)


def check_transition(current: Status, new: Status) -> None:
    if not is_forward(current, new):
        reason = "it has ended" if current in FINISHED_STATUSES else "statuses only move forward"
        raise Conflict(
            f"A conversation cannot go from {current.value} to {new.value}: {reason}.", parameter="status"
        )
