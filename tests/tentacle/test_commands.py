"""Commands on running tasks: pause, resume, cancel, retry, supersede, and checkpoint answers."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.ids import new_id
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointStatus,
    InputResponseV1,
    ListPreferencesV1,
    QaResponseV1,
    RespondCheckpointV1,
    RevokePreferenceV1,
)
from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import (
    CancelTaskV1,
    CreateTaskV1,
    ListTasksV1,
    PauseTaskV1,
    ResumeTaskV1,
    RetryTaskV1,
    SearchTasksV1,
    StepStatus,
    SupersedePolicy,
    SupersedeTaskV1,
    TaskStatus,
    TerminalReason,
    task_id_for,
)
from contracts.tentacle.subjects import (
    PREFERENCE_LIST,
    PREFERENCE_REVOKE,
    TASK_CANCEL,
    TASK_CREATE,
    TASK_CREATE_RPC,
    TASK_LIST,
    TASK_PAUSE,
    TASK_RESPOND_CHECKPOINT,
    TASK_RESUME,
    TASK_RETRY,
    TASK_SEARCH,
    TASK_SUPERSEDE,
)
from shared.bus import Bus, RemoteError
from shared.service import ServiceApp
from tests.tentacle.conftest import ORG, USER, Caller, Start, lifecycle
from tests.tentacle.site import Site


def approval_plan(to: str = "bob@example.com") -> dict[str, Any]:
    return {
        "steps": [
            {"id": "prep", "agent": "noop", "inputs": {"v": 1}},
            {
                "id": "send",
                "agent": "notify",
                "depends_on": ["prep"],
                "inputs": {"to": to, "subject": "Hi", "body": "Hello"},
            },
        ]
    }


async def approve(caller: Caller, task_id: str, checkpoint_id: str, **kw: Any) -> Any:
    return await caller.ask(
        TASK_RESPOND_CHECKPOINT,
        RespondCheckpointV1(
            task_id=task_id,
            checkpoint_id=checkpoint_id,
            response=ApprovalResponseV1(approved=True, **kw),
        ),
    )


async def test_pause_resume_cancel_and_retry(
    start_tentacle: Start, caller: Caller, site: Site, bus: Bus
) -> None:
    await start_tentacle(http_allow_private=True)
    task = await caller.create("wait for me", plan=approval_plan())
    await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    paused = await caller.ask(TASK_PAUSE, PauseTaskV1(task_id=task.task_id, reason="lunch"))
    assert paused.status is TaskStatus.PAUSED
    resumed = await caller.ask(TASK_RESUME, ResumeTaskV1(task_id=task.task_id))
    assert resumed.status is TaskStatus.CHECKPOINT
    cancelled = await caller.ask(TASK_CANCEL, CancelTaskV1(task_id=task.task_id, reason="no"))
    assert cancelled.status is TaskStatus.CANCELLED
    detail = await caller.get(task.task_id)
    assert detail.steps[1].status is StepStatus.SKIPPED
    assert detail.checkpoints[0].status is CheckpointStatus.CANCELLED

    plan = {
        "steps": [{"id": "get", "agent": "http_fetch", "inputs": {"url": f"{site.url}/missing"}}]
    }
    failing = await caller.create("fetch", plan=plan)
    failed = await caller.wait(failing.task_id)
    assert failed.task.status is TaskStatus.FAILED
    again = await caller.ask(TASK_RETRY, RetryTaskV1(task_id=failing.task_id))
    assert again.status is TaskStatus.EXECUTING
    refailed = await caller.wait(failing.task_id)
    assert refailed.steps[0].attempts == 2
    kinds = [e.kind for e in await lifecycle(bus, failing.task_id)]
    assert kinds.count(K.FAILED) == 2
    assert K.RETRIED in kinds


async def test_supersede_policies(tentacle: ServiceApp, caller: Caller, bus: Bus) -> None:
    running = await caller.create("first goal", plan=approval_plan())
    await caller.wait_status(running.task_id, TaskStatus.CHECKPOINT)

    async def supersede(policy: SupersedePolicy, task_id: str) -> Any:
        return await caller.ask(
            TASK_SUPERSEDE,
            SupersedeTaskV1(
                task_id=task_id, request_id=new_id(), goal="write a limerick", policy=policy
            ),
        )

    with pytest.raises(RemoteError) as refused:
        await supersede(SupersedePolicy.REJECT, running.task_id)
    assert refused.value.code == "tentacle.supersede_rejected"
    assert (await caller.get(running.task_id)).task.status is TaskStatus.CHECKPOINT

    queued = await supersede(SupersedePolicy.ENQUEUE, running.task_id)
    assert queued.new_task is None
    assert queued.task.status is TaskStatus.CHECKPOINT
    [checkpoint] = (await caller.get(running.task_id)).checkpoints
    await approve(caller, running.task_id, checkpoint.checkpoint_id)
    assert (await caller.wait(running.task_id)).task.status is TaskStatus.COMPLETED
    follow = await caller.wait(queued.new_task_id)
    assert follow.task.goal == "write a limerick"
    assert follow.task.status is TaskStatus.COMPLETED

    other = await caller.create("second goal", plan=approval_plan())
    await caller.wait_status(other.task_id, TaskStatus.CHECKPOINT)
    rolled = await supersede(SupersedePolicy.ROLLBACK, other.task_id)
    assert rolled.task.status is TaskStatus.SUPERSEDED
    assert rolled.task.terminal_reason is TerminalReason.SUPERSEDED
    assert rolled.new_task is not None
    assert rolled.irreversible_steps == []
    events = await lifecycle(bus, other.task_id)
    assert events[-1].kind is K.SUPERSEDED

    third = await caller.create("third goal", plan=approval_plan())
    await caller.wait_status(third.task_id, TaskStatus.CHECKPOINT)
    interrupted = await supersede(SupersedePolicy.INTERRUPT, third.task_id)
    assert interrupted.new_task is not None
    carried = await caller.get(interrupted.new_task_id)
    assert carried.task.conversation_id == third.conversation_id
    done = await caller.wait(interrupted.new_task_id)
    assert done.task.status is TaskStatus.COMPLETED


async def test_typed_checkpoint_answers_reach_the_step(
    tentacle: ServiceApp, caller: Caller
) -> None:
    plan = {
        "steps": [
            {
                "id": "ask",
                "agent": "noop",
                "inputs": {"greeting": "hi"},
                "checkpoint": {
                    "type": "qa",
                    "title": "A few questions",
                    "questions": [{"id": "name", "text": "Your name?"}],
                },
            },
            {
                "id": "form",
                "agent": "noop",
                "depends_on": ["ask"],
                "inputs": {"answers": {"$ref": "ask.answers"}},
                "checkpoint": {
                    "type": "input",
                    "fields": [{"name": "size", "kind": "integer"}],
                },
            },
        ]
    }
    task = await caller.create("ask me", plan=plan)
    waiting = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    [qa] = waiting.checkpoints
    await caller.ask(
        TASK_RESPOND_CHECKPOINT,
        RespondCheckpointV1(
            task_id=task.task_id,
            checkpoint_id=qa.checkpoint_id,
            response=QaResponseV1(answers={"name": "Ada"}),
        ),
    )
    waiting = await caller.wait(
        task.task_id,
        lambda d: (
            len([c for c in d.checkpoints if c.status == "pending"]) == 1
            and d.checkpoints[-1].step_id == "form"
        ),
    )
    form = waiting.checkpoints[-1]
    await caller.ask(
        TASK_RESPOND_CHECKPOINT,
        RespondCheckpointV1(
            task_id=task.task_id,
            checkpoint_id=form.checkpoint_id,
            response=InputResponseV1(values={"size": 3}),
        ),
    )
    done = await caller.wait(task.task_id)
    assert done.task.result == {"answers": {"name": "Ada"}, "size": 3}


async def test_learned_approvals_decay_into_auto_approval_and_can_be_revoked(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    for _ in range(3):
        task = await caller.create("send it", plan=approval_plan())
        waiting = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
        await approve(caller, task.task_id, waiting.checkpoints[0].checkpoint_id)
        await caller.wait(task.task_id)
    prefs = await caller.ask(PREFERENCE_LIST, ListPreferencesV1())
    [pref] = prefs.preferences
    assert pref.key == "notify:send_message"
    assert pref.approvals == 3
    assert pref.auto_approve
    assert pref.actor == USER

    auto = await caller.create("send it again", plan=approval_plan())
    done = await caller.wait(auto.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.checkpoints[0].auto
    assert done.checkpoints[0].status is CheckpointStatus.APPROVED

    revoked = await caller.ask(PREFERENCE_REVOKE, RevokePreferenceV1(key="notify:send_message"))
    assert not revoked.auto_approve
    asked = await caller.create("and again", plan=approval_plan())
    await caller.wait_status(asked.task_id, TaskStatus.CHECKPOINT)


async def test_an_unanswered_checkpoint_expires_with_its_default(
    start_tentacle: Start, caller: Caller
) -> None:
    await start_tentacle(checkpoint_ttl_seconds=0.5)
    task = await caller.create("too slow", plan=approval_plan())
    done = await caller.wait(task.task_id, timeout=10)
    assert done.task.status is TaskStatus.FAILED
    assert done.task.terminal_reason is TerminalReason.CHECKPOINT_EXPIRED
    assert done.checkpoints[0].status is CheckpointStatus.EXPIRED


async def test_creation_is_idempotent_across_the_rpc_and_the_command(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    request = CreateTaskV1(
        request_id="trigger-42",
        goal="say hello",
        plan={"steps": [{"id": "a", "agent": "noop"}]},  # type: ignore[arg-type]
        conversation_id="conv-1",
    )
    await bus.publish(TASK_CREATE, request, org_id=ORG)
    task_id = task_id_for(ORG, "trigger-42")
    done = await caller.wait(task_id)
    assert done.task.conversation_id == "conv-1"
    again = await caller.ask(TASK_CREATE_RPC, request)
    assert again.task_id == task_id
    listed = await caller.ask(TASK_LIST, ListTasksV1(conversation_id="conv-1"))
    assert [t.task_id for t in listed.tasks] == [task_id]
    found = await caller.ask(TASK_SEARCH, SearchTasksV1(query="hello"))
    assert [t.task_id for t in found.tasks] == [task_id]
    events = await lifecycle(bus, task_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert {e.conversation_id for e in events} == {"conv-1"}

    # A part of the work as a task of its own, under this one.
    child = await caller.create("say hello again", parent_task_id=task_id)
    assert child.parent_task_id == task_id
    assert {e.parent_task_id for e in await lifecycle(bus, child.task_id)} == {task_id}
