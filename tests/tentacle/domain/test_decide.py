"""The orchestrator's decisions, on state alone: dispatch, results, policies, checkpoints."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from contracts.envelope import ErrorV1
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointStatus,
    ModifyResponseV1,
    SelectResponseV1,
)
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskEventKind as K
from contracts.tentacle.models import StepStatus, TaskConstraintsV1, TaskStatus, TerminalReason
from tentacle.domain.commands import cancel, pause, respond, resume, retry
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import StepOutcome, decide, record_result
from tentacle.domain.errors import TentacleError
from tentacle.domain.policy import Policy
from tentacle.domain.state import TaskState
from tests.tentacle.domain.helpers import NOW, REGISTRY, USER, plan, planned, step

POLICY = Policy(max_parallel=2, max_replans=1)
S = TaskStatus


def cycle(state: TaskState, minutes: float = 0) -> Cycle:
    c = Cycle(state, NOW + timedelta(minutes=minutes))
    decide(c, REGISTRY, POLICY)
    return c


def finish_step(state: TaskState, step_id: str, output: object = None, **kw: object) -> Cycle:
    c = Cycle(state, NOW)
    attempt = state.steps[step_id].attempts
    assert record_result(c, step_id, state.plan_version, attempt, StepOutcome(output, **kw))  # type: ignore[arg-type]
    decide(c, REGISTRY, POLICY)
    return c


def status(state: TaskState) -> TaskStatus:
    # A function call, so the type checker does not narrow the status across assertions.
    return state.status


def failure(code: str = "tentacle.agent_failed") -> ErrorV1:
    return ErrorV1(code=code, message="it broke")


def test_a_linear_plan_runs_step_by_step_and_completes_with_the_last_output() -> None:
    state = planned(plan(step("a"), step("b", inputs={"x": {"$ref": "a.value"}})))
    c = cycle(state)
    assert [e.kind for e in c.events] == [K.STARTED, K.STEP_STARTED]
    assert [d.step_id for d in c.dispatches] == ["a"]
    assert status(state) is S.EXECUTING

    c = finish_step(state, "a", {"value": 7})
    assert [e.kind for e in c.events] == [K.STEP_COMPLETED, K.STEP_STARTED]
    assert c.dispatches[0].inputs == {"x": 7}

    c = finish_step(state, "b", {"text": "done it"})
    assert [e.kind for e in c.events] == [K.STEP_COMPLETED, K.COMPLETED]
    assert status(state) is S.COMPLETED
    assert state.result == {"text": "done it"}
    assert state.summary == "done it"
    assert state.terminal_reason is TerminalReason.COMPLETED


def test_decide_is_idempotent_on_state() -> None:
    state = planned(plan(step("a")))
    cycle(state)
    again = cycle(state)
    assert not again.changed


def test_parallel_steps_respect_the_limit() -> None:
    state = planned(plan(*(step(f"s{i}", parallel_group="g") for i in range(5))))
    c = cycle(state)
    assert len(c.dispatches) == 2
    c = finish_step(state, "s0", 1)
    assert [d.step_id for d in c.dispatches] == ["s2"]


def test_a_stale_or_duplicate_result_is_ignored() -> None:
    state = planned(plan(step("a"), step("b", depends_on=["a"])))
    cycle(state)
    finish_step(state, "a", 1)
    c = Cycle(state, NOW)
    assert not record_result(c, "a", state.plan_version, 1, StepOutcome(2))
    assert not record_result(c, "b", state.plan_version + 1, 1, StepOutcome(2))
    assert not record_result(c, "b", state.plan_version, 2, StepOutcome(2))
    assert not c.changed


def test_fail_fast_replans_then_gives_up() -> None:
    state = planned(plan(step("a", parallel_group="g"), step("b", parallel_group="g")))
    cycle(state)
    c = finish_step(state, "a", error=failure())
    assert status(state) is S.PLANNING
    assert [e.kind for e in c.events] == [K.STEP_FAILED, K.REPLANNED]
    assert c.advance is not None
    assert state.steps["b"].status is StepStatus.SKIPPED  # its late result is ignored
    assert state.replan_count == 1


def test_replans_are_bounded() -> None:
    state = planned(plan(step("a")), replan_count=1)
    cycle(state)
    finish_step(state, "a", error=failure())
    assert status(state) is S.FAILED
    assert state.terminal_reason is TerminalReason.REPLANS_EXHAUSTED
    assert state.error is not None
    assert state.error.code == TentacleErrorCode.REPLANS_EXHAUSTED


def test_best_effort_tolerates_failures_and_references_read_null() -> None:
    p = plan(
        step("a", parallel_group="g", failure_policy="best_effort"),
        step("b", parallel_group="g"),
        step("c", inputs={"x": {"$ref": "a.v"}, "y": {"$ref": "b.v"}}),
    )
    state = planned(p)
    cycle(state)
    c = finish_step(state, "a", error=failure())
    detail = c.events[0].detail
    assert detail.kind == "step_failed"
    assert detail.tolerated
    c = finish_step(state, "b", {"v": 2})
    assert c.dispatches[0].inputs == {"x": None, "y": 2}


def test_all_or_nothing_waits_for_the_group_then_fails_it() -> None:
    p = plan(
        step("a", parallel_group="g", failure_policy="all_or_nothing"),
        step("b", parallel_group="g"),
    )
    state = planned(p, why="supplied")
    cycle(state)
    finish_step(state, "a", error=failure())
    assert status(state) is S.EXECUTING  # b is still running
    finish_step(state, "b", 1)
    assert status(state) is S.FAILED
    assert state.terminal_reason is TerminalReason.STEP_FAILED  # supplied plans never replan


def test_budget_exhaustion_fails_at_once_with_its_own_reason() -> None:
    state = planned(plan(step("a")))
    cycle(state)
    finish_step(state, "a", error=failure("llm.budget_exceeded"))
    assert status(state) is S.FAILED
    assert state.terminal_reason is TerminalReason.BUDGET_EXCEEDED


def test_risky_steps_wait_for_approval_then_run() -> None:
    p = plan(
        step("get", "fetch", inputs={"url": "https://x.test"}),
        step("send", "mail", inputs={"to": "a@b.c"}, depends_on=["get"]),
    )
    state = planned(p)
    cycle(state)
    assert [d.step_id for d in cycle(state).dispatches] == []
    c = finish_step(state, "get", {"text": "hi"})
    assert status(state) is S.CHECKPOINT
    assert c.events[-1].kind is K.CHECKPOINT_REQUESTED
    [holder] = state.pending_checkpoints()
    assert holder.view.preference_key == "mail:send_message"
    assert holder.view.reasons == ["sends a message"]
    assert state.steps["send"].status is StepStatus.WAITING

    c = Cycle(state, NOW)
    respond(c, holder.view.checkpoint_id, ApprovalResponseV1(approved=True), USER, REGISTRY)
    decide(c, REGISTRY, POLICY)
    assert [e.kind for e in c.events] == [K.CHECKPOINT_RESOLVED, K.STEP_STARTED]
    assert c.events[0].status is S.EXECUTING
    assert [d.step_id for d in c.dispatches] == ["send"]


def test_a_get_is_not_risky_but_a_post_is() -> None:
    state = planned(plan(step("get", "fetch", inputs={"url": "https://x.test", "method": "post"})))
    cycle(state)
    assert status(state) is S.CHECKPOINT
    state = planned(plan(step("get", "fetch", inputs={"url": "https://x.test"})))
    cycle(state)
    assert status(state) is S.EXECUTING


def test_rejection_fails_the_task_and_the_checkpoint_is_then_not_pending() -> None:
    state = planned(plan(step("send", "mail", inputs={"to": "a@b.c"})))
    cycle(state)
    [holder] = state.pending_checkpoints()
    checkpoint_id = holder.view.checkpoint_id
    c = Cycle(state, NOW)
    respond(c, checkpoint_id, ApprovalResponseV1(approved=False, feedback="no"), USER, REGISTRY)
    decide(c, REGISTRY, POLICY)
    assert status(state) is S.FAILED
    assert state.terminal_reason is TerminalReason.CHECKPOINT_REJECTED
    with pytest.raises(TentacleError) as caught:
        respond(Cycle(state, NOW), checkpoint_id, ApprovalResponseV1(approved=True), USER, REGISTRY)
    assert caught.value.code == TentacleErrorCode.CHECKPOINT_NOT_PENDING


def test_typed_responses_must_fit_their_checkpoint() -> None:
    p = plan(step("pick", checkpoint={"type": "select", "options": ["red", "blue"]}))
    state = planned(p)
    cycle(state)
    [holder] = state.pending_checkpoints()
    checkpoint_id = holder.view.checkpoint_id
    for wrong in (
        SelectResponseV1(choice="green"),
        ApprovalResponseV1(approved=True),
        ModifyResponseV1(inputs={}),
    ):
        with pytest.raises(TentacleError) as caught:
            respond(Cycle(state, NOW), checkpoint_id, wrong, USER, REGISTRY)
        assert caught.value.code == TentacleErrorCode.CHECKPOINT_RESPONSE_INVALID
    c = Cycle(state, NOW)
    respond(c, checkpoint_id, SelectResponseV1(choice="blue"), USER, REGISTRY)
    decide(c, REGISTRY, POLICY)
    assert c.dispatches[0].inputs == {"selection": "blue"}


def test_an_unanswered_checkpoint_expires_with_its_default() -> None:
    state = planned(plan(step("send", "mail", inputs={"to": "a@b.c"})))
    cycle(state)
    c = cycle(state, minutes=24 * 60 + 1)
    assert [e.kind for e in c.events][:2] == [K.CHECKPOINT_RESOLVED, K.FAILED]
    assert state.terminal_reason is TerminalReason.CHECKPOINT_EXPIRED


def test_auto_approve_and_learned_preferences_skip_the_question() -> None:
    p = plan(step("send", "mail", inputs={"to": "a@b.c"}))
    state = planned(p, constraints=TaskConstraintsV1(auto_approve=True))
    assert [d.step_id for d in cycle(state).dispatches] == ["send"]
    state = planned(p, auto_approved=frozenset({"mail:send_message"}))
    c = cycle(state)
    assert [e.kind for e in c.events] == [K.STARTED, K.CHECKPOINT_RESOLVED, K.STEP_STARTED]
    assert next(iter(state.checkpoints.values())).view.auto


def test_pause_holds_dispatch_and_resume_carries_on() -> None:
    state = planned(plan(step("a"), step("b", depends_on=["a"])))
    cycle(state)
    pause(Cycle(state, NOW), USER, "lunch")
    c = finish_step(state, "a", 1)
    assert not c.dispatches
    assert status(state) is S.PAUSED
    c = Cycle(state, NOW)
    resume(c, USER)
    decide(c, REGISTRY, POLICY)
    assert [d.step_id for d in c.dispatches] == ["b"]
    with pytest.raises(TentacleError):
        resume(Cycle(state, NOW), USER)


def test_cancel_skips_open_steps_and_retry_reruns_failures() -> None:
    state = planned(plan(step("a")), why="supplied")
    cycle(state)
    finish_step(state, "a", error=failure())
    assert status(state) is S.FAILED
    c = Cycle(state, NOW)
    retry(c, USER, Decimal(5))
    decide(c, REGISTRY, POLICY)
    assert [e.kind for e in c.events] == [K.RETRIED, K.STARTED, K.STEP_STARTED]
    assert c.dispatches[0].attempt == 2
    assert state.budget_usd == Decimal(5)
    cancel(Cycle(state, NOW), USER, "enough")
    assert status(state) is S.CANCELLED
    assert state.steps["a"].status is StepStatus.SKIPPED
    with pytest.raises(TentacleError):
        cancel(Cycle(state, NOW), USER, "again")


def test_a_deadline_fails_the_task() -> None:
    state = planned(
        plan(step("a")), constraints=TaskConstraintsV1(deadline=NOW + timedelta(minutes=5))
    )
    cycle(state)
    cycle(state, minutes=6)
    assert state.terminal_reason is TerminalReason.DEADLINE_EXCEEDED


def test_checkpoint_statuses_are_recorded() -> None:
    state = planned(plan(step("send", "mail", inputs={"to": "a@b.c"})))
    cycle(state)
    cancel(Cycle(state, NOW), USER, "stop")
    [holder] = state.checkpoints.values()
    assert holder.view.status is CheckpointStatus.CANCELLED
