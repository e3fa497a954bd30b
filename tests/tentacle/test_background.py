"""The fast path, timers (deadlines, lost work items) and retention of finished tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import StepStatus, TaskConstraintsV1, TaskStatus, TerminalReason
from shared.bus import Bus
from tentacle.domain.fast_path import FastQuery
from tentacle.service.ports import WorkspaceUnavailable
from tests.tentacle.conftest import ORG, Caller, Start, lifecycle
from tests.tentacle.test_commands import approval_plan


class Calendar:
    """A hand-written workspace with two events (the real one is issue 5's)."""

    def __init__(self, *, up: bool = True) -> None:
        self.up = up
        self.queries: list[tuple[str, FastQuery]] = []

    async def find(self, org_id: str, query: FastQuery) -> list[dict[str, Any]]:
        self.queries.append((org_id, query))
        if not self.up:
            raise WorkspaceUnavailable("down for maintenance")
        return [
            {"id": "e1", "data": {"title": "Standup", "start": "2026-03-03T09:00:00+00:00"}},
            {"id": "e2", "data": {"title": "Review", "start": "2026-03-04T15:00:00+00:00"}},
        ]


async def test_simple_questions_take_the_fast_path(
    start_tentacle: Start, caller: Caller, bus: Bus
) -> None:
    calendar = Calendar()
    await start_tentacle(workspace=calendar)
    task = await caller.create("What's on my calendar this week?")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.fast_path
    assert done.plan is None
    assert done.task.summary == (
        "2 events this week: Standup (2026-03-03T09:00:00+00:00); "
        "Review (2026-03-04T15:00:00+00:00)."
    )
    [(org, query)] = calendar.queries
    assert (org, query.object_type) == (ORG, "event")
    kinds = [e.kind for e in await lifecycle(bus, task.task_id)]
    assert kinds == [K.TASK_CREATED, K.COMPLETED]

    planned = await caller.create("Summarize what's on my calendar and email it to a@b.co")
    assert not (await caller.wait_status(planned.task_id, TaskStatus.CHECKPOINT)).task.fast_path


async def test_the_fast_path_falls_back_to_planning(start_tentacle: Start, caller: Caller) -> None:
    await start_tentacle(workspace=Calendar(up=False))
    task = await caller.create("list contacts at Acme")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert not done.task.fast_path
    assert done.plan is not None


async def test_deadlines_and_lost_work_items_are_caught_by_the_timer_sweep(
    start_tentacle: Start, caller: Caller
) -> None:
    app = await start_tentacle()
    soon = datetime.now(UTC) + timedelta(seconds=1)
    late = await caller.create(
        "wait", plan=approval_plan(), constraints=TaskConstraintsV1(deadline=soon)
    )
    done = await caller.wait(late.task_id, timeout=10)
    assert done.task.terminal_reason is TerminalReason.DEADLINE_EXCEEDED

    # A step whose work item the bus gave up on long ago (every delivery crashed).
    task = await caller.create("lost", plan=approval_plan())
    await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    async with app.db.transaction(org_id=ORG) as uow:
        await uow.session.execute(
            text(
                "UPDATE steps SET status = 'running', attempts = 1,"
                " started_at = now() - interval '1 hour' WHERE task_id = :id AND step_id = 'send'"
            ),
            {"id": task.task_id},
        )
        await uow.session.execute(
            text("UPDATE checkpoints SET status = 'approved' WHERE task_id = :id"),
            {"id": task.task_id},
        )
        await uow.session.execute(
            text("UPDATE tasks SET status = 'executing', version = version + 1 WHERE id = :id"),
            {"id": task.task_id},
        )
        await uow.session.execute(
            text("UPDATE task_timers SET due_at = now() WHERE task_id = :id"),
            {"id": task.task_id},
        )
    done = await caller.wait(task.task_id, timeout=10)
    assert done.task.status is TaskStatus.FAILED
    step = done.steps[1]
    assert step.status is StepStatus.FAILED
    assert step.error is not None
    assert step.error.code == TentacleErrorCode.STEP_LOST


async def test_finished_tasks_lose_their_bulky_data_but_keep_their_result(
    start_tentacle: Start, caller: Caller, bus: Bus
) -> None:
    await start_tentacle(retention_hours=0.0003, retention_interval_seconds=0.2)
    plan = {
        "steps": [
            {"id": "a", "agent": "noop", "inputs": {"blob": "x" * 5000}},
            {"id": "b", "agent": "noop", "inputs": {"n": 1}, "depends_on": ["a"]},
        ]
    }
    task = await caller.create("big", plan=plan)
    done = await caller.wait(task.task_id)
    assert done.steps[0].output == {"blob": "x" * 5000}
    pruned = await caller.wait(task.task_id, lambda d: d.steps[0].output is None, timeout=10)
    assert pruned.task.result == {"n": 1}
    assert pruned.task.status is TaskStatus.COMPLETED
    assert len(await lifecycle(bus, task.task_id)) == pruned.task.event_seq
