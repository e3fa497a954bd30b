"""The orchestrator's decisions: a pure function of the task's state (and the clock).

`decide` is idempotent on state: run twice on the same state, the second run finds nothing to
do. That is what makes redelivered work items and concurrent replicas harmless: whoever holds
the task's row lock decides on the state the previous holder left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.envelope import ErrorV1
from contracts.ids import new_id
from contracts.tentacle.checkpoints import CheckpointStatus, CheckpointV1, DefaultAction
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import (
    CheckpointRequestedDetailV1,
    CheckpointResolvedDetailV1,
    CompletedDetailV1,
    FailedDetailV1,
    PlannedDetailV1,
    ReplannedDetailV1,
    StartedDetailV1,
    StepCompletedDetailV1,
    StepFailedDetailV1,
    StepStartedDetailV1,
    StepSummaryV1,
    TaskEventDetailV1,
)
from contracts.tentacle.models import AdvanceReason, StepStatus, TaskStatus, TerminalReason
from contracts.tentacle.plans import CheckpointType, FailurePolicy, PlanV1
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.checkpoint_rules import CheckpointNeed, checkpoint_need
from tentacle.domain.cycle import Cycle
from tentacle.domain.lifecycle import TERMINAL
from tentacle.domain.policy import Policy
from tentacle.domain.refs import resolve
from tentacle.domain.state import StepState
from tentacle.domain.text import preview, shorten, text_of
from tentacle.domain.validation import dependencies

S = TaskStatus

LLM_BUDGET_EXCEEDED = "llm.budget_exceeded"
"""The gateway's code (shared.llm.BudgetExceeded), named here to keep litellm out of the domain."""

_FINAL_REASONS = {
    LLM_BUDGET_EXCEEDED: (TerminalReason.BUDGET_EXCEEDED, TentacleErrorCode.BUDGET_EXCEEDED),
    TentacleErrorCode.BUDGET_EXCEEDED.value: (
        TerminalReason.BUDGET_EXCEEDED,
        TentacleErrorCode.BUDGET_EXCEEDED,
    ),
    TentacleErrorCode.CHECKPOINT_REJECTED.value: (
        TerminalReason.CHECKPOINT_REJECTED,
        TentacleErrorCode.CHECKPOINT_REJECTED,
    ),
    TentacleErrorCode.CHECKPOINT_EXPIRED.value: (
        TerminalReason.CHECKPOINT_EXPIRED,
        TentacleErrorCode.CHECKPOINT_EXPIRED,
    ),
}
"""Step failures that end the task at once: replanning cannot fix a person's no or an
exhausted budget (and replanning would spend more)."""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    output: Any = None
    error: ErrorV1 | None = None
    cost_usd: Decimal = Decimal(0)

    @property
    def ok(self) -> bool:
        return self.error is None


# ====================================================================== results and plans
def record_result(
    c: Cycle, step_id: str, plan_version: int, attempt: int, outcome: StepOutcome
) -> bool:
    """Record what a step attempt produced; False if the attempt is stale (ignored)."""
    s = c.state
    step = s.steps.get(step_id)
    if (
        s.status in TERMINAL
        or s.status is S.PLANNING
        or plan_version != s.plan_version
        or step is None
        or step.status is not StepStatus.RUNNING
        or step.attempts != attempt
    ):
        return False
    cost = step.cost_usd + outcome.cost_usd
    if outcome.ok:
        c.update_step(
            step_id,
            status=StepStatus.COMPLETED,
            output=outcome.output,
            finished_at=c.now,
            cost_usd=cost,
        )
        c.emit(
            StepCompletedDetailV1(
                step_id=step_id,
                agent=step.agent,
                attempt=attempt,
                plan_version=plan_version,
                preview=preview(outcome.output),
                cost_usd=outcome.cost_usd,
            )
        )
        return True
    assert outcome.error is not None
    tolerated = (
        s.policy_of(step_id) is FailurePolicy.BEST_EFFORT
        and outcome.error.code not in _FINAL_REASONS
    )
    c.update_step(
        step_id,
        status=StepStatus.FAILED,
        error=outcome.error,
        tolerated=tolerated,
        finished_at=c.now,
        cost_usd=cost,
    )
    c.emit(
        StepFailedDetailV1(
            step_id=step_id,
            agent=step.agent,
            attempt=attempt,
            plan_version=plan_version,
            error=outcome.error,
            tolerated=tolerated,
        )
    )
    return True


