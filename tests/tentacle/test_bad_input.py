"""Bad input gets a clear error code and changes nothing: malformed requests, unknown ids,
another organisation's ids, answers to checkpoints that are not pending, invalid plans."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts.ids import new_id
from contracts.platform.errors import BusErrorCode
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    InputResponseV1,
    RespondCheckpointV1,
)
from contracts.tentacle.errors import TentacleErrorCode as E
from contracts.tentacle.models import (
    CancelTaskV1,
    CreateTaskV1,
    GetTaskV1,
    ListTaskEventsV1,
    ListTasksV1,
    PauseTaskV1,
    RegisterAgentV1,
    ResumeTaskV1,
    RetryTaskV1,
    SupersedePolicy,
    SupersedeTaskV1,
    TaskDetailV1,
    TaskRefV1,
    TaskStatus,
    task_id_for,
)
from contracts.tentacle.subjects import (
    AGENT_REGISTER,
    TASK_CANCEL,
    TASK_COST,
    TASK_CREATE,
    TASK_CREATE_RPC,
    TASK_EVENTS,
    TASK_GET,
    TASK_LIST,
    TASK_PAUSE,
    TASK_RESPOND_CHECKPOINT,
    TASK_RESUME,
    TASK_RETRY,
    TASK_SUPERSEDE,
)
from shared.bus import Bus, RemoteError
from shared.bus.deadletter import list_dead_letters
from shared.service import ServiceApp
from tests.shared.bus.conftest import eventually
from tests.tentacle.conftest import ORG, Caller, lifecycle
from tests.tentacle.test_commands import approval_plan


async def refused(caller: Caller, subject: Any, payload: Any) -> str:
    with pytest.raises(RemoteError) as caught:
        await caller.ask(subject, payload)
    return caught.value.code


def fingerprint(detail: TaskDetailV1) -> Any:
    """Everything about a task that a refused request must leave as it was."""
    task = detail.task
    return (
        task.status,
        task.event_seq,
        task.updated_at,
        [(s.step_id, s.status, s.attempts) for s in detail.steps],
        [(c.checkpoint_id, c.status) for c in detail.checkpoints],
    )


async def test_unknown_and_foreign_task_ids_are_not_found_and_change_nothing(
    tentacle: ServiceApp, caller: Caller, stranger: Caller, bus: Bus
) -> None:
    task = await caller.create("guarded", plan=approval_plan())
    before = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    checkpoint = before.checkpoints[0].checkpoint_id
    events = len(await lifecycle(bus, task.task_id))
    for who, task_id in ((caller, new_id()), (stranger, task.task_id)):
        requests: list[tuple[Any, Any]] = [
            (TASK_GET, GetTaskV1(task_id=task_id)),
            (TASK_PAUSE, PauseTaskV1(task_id=task_id)),
            (TASK_RESUME, ResumeTaskV1(task_id=task_id)),
            (TASK_CANCEL, CancelTaskV1(task_id=task_id)),
            (TASK_RETRY, RetryTaskV1(task_id=task_id)),
            (TASK_EVENTS, ListTaskEventsV1(task_id=task_id)),
            (TASK_COST, TaskRefV1(task_id=task_id)),
            (
                TASK_SUPERSEDE,
                SupersedeTaskV1(
                    task_id=task_id,
                    request_id=new_id(),
                    goal="mine now",
                    policy=SupersedePolicy.INTERRUPT,
                ),
            ),
            (
                TASK_RESPOND_CHECKPOINT,
                RespondCheckpointV1(
                    task_id=task_id,
                    checkpoint_id=checkpoint,
                    response=ApprovalResponseV1(approved=True),
                ),
            ),
        ]
        for subject, payload in requests:
            assert await refused(who, subject, payload) == E.TASK_NOT_FOUND, subject
        child = CreateTaskV1(request_id=new_id(), goal="a part of it", parent_task_id=task_id)
        assert await refused(who, TASK_CREATE_RPC, child) == E.TASK_NOT_FOUND
        never = GetTaskV1(task_id=task_id_for(who.org_id, child.request_id))
        assert await refused(who, TASK_GET, never) == E.TASK_NOT_FOUND
    assert (await stranger.ask(TASK_LIST, ListTasksV1())).tasks == []
    after = await caller.get(task.task_id)
    assert fingerprint(after) == fingerprint(before)
    assert len(await lifecycle(bus, task.task_id)) == events


async def test_checkpoint_answers_that_do_not_fit_change_nothing(
    tentacle: ServiceApp, caller: Caller
) -> None:
    task = await caller.create("guarded", plan=approval_plan())
    before = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    checkpoint = before.checkpoints[0].checkpoint_id

    def answer(checkpoint_id: str, response: Any) -> RespondCheckpointV1:
        return RespondCheckpointV1(
            task_id=task.task_id, checkpoint_id=checkpoint_id, response=response
        )

    wrong_type = answer(checkpoint, InputResponseV1(values={"x": 1}))
    assert (
        await refused(caller, TASK_RESPOND_CHECKPOINT, wrong_type) == E.CHECKPOINT_RESPONSE_INVALID
    )
    unknown = answer(new_id(), ApprovalResponseV1(approved=True))
    assert await refused(caller, TASK_RESPOND_CHECKPOINT, unknown) == E.CHECKPOINT_NOT_FOUND
    assert fingerprint(await caller.get(task.task_id)) == fingerprint(before)

    await caller.ask(TASK_RESPOND_CHECKPOINT, answer(checkpoint, ApprovalResponseV1(approved=True)))
    done = await caller.wait(task.task_id)
    again = answer(checkpoint, ApprovalResponseV1(approved=False, feedback="changed my mind"))
    assert await refused(caller, TASK_RESPOND_CHECKPOINT, again) == E.CHECKPOINT_NOT_PENDING
    assert fingerprint(await caller.get(task.task_id)) == fingerprint(done)


async def test_commands_the_state_does_not_allow_are_refused(
    tentacle: ServiceApp, caller: Caller
) -> None:
    task = await caller.create("quick", plan={"steps": [{"id": "a", "agent": "noop"}]})
    done = await caller.wait(task.task_id)
    for subject, payload in (
        (TASK_RESUME, ResumeTaskV1(task_id=task.task_id)),
        (TASK_PAUSE, PauseTaskV1(task_id=task.task_id)),
        (TASK_CANCEL, CancelTaskV1(task_id=task.task_id)),
        (TASK_RETRY, RetryTaskV1(task_id=task.task_id)),
    ):
        assert await refused(caller, subject, payload) == E.INVALID_TRANSITION
    assert fingerprint(await caller.get(task.task_id)) == fingerprint(done)


async def test_a_reused_request_id_and_an_invalid_plan_create_nothing(
    tentacle: ServiceApp, caller: Caller
) -> None:
    first = await caller.create("the original", request_id="req-1", plan=approval_plan())
    before = await caller.wait_status(first.task_id, TaskStatus.CHECKPOINT)
    clash = CreateTaskV1(request_id="req-1", goal="something else")
    assert await refused(caller, TASK_CREATE_RPC, clash) == E.REQUEST_CONFLICT
    assert fingerprint(await caller.get(first.task_id)) == fingerprint(before)

    bad_plan = CreateTaskV1.model_validate(
        {
            "request_id": "req-2",
            "goal": "x",
            "plan": {
                "steps": [
                    {"id": "a", "agent": "noop", "inputs": {"v": {"$ref": "b.out"}}},
                    {"id": "b", "agent": "notify", "depends_on": ["a"]},
                ]
            },
        }
    )
    with pytest.raises(RemoteError) as caught:
        await caller.ask(TASK_CREATE_RPC, bad_plan)
    assert caught.value.code == E.PLAN_INVALID
    problems = (caught.value.details or {})["problems"]
    assert any("cycle" in p for p in problems)
    assert any("missing_input" in p for p in problems)
    get = GetTaskV1(task_id=task_id_for(ORG, "req-2"))
    assert await refused(caller, TASK_GET, get) == E.TASK_NOT_FOUND


async def test_malformed_requests_and_commands_are_refused_with_a_code(
    tentacle: ServiceApp, caller: Caller, bus: Bus
) -> None:
    for body in (
        {"request_id": "has.dots", "goal": "x"},
        {"request_id": "ok", "goal": ""},
        {"request_id": "ok", "goal": "x", "budget_usd": "-1"},
        {"request_id": "ok", "goal": "x", "plan": {"steps": []}},
    ):
        envelope = {
            "meta": {
                "message_id": new_id(),
                "type": "CreateTaskV1",
                "org_id": ORG,
                "actor": {"kind": "user", "id": "ada"},
                "call_id": new_id(),
                "root_call_id": new_id(),
            },
            "data": body,
        }
        raw = json.dumps(envelope).encode()
        reply = json.loads(await bus.request_raw(TASK_CREATE_RPC.template, raw, timeout=5))
        assert reply["error"]["code"] == BusErrorCode.INVALID_PAYLOAD, body
        await bus.js.publish(TASK_CREATE.template, raw)

    async def dead_lettered() -> bool:
        letters = await list_dead_letters(bus, service="tentacle", limit=100)
        return len(letters) == 4

    await eventually(dead_lettered)
    assert (await caller.ask(TASK_LIST, ListTasksV1())).tasks == []

    nobody = Caller(bus, org_id=ORG)
    nobody.org_id = None  # type: ignore[assignment]
    assert await refused(nobody, TASK_LIST, ListTasksV1()) == E.ORG_REQUIRED


async def test_agent_definitions_are_validated(tentacle: ServiceApp, caller: Caller) -> None:
    for yaml in (
        "name: [unclosed",
        "- a list",
        "name: summarize\ndescription: mine\nruntime: llm\ntask_type: summarize",
        "name: scraper\ndescription: code\nruntime: http_fetch",
        "name: thing\ndescription: no task type\nruntime: llm",
        "name: thing\ndescription: x\nruntime: llm\ntask_type: t\ninputs: {type: string}",
    ):
        assert await refused(caller, AGENT_REGISTER, RegisterAgentV1(yaml=yaml)) == E.AGENT_INVALID
