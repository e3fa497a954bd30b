"""The restart policy's arithmetic and the one-supervisor-per-home lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.runtime.backoff import Backoff, RestartPolicy
from shared.runtime.lock import AlreadyRunning, HomeLock, is_held

POLICY = RestartPolicy(initial_delay=0.5, max_delay=4.0, stable_after=30.0, crash_loop_after=3)


def test_delays_double_up_to_the_cap() -> None:
    backoff = Backoff(POLICY)
    assert [backoff.on_exit(uptime=1.0) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_stable_run_forgives_earlier_crashes() -> None:
    backoff = Backoff(POLICY)
    for _ in range(4):
        backoff.on_exit(uptime=1.0)
    assert backoff.crash_looping
    assert backoff.on_exit(uptime=31.0) == 0.5
    assert not backoff.crash_looping


def test_crash_loop_is_declared_after_the_threshold() -> None:
    backoff = Backoff(POLICY)
    backoff.on_exit(uptime=0.1)
    backoff.on_exit(uptime=0.1)
    assert not backoff.crash_looping
    backoff.on_exit(uptime=0.1)
    assert backoff.crash_looping


def test_a_second_holder_is_refused_and_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "run" / "supervisor.lock"
    assert not is_held(path)
    with HomeLock(path):
        assert is_held(path)
        with pytest.raises(AlreadyRunning):
            HomeLock(path).acquire(wait=0.1)
    assert not is_held(path)