def apply_plan(
    c: Cycle,
    plan: PlanV1,
    *,
    why: str,
    repairs: int = 0,
    model: str | None = None,
    offline: bool = False,
    carried: dict[str, StepState] | None = None,
) -> None:
    """Adopt a validated plan as the next version: PLANNING -> READY.

    `carried` are steps completed under the previous version that the new plan keeps (a
    replan rewrites only the rest); they stay completed with their outputs.
    """
    s = c.state
    carried = carried or {}
    s.plan = plan
    s.plan_version += 1
    s.plan_why = why
    s.steps = {}
    for spec in plan.steps:
        kept = carried.get(spec.id)
        if kept is not None and kept.agent == spec.agent and kept.status is StepStatus.COMPLETED:
            s.steps[spec.id] = StepState(
                step_id=spec.id,
                agent=spec.agent,
                status=StepStatus.COMPLETED,
                attempts=kept.attempts,
                output=kept.output,
                call_id=kept.call_id,
                parent_call_id=kept.parent_call_id,
                root_call_id=kept.root_call_id,
                started_at=kept.started_at,
                finished_at=kept.finished_at,
            )
        else:
            s.steps[spec.id] = StepState(step_id=spec.id, agent=spec.agent)
    c.new_plan = True
    c.dirty_steps |= set(s.steps)
    c.transition(
        S.READY,
        PlannedDetailV1(
            plan_version=s.plan_version,
            why=why,
            steps=[
                StepSummaryV1(
                    step_id=spec.id,
                    agent=spec.agent,
                    description=spec.description,
                    depends_on=sorted(dependencies(spec)),
                    parallel_group=spec.parallel_group,
                )
                for spec in plan.steps
            ],
            rationale=shorten(plan.rationale, 1000) if plan.rationale else "",
            repairs=repairs,
            model=model,
            offline=offline,
        ),
    )


# ====================================================================== ending a task
def finish(
    c: Cycle,
    target: TaskStatus,
    detail: TaskEventDetailV1,
    *,
    reason: TerminalReason,
    error: ErrorV1 | None = None,
) -> None:
    """Move to a terminal status: open steps are skipped, waiting checkpoints cancelled."""
    c.close_open_steps()
    for holder in c.state.pending_checkpoints():
        c.update_checkpoint(
            holder.view.checkpoint_id, status=CheckpointStatus.CANCELLED, resolved_at=c.now
        )
    c.set_task(terminal_reason=reason, error=error, finished_at=c.now)
    c.transition(target, detail)


def fail(c: Cycle, reason: TerminalReason, error: ErrorV1) -> None:
    finish(c, S.FAILED, FailedDetailV1(reason=reason, error=error), reason=reason, error=error)


def task_error(code: TentacleErrorCode, message: str, **details: Any) -> ErrorV1:
    clean = {k: v for k, v in details.items() if v is not None}
    return ErrorV1(code=code.value, message=message, details=clean or None)


# ====================================================================== decide
def decide(c: Cycle, registry: AgentRegistry, policy: Policy) -> None:
    s = c.state
    if s.status in TERMINAL:
        return
    deadline = s.constraints.deadline
    if deadline is not None and c.now >= deadline:
        fail(
            c,
            TerminalReason.DEADLINE_EXCEEDED,
            task_error(TentacleErrorCode.DEADLINE_EXCEEDED, f"not finished by {deadline}"),
        )
        return
    if s.status in (S.PAUSED, S.PLANNING):
        return
    _expire_checkpoints(c)
    if s.status in TERMINAL:
        return
    if s.status is S.READY:
        c.transition(S.EXECUTING, StartedDetailV1(plan_version=s.plan_version))
    if _handle_failures(c, policy) or s.status is S.CHECKPOINT:
        return
    if all(step.done for step in s.steps.values()):
        _complete(c)
        return
    _dispatch_ready(c, registry, policy)


