"""The per-replica state cache: bounded, and finished tasks leave it."""

from __future__ import annotations

from contracts.tentacle.models import TaskStatus
from tentacle.adapters.plan_cache import PlanCache
from tentacle.adapters.task_store import TaskStore
from tests.tentacle.domain.helpers import task


def test_a_finished_task_leaves_the_cache_and_the_oldest_go_first() -> None:
    store = TaskStore(PlanCache(), cache_size=2)
    for n in range(3):
        store.keep(task(task_id=f"t-{n}", status=TaskStatus.EXECUTING, version=n))
    assert store.take_cached("t-0") is None  # the oldest was evicted
    kept = store.take_cached("t-2", at_least=2)
    assert kept is not None
    assert store.take_cached("t-2") is None  # taken while a cycle works on it
    assert store.take_cached("t-1", at_least=5) is None  # older than the task's version

    store.keep(task(task_id="t-3", status=TaskStatus.EXECUTING))
    store.keep(task(task_id="t-3", status=TaskStatus.COMPLETED))
    assert store.take_cached("t-3") is None
