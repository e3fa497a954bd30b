"""The first end-to-end path: a supplied plan of no-op steps runs to completion."""

from __future__ import annotations

from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import TaskStatus
from shared.bus import Bus
from shared.service import ServiceApp
from tests.tentacle.conftest import Caller, lifecycle


async def test_a_supplied_plan_runs_to_completion(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    plan = {
        "steps": [
            {"id": "a", "agent": "noop", "inputs": {"n": 1}},
            {"id": "b", "agent": "noop", "inputs": {"prev": {"$ref": "a.n"}}},
        ]
    }
    task = await caller.create("count", plan=plan)
    assert task.status is TaskStatus.EXECUTING
    detail = await caller.wait(task.task_id)
    assert detail.task.status is TaskStatus.COMPLETED
    assert detail.task.result == {"prev": 1}
    events = await lifecycle(bus, task.task_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.kind for e in events] == [
        K.TASK_CREATED,
        K.PLANNED,
        K.STARTED,
        K.STEP_STARTED,
        K.STEP_COMPLETED,
        K.STEP_STARTED,
        K.STEP_COMPLETED,
        K.COMPLETED,
    ]