def _handle_failures(c: Cycle, policy: Policy) -> bool:
    """True when failures decided the cycle (the task failed, replans, or waits for a group)."""
    s = c.state
    failed = [st for st in s.steps.values() if st.status is StepStatus.FAILED and not st.tolerated]
    if not failed:
        return False
    for step in failed:
        if s.policy_of(step.step_id) is FailurePolicy.ALL_OR_NOTHING:
            siblings = [s.steps[i] for i in s.group_of(step.step_id)]
            if any(sib.status in (StepStatus.RUNNING, StepStatus.WAITING) for sib in siblings):
                return True  # the group fails as a whole once every sibling is back
    _fail_or_replan(c, failed[0], policy)
    return True


def _fail_or_replan(c: Cycle, step: StepState, policy: Policy) -> None:
    s = c.state
    cause = step.error or task_error(TentacleErrorCode.STEP_FAILED, "the step failed")
    final = _FINAL_REASONS.get(cause.code)
    if final is not None:
        reason, code = final
        fail(c, reason, task_error(code, cause.message, step_id=step.step_id, cause=cause.code))
        return
    replannable = s.plan_why != "supplied"
    if replannable and s.replan_count < policy.max_replans:
        c.close_open_steps()
        for holder in s.pending_checkpoints():
            c.update_checkpoint(
                holder.view.checkpoint_id, status=CheckpointStatus.CANCELLED, resolved_at=c.now
            )
        c.set_task(replan_count=s.replan_count + 1)
        c.transition(
            S.PLANNING,
            ReplannedDetailV1(replan=s.replan_count, failed_step_id=step.step_id, error=cause),
        )
        c.request_advance(AdvanceReason.REPLAN)
        return
    exhausted = replannable and s.replan_count > 0
    reason = TerminalReason.REPLANS_EXHAUSTED if exhausted else TerminalReason.STEP_FAILED
    code = TentacleErrorCode.REPLANS_EXHAUSTED if exhausted else TentacleErrorCode.STEP_FAILED
    message = f"step {step.step_id} ({step.agent}) failed: {cause.message}"
    if exhausted:
        message = f"still failing after {s.replan_count} replans; {message}"
    fail(c, reason, task_error(code, message, step_id=step.step_id, cause=cause.code))


def _complete(c: Cycle) -> None:
    s = c.state
    assert s.plan is not None
    waited_on: set[str] = set()
    for spec in s.plan.steps:
        waited_on |= dependencies(spec)
    sinks = [spec.id for spec in s.plan.steps if spec.id not in waited_on]
    outputs = {i: s.steps[i].output for i in sinks if s.steps[i].status is StepStatus.COMPLETED}
    result: Any = outputs[sinks[0]] if len(sinks) == 1 and sinks[0] in outputs else outputs
    text = text_of(result)
    summary = shorten(text, 500) if text else None
    cost = sum((st.cost_usd for st in s.steps.values()), Decimal(0))
    c.set_task(result=result, summary=summary)
    finish(
        c,
        S.COMPLETED,
        CompletedDetailV1(summary=summary, result=_bounded(result), cost_usd=cost),
        reason=TerminalReason.COMPLETED,
    )


def _bounded(result: Any) -> Any:
    """The result as carried in the event: whole when small, else a preview (get has it all)."""
    return result if len(preview(result, 4001)) <= 4000 else preview(result, 4000)


# ====================================================================== dispatching
def step_inputs(c: Cycle, step_id: str) -> dict[str, Any]:
    """The step's inputs with every reference resolved (and a checkpoint's answers applied)."""
    s = c.state
    spec = s.spec(step_id)
    outputs = {i: st.output for i, st in s.steps.items() if st.status is StepStatus.COMPLETED}
    inputs: dict[str, Any] = resolve(dict(spec.inputs), outputs, s.context)
    cleared = s.steps[step_id].cleared
    if cleared and cleared.get("override"):
        override: dict[str, Any] = cleared["override"]
        if override.get("replace"):
            inputs = dict(override["inputs"])
        else:
            inputs.update(override["inputs"])
    return inputs


