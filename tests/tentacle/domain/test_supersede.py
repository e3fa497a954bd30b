"""Supersede policies on state alone: what each does to the running task."""

from __future__ import annotations

import pytest

from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import StepStatus, SupersedePolicy, TaskConstraintsV1, TaskStatus
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.commands import supersede
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import StepOutcome, decide, record_result
from tentacle.domain.errors import TentacleError
from tentacle.domain.policy import Policy
from tentacle.domain.state import TaskState
from tests.tentacle.domain.helpers import NOW, REGISTRY, USER, agent, plan, planned, step

POLICY = Policy(max_parallel=4, max_replans=1)


def running() -> TaskState:
    """get and post done, mail done, a second post in flight, a last step still to come."""
    state = planned(
        plan(
            step("get", "fetch", inputs={"url": "https://a.example"}),
            step("post", "fetch", inputs={"url": "https://a.example", "method": "POST"}),
            step("mail", "mail", inputs={"to": "a@b.c"}),
            step("late", "fetch", inputs={"url": "https://b.example", "method": "post"}),
            step("mail2", "mail", inputs={"to": "d@e.f"}),
            step("last", "noop", depends_on=["get", "post", "mail", "late", "mail2"]),
        ),
        constraints=TaskConstraintsV1(auto_approve=True),
    )
    decide(Cycle(state, NOW), REGISTRY, POLICY)
    for step_id in ("get", "post", "mail"):
        c = Cycle(state, NOW)
        assert record_result(c, step_id, 1, 1, StepOutcome({"ok": True}))
    decide(Cycle(state, NOW), REGISTRY, POLICY)
    assert state.steps["late"].status is StepStatus.RUNNING
    assert state.steps["mail2"].status is StepStatus.RUNNING
    return state


def status(state: TaskState) -> TaskStatus:
    # A function call, so the type checker does not narrow the status across assertions.
    return state.status


def apply(state: TaskState, policy: SupersedePolicy) -> tuple[Cycle, list[str]]:
    c = Cycle(state, NOW)
    rollback = supersede(
        c, policy, goal="something else", new_task_id="t-2", by=USER, registry=REGISTRY
    )
    return c, rollback.lasting


def test_rollback_lists_only_effects_that_happened_or_may_have() -> None:
    state = running()
    c, kept = apply(state, SupersedePolicy.ROLLBACK)
    # The GET changed nothing; the queued email of a step in flight never goes out.
    assert kept == ["post", "mail", "late"]
    assert status(state) is TaskStatus.SUPERSEDED
    [event] = c.events
    assert event.kind is K.SUPERSEDED
    assert state.steps["last"].status is StepStatus.SKIPPED


def test_interrupt_stops_without_listing_and_enqueue_keeps_running() -> None:
    state = running()
    c, kept = apply(state, SupersedePolicy.ENQUEUE)
    assert kept == []
    assert status(state) is TaskStatus.EXECUTING
    assert [e.kind for e in c.events] == [K.GOAL_QUEUED]
    c, kept = apply(state, SupersedePolicy.INTERRUPT)
    assert kept == []
    assert status(state) is TaskStatus.SUPERSEDED


def test_reject_and_finished_tasks_change_nothing() -> None:
    state = running()
    with pytest.raises(TentacleError) as refused:
        apply(state, SupersedePolicy.REJECT)
    assert refused.value.code == TentacleErrorCode.SUPERSEDE_REJECTED
    assert status(state) is TaskStatus.EXECUTING
    apply(state, SupersedePolicy.INTERRUPT)
    for policy in SupersedePolicy:
        with pytest.raises(TentacleError) as late:
            apply(state, policy)
        assert late.value.code == TentacleErrorCode.INVALID_TRANSITION


def test_rollback_undoes_what_the_agent_can_undo() -> None:
    store = agent(
        "store",
        runtime="file_storage",
        effects=[
            {
                "category": "data_mutation",
                "reason": "changes files",
                "when": {"input": "action", "in": ["save", "delete"]},
            }
        ],
        undo={
            "when": {"input": "action", "in": ["save"]},
            "inputs": {"action": "delete"},
            "from_output": {"file_id": "file_id"},
        },
    )
    registry = AgentRegistry({"store": store, "noop": agent("noop")})
    state = planned(
        plan(
            step("save", "store", inputs={"action": "save"}),
            step("bin", "store", inputs={"action": "delete", "file_id": "f-0"}),
            step("odd", "store", inputs={"action": "save"}),
            step("last", "noop", depends_on=["save", "bin", "odd"]),
        ),
        constraints=TaskConstraintsV1(auto_approve=True),
    )
    decide(Cycle(state, NOW), registry, POLICY)
    outputs = {"save": {"file_id": "f-1"}, "bin": {"file_id": "f-0"}, "odd": {"size": 3}}
    for step_id, output in outputs.items():
        assert record_result(Cycle(state, NOW), step_id, 1, 1, StepOutcome(output))
    c = Cycle(state, NOW)
    rollback = supersede(
        c, SupersedePolicy.ROLLBACK, goal="no", new_task_id="t-2", by=USER, registry=registry
    )
    # A delete has no undo here; a save whose output lacks the file id cannot be undone.
    assert rollback.undone == ["save"]
    assert rollback.lasting == ["bin", "odd"]
    [job] = c.undos
    assert (job.step_id, job.inputs) == ("save", {"action": "delete", "file_id": "f-1"})
