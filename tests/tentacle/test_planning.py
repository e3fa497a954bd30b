"""The planner: the offline model plans from goals; a real model (litellm's HTTP path against the
stub) that answers garbage or invalid plans is repaired, re-asked, and never executed."""

from __future__ import annotations

import json
from decimal import Decimal

from pydantic import SecretStr

from contracts.tentacle.checkpoints import ApprovalResponseV1, RespondCheckpointV1
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import StepStatus, TaskRefV1, TaskStatus, TerminalReason
from contracts.tentacle.subjects import TASK_COST, TASK_RESPOND_CHECKPOINT
from shared.bus import Bus
from shared.llm import LLMSettings
from shared.testing.llm_stub import OpenAIStub, Scripted
from tests.tentacle.conftest import Caller, Start, lifecycle
from tests.tentacle.site import Site
from tests.tentacle.test_agents import mimic_sends

VALID = {
    "steps": [
        {"id": "draft", "agent": "compose", "inputs": {"instructions": "a haiku about tides"}},
    ],
    "rationale": "one step",
}
UNKNOWN_AGENT = {"steps": [{"id": "go", "agent": "teleport", "inputs": {}}]}


def model(stub: OpenAIStub, **task_types: str) -> LLMSettings:
    return LLMSettings(models=task_types, api_base=stub.base_url, api_key=SecretStr("sk-test"))


async def test_the_offline_planner_plans_a_goal_and_sending_waits_for_approval(
    start_tentacle: Start, caller: Caller, site: Site, bus: Bus
) -> None:
    await start_tentacle(http_allow_private=True)
    goal = f"Summarize {site.url}/article and email it to bob@example.com"
    task = await caller.create(goal)
    waiting = await caller.wait_status(task.task_id, TaskStatus.CHECKPOINT)
    assert waiting.plan is not None
    assert [s.agent for s in waiting.plan.document.steps] == [
        "http_fetch",
        "summarize",
        "compose",
        "notify",
    ]
    assert waiting.plan.why == "initial"
    [checkpoint] = waiting.checkpoints
    assert checkpoint.step_id == "send"
    assert checkpoint.reasons == ["sends a message", "marked high risk"]
    assert checkpoint.preview["to"] == "bob@example.com"
    assert "[offline model]" in str(checkpoint.preview["body"])
    assert await mimic_sends(bus) == []

    await caller.ask(
        TASK_RESPOND_CHECKPOINT,
        RespondCheckpointV1(
            task_id=task.task_id,
            checkpoint_id=checkpoint.checkpoint_id,
            response=ApprovalResponseV1(approved=True),
        ),
    )
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    [sent] = await mimic_sends(bus)
    assert sent.to.address == "bob@example.com"
    kinds = [e.kind for e in await lifecycle(bus, task.task_id)]
    assert kinds[:3] == [K.TASK_CREATED, K.PLANNED, K.STARTED]
    assert K.CHECKPOINT_REQUESTED in kinds
    assert kinds[-1] is K.COMPLETED


async def test_garbage_and_invalid_plans_are_repaired_never_run(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub, bus: Bus
) -> None:
    await start_tentacle(llm=model(llm_stub, plan="openai/gpt-4o-mini"))
    llm_stub.enqueue(
        Scripted(text="Sure! Here is your plan: do the thing."),
        Scripted(text=json.dumps(UNKNOWN_AGENT)),
        Scripted(text=json.dumps(VALID)),
    )
    task = await caller.create("write a haiku about tides")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.plan is not None
    assert done.plan.why == "repair"
    assert [s.step_id for s in done.steps] == ["draft"]
    assert len(llm_stub.requests) == 3
    repair = llm_stub.requests[1]["messages"][-1]["content"]
    assert "not JSON" in repair
    fresh = llm_stub.requests[2]["messages"][-1]["content"]
    assert "no agent named teleport" in fresh
    planned = [e for e in await lifecycle(bus, task.task_id) if e.kind is K.PLANNED]
    assert planned[0].detail.kind == "planned"
    assert planned[0].detail.repairs == 2
    assert planned[0].detail.model == "openai/gpt-4o-mini"
    assert not planned[0].detail.offline


async def test_a_model_that_only_answers_garbage_fails_planning_and_runs_nothing(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub, bus: Bus
) -> None:
    await start_tentacle(llm=model(llm_stub, plan="openai/gpt-4o-mini"))
    llm_stub.enqueue(*(Scripted(text="{not json") for _ in range(3)))
    task = await caller.create("anything")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.FAILED
    assert done.task.terminal_reason is TerminalReason.PLANNING_FAILED
    assert done.task.error is not None
    assert done.task.error.code == TentacleErrorCode.PLANNING_FAILED
    assert done.plan is None
    assert done.steps == []
    kinds = [e.kind for e in await lifecycle(bus, task.task_id)]
    assert kinds == [K.TASK_CREATED, K.FAILED]


async def test_a_failed_step_is_replanned_from_the_failure(
    start_tentacle: Start, caller: Caller, site: Site, bus: Bus
) -> None:
    await start_tentacle(http_allow_private=True)
    task = await caller.create(f"Summarize {site.url}/missing")
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.replan_count == 1
    assert done.plan is not None
    assert done.plan.version == 2
    assert done.plan.why == "replan"
    assert [s.agent for s in done.plan.document.steps] == ["summarize"]
    assert "fetching failed before" in done.plan.document.rationale
    kinds = [e.kind for e in await lifecycle(bus, task.task_id)]
    assert K.STEP_FAILED in kinds
    assert kinds.count(K.PLANNED) == 2
    assert K.REPLANNED in kinds


async def test_budgets_are_reserved_and_spend_is_attributed_to_the_call_tree(
    start_tentacle: Start, caller: Caller, llm_stub: OpenAIStub
) -> None:
    await start_tentacle(llm=model(llm_stub, summarize="openai/gpt-4o-mini"))
    llm_stub.enqueue(Scripted(text=json.dumps({"summary": "short", "points": []})))
    plan = {"steps": [{"id": "sum", "agent": "summarize", "inputs": {"text": "long text"}}]}
    task = await caller.create("sum", plan=plan)
    done = await caller.wait(task.task_id)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.task.spent_usd > 0
    cost = await caller.ask(TASK_COST, TaskRefV1(task_id=task.task_id))
    assert cost.total_usd == done.task.spent_usd == done.steps[0].cost_usd
    assert cost.by_agent == {"summarize": cost.total_usd}
    [task_node, step_node, llm_node] = cost.calls
    assert (task_node.kind, step_node.kind, llm_node.kind) == ("task", "step", "llm")
    assert step_node.parent_call_id == task_node.call_id
    assert llm_node.parent_call_id == step_node.call_id
    assert {n.root_call_id for n in cost.calls} == {task.root_call_id}

    # The same call with a budget far below its worst case is never made.
    sent = len(llm_stub.requests)
    broke = await caller.create("sum", plan=plan, budget_usd=Decimal("0.0000001"))
    failed = await caller.wait(broke.task_id)
    assert failed.task.status is TaskStatus.FAILED
    assert failed.task.terminal_reason is TerminalReason.BUDGET_EXCEEDED
    assert failed.task.error is not None
    assert failed.task.error.code == TentacleErrorCode.BUDGET_EXCEEDED
    assert failed.steps[0].status is StepStatus.FAILED
    assert len(llm_stub.requests) == sent