def _dispatch_ready(c: Cycle, registry: AgentRegistry, policy: Policy) -> None:
    """Start every step whose dependencies are done, up to the parallelism limit.

    If any of them must wait for a person, none starts in this cycle: the task waits for the
    answers (asked all at once) and carries on after them.
    """
    s = c.state
    assert s.plan is not None
    jobs: list[tuple[str, dict[str, Any]]] = []
    asks: list[tuple[str, CheckpointNeed, dict[str, Any]]] = []
    for spec in s.plan.steps:
        step = s.steps[spec.id]
        if step.status is not StepStatus.PENDING:
            continue
        # `depends_on` first: it settles most waiting steps without walking their inputs for
        # references (every cycle of a long chain asks this of every step still pending).
        if not all(s.steps[d].done for d in spec.depends_on if d in s.steps):
            continue
        if not all(s.steps[d].done for d in dependencies(spec) if d in s.steps):
            continue
        inputs = step_inputs(c, spec.id)
        agent = registry.get(spec.agent)
        need = None
        if step.cleared is None and agent is not None:
            need = checkpoint_need(
                spec, agent, inputs, cost_threshold_usd=policy.cost_threshold_usd
            )
        if need is not None and not _approved_upfront(c, spec.id, need, inputs):
            asks.append((spec.id, need, inputs))
        else:
            jobs.append((spec.id, inputs))
    if asks:
        for step_id, need, inputs in asks:
            _ask(c, step_id, need, inputs, policy, registry)
        return
    limit = s.constraints.max_parallel or s.plan.max_parallel or policy.max_parallel
    running = sum(1 for st in s.steps.values() if st.status is StepStatus.RUNNING)
    for step_id, inputs in jobs[: max(limit - running, 0)]:
        spec = s.spec(step_id)
        job = c.dispatch(step_id, inputs)
        c.emit(
            StepStartedDetailV1(
                step_id=step_id,
                agent=spec.agent,
                attempt=job.attempt,
                plan_version=s.plan_version,
                description=spec.description,
            )
        )


def _approved_upfront(c: Cycle, step_id: str, need: CheckpointNeed, inputs: dict[str, Any]) -> bool:
    s = c.state
    if not need.approvable_upfront:
        return False
    if s.constraints.auto_approve:
        return True
    if need.preference_key not in s.auto_approved:
        return False
    # Recorded like an answered checkpoint, so the audit trail shows what was approved how.
    view = _checkpoint_view(c, step_id, need, inputs, DefaultAction.APPROVE, c.now)
    view = view.model_copy(
        update={"status": CheckpointStatus.APPROVED, "auto": True, "resolved_at": c.now}
    )
    c.add_checkpoint(view)
    c.update_step(step_id, cleared={"checkpoint_id": view.checkpoint_id, "override": None})
    c.emit(
        CheckpointResolvedDetailV1(
            checkpoint_id=view.checkpoint_id,
            step_id=step_id,
            status=CheckpointStatus.APPROVED,
            auto=True,
        )
    )
    return True


def _checkpoint_view(
    c: Cycle,
    step_id: str,
    need: CheckpointNeed,
    inputs: dict[str, Any],
    default: DefaultAction,
    expires_at: datetime,
) -> CheckpointV1:
    s = c.state
    spec = s.spec(step_id)
    explicit = spec.checkpoint
    return CheckpointV1(
        checkpoint_id=new_id(),
        task_id=s.task_id,
        step_id=step_id,
        plan_version=s.plan_version,
        agent=spec.agent,
        type=need.type,
        status=CheckpointStatus.PENDING,
        title=need.title,
        message=need.message,
        reasons=list(need.reasons),
        preview=inputs,
        options=list(explicit.options) if explicit else [],
        questions=list(explicit.questions) if explicit else [],
        fields=list(explicit.fields) if explicit else [],
        preference_key=need.preference_key,
        default_action=default,
        expires_at=expires_at,
        created_at=c.now,
    )


