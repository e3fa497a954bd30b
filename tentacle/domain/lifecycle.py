"""The task lifecycle: one transition table, enforced in one place.

PLANNING -> READY -> EXECUTING -> COMPLETED / FAILED / CHECKPOINT / PAUSED / SUPERSEDED, and
CANCELLED from anywhere not finished. A replan goes back from EXECUTING (or CHECKPOINT, when a
sibling of the waiting step failed) to PLANNING; a retry from FAILED to READY (or PLANNING when
there was no valid plan); a resume returns to wherever the task was paused. The fast path goes
from PLANNING straight to COMPLETED.
"""

from __future__ import annotations

from typing import Final

from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import TaskStatus
from tentacle.domain.errors import TentacleError

S = TaskStatus

TRANSITIONS: Final[dict[TaskStatus, frozenset[TaskStatus]]] = {
    S.PLANNING: frozenset({S.READY, S.COMPLETED, S.PAUSED, S.FAILED, S.CANCELLED, S.SUPERSEDED}),
    S.READY: frozenset({S.EXECUTING, S.PAUSED, S.FAILED, S.CANCELLED, S.SUPERSEDED}),
    S.EXECUTING: frozenset(
        {S.COMPLETED, S.FAILED, S.CHECKPOINT, S.PAUSED, S.PLANNING, S.CANCELLED, S.SUPERSEDED}
    ),
    S.CHECKPOINT: frozenset(
        {S.EXECUTING, S.FAILED, S.PLANNING, S.PAUSED, S.CANCELLED, S.SUPERSEDED}
    ),
    S.PAUSED: frozenset(
        {S.PLANNING, S.READY, S.EXECUTING, S.CHECKPOINT, S.FAILED, S.CANCELLED, S.SUPERSEDED}
    ),
    S.FAILED: frozenset({S.READY, S.PLANNING}),
    S.COMPLETED: frozenset(),
    S.SUPERSEDED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL: Final = frozenset({S.COMPLETED, S.FAILED, S.SUPERSEDED, S.CANCELLED})
"""No further progress happens on its own (a FAILED task can still be retried)."""

ACTIVE: Final = frozenset(set(TaskStatus) - TERMINAL)


def can_transition(current: TaskStatus, target: TaskStatus) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: TaskStatus, target: TaskStatus) -> None:
    if target not in TRANSITIONS[current]:
        raise TentacleError(
            TentacleErrorCode.INVALID_TRANSITION,
            f"a {current.value} task cannot become {target.value}",
            details={"from": current.value, "to": target.value},
        )
