"""The transition table is the only way a task's status changes."""

from __future__ import annotations

import itertools

import pytest

from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import TaskStatus
from tentacle.domain.errors import TentacleError
from tentacle.domain.lifecycle import TERMINAL, TRANSITIONS, can_transition, check_transition

S = TaskStatus


@pytest.mark.parametrize(("current", "target"), list(itertools.product(S, S)))
def test_every_pair_is_either_allowed_or_a_coded_error(current: S, target: S) -> None:
    if can_transition(current, target):
        check_transition(current, target)
    else:
        with pytest.raises(TentacleError) as caught:
            check_transition(current, target)
        assert caught.value.code == TentacleErrorCode.INVALID_TRANSITION


def test_the_happy_path_and_its_exits() -> None:
    assert can_transition(S.PLANNING, S.READY)
    assert can_transition(S.READY, S.EXECUTING)
    for end in (S.COMPLETED, S.FAILED, S.CHECKPOINT, S.PAUSED, S.SUPERSEDED, S.CANCELLED):
        assert can_transition(S.EXECUTING, end)


def test_finished_tasks_stay_finished_except_a_failed_one_can_be_retried() -> None:
    for status in TERMINAL - {S.FAILED}:
        assert TRANSITIONS[status] == frozenset()
    assert TRANSITIONS[S.FAILED] == {S.READY, S.PLANNING}
    assert not can_transition(S.COMPLETED, S.CANCELLED)
    assert not can_transition(S.PAUSED, S.PAUSED)