def _ask(
    c: Cycle,
    step_id: str,
    need: CheckpointNeed,
    inputs: dict[str, Any],
    policy: Policy,
    registry: AgentRegistry,
) -> None:
    s = c.state
    agent = registry.get(s.spec(step_id).agent)
    default = policy.checkpoint_default
    ttl = policy.checkpoint_ttl
    if agent is not None:
        default = agent.checkpoint.default_action
        if agent.checkpoint.ttl_seconds is not None:
            ttl = timedelta(seconds=agent.checkpoint.ttl_seconds)
    view = _checkpoint_view(c, step_id, need, inputs, default, c.now + ttl)
    c.add_checkpoint(view)
    c.update_step(step_id, status=StepStatus.WAITING)
    detail = CheckpointRequestedDetailV1(checkpoint=view)
    if s.status is S.EXECUTING:
        c.transition(S.CHECKPOINT, detail)
    else:
        c.emit(detail)


# ====================================================================== checkpoints
def resolve_checkpoint(
    c: Cycle,
    checkpoint_id: str,
    status: CheckpointStatus,
    *,
    override: dict[str, Any] | None = None,
    response: Any = None,
    by: Any = None,
    auto: bool = False,
    feedback: str | None = None,
) -> CheckpointV1:
    """Close a pending checkpoint: the step is cleared to run, or fails with the refusal."""
    s = c.state
    view = c.update_checkpoint(
        checkpoint_id,
        status=status,
        response=response,
        resolved_by=by,
        auto=auto,
        resolved_at=c.now,
    )
    outcome = status
    if status is CheckpointStatus.EXPIRED:
        outcome = (
            CheckpointStatus.APPROVED
            if view.default_action is DefaultAction.APPROVE
            else CheckpointStatus.REJECTED
        )
    step = s.steps.get(view.step_id)
    current = view.plan_version == s.plan_version
    if step is not None and current and step.status is StepStatus.WAITING:
        if outcome is CheckpointStatus.APPROVED:
            c.update_step(
                view.step_id,
                status=StepStatus.PENDING,
                cleared={"checkpoint_id": checkpoint_id, "override": override},
            )
        else:
            expired = status is CheckpointStatus.EXPIRED
            code = TentacleErrorCode.CHECKPOINT_REJECTED
            if expired:
                code = TentacleErrorCode.CHECKPOINT_EXPIRED
            message = (
                "nobody answered the checkpoint in time"
                if expired
                else f"rejected: {feedback or 'no reason given'}"
            )
            c.update_step(
                view.step_id,
                status=StepStatus.FAILED,
                error=task_error(code, message, checkpoint_id=checkpoint_id),
                finished_at=c.now,
            )
    detail = CheckpointResolvedDetailV1(
        checkpoint_id=checkpoint_id,
        step_id=view.step_id,
        status=status,
        auto=auto,
        by=by,
        feedback=feedback,
    )
    still_waiting = bool(s.pending_checkpoints())
    if s.status is S.CHECKPOINT and not still_waiting:
        c.transition(S.EXECUTING, detail)
    else:
        if s.status is S.PAUSED and s.paused_from is S.CHECKPOINT and not still_waiting:
            c.set_task(paused_from=S.EXECUTING)
        c.emit(detail)
    return view


def _expire_checkpoints(c: Cycle) -> None:
    for holder in c.state.pending_checkpoints():
        if holder.view.expires_at <= c.now:
            resolve_checkpoint(c, holder.view.checkpoint_id, CheckpointStatus.EXPIRED, auto=True)


def override_for(kind: CheckpointType, response: Any) -> dict[str, Any] | None:
    """How a checkpoint's answer changes the step's inputs."""
    if kind is CheckpointType.MODIFY:
        return {"replace": True, "inputs": dict(response.inputs)}
    if kind is CheckpointType.INPUT:
        return {"replace": False, "inputs": dict(response.values)}
    if kind is CheckpointType.SELECT:
        return {"replace": False, "inputs": {"selection": response.choice}}
    if kind is CheckpointType.QA:
        return {"replace": False, "inputs": {"answers": dict(response.answers)}}
    return None
