"""What people (and services) can do to a task: pause, resume, cancel, retry, supersede, and
answer a checkpoint. Each either changes the cycle's state or raises a coded error with nothing
changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from contracts.envelope import Actor
from contracts.tentacle.checkpoints import (
    ApprovalResponseV1,
    CheckpointStatus,
    CheckpointV1,
    InputResponseV1,
    ModifyResponseV1,
    QaResponseV1,
    SelectResponseV1,
)
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import (
    CancelledDetailV1,
    CompletedDetailV1,
    GoalQueuedDetailV1,
    PausedDetailV1,
    ResumedDetailV1,
    RetriedDetailV1,
    SupersededDetailV1,
)
from contracts.tentacle.models import (
    AdvanceReason,
    StepStatus,
    SupersedePolicy,
    TaskStatus,
    TerminalReason,
)
from contracts.tentacle.plans import CheckpointType
from tentacle.domain.agents import AgentRegistry, Runtime
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import finish, override_for, resolve_checkpoint, step_inputs
from tentacle.domain.errors import TentacleError
from tentacle.domain.lifecycle import TERMINAL, check_transition
from tentacle.domain.text import shorten, text_of

S = TaskStatus


def pause(c: Cycle, by: Actor, reason: str) -> None:
    s = c.state
    check_transition(s.status, S.PAUSED)
    was = s.status
    c.transition(S.PAUSED, PausedDetailV1(reason=reason, by=by))
    c.set_task(paused_from=was)


def resume(c: Cycle, by: Actor) -> None:
    s = c.state
    if s.status is not S.PAUSED:
        raise TentacleError(
            TentacleErrorCode.INVALID_TRANSITION, f"a {s.status.value} task is not paused"
        )
    target = s.paused_from or S.EXECUTING
    if target is S.CHECKPOINT and not s.pending_checkpoints():
        target = S.EXECUTING
    c.transition(target, ResumedDetailV1(by=by))
    c.set_task(paused_from=None)
    if target is S.PLANNING:
        c.request_advance(AdvanceReason.RESUMED)


def cancel(c: Cycle, by: Actor, reason: str) -> None:
    check_transition(c.state.status, S.CANCELLED)
    finish(
        c,
        S.CANCELLED,
        CancelledDetailV1(reason=reason, by=by),
        reason=TerminalReason.CANCELLED,
    )


def retry(c: Cycle, by: Actor, budget_usd: Decimal | None) -> None:
    s = c.state
    if s.status is not S.FAILED:
        raise TentacleError(
            TentacleErrorCode.INVALID_TRANSITION,
            f"only a failed task can be retried, not a {s.status.value} one",
        )
    reset: list[str] = []
    for step in s.steps.values():
        if step.status in (StepStatus.FAILED, StepStatus.SKIPPED):
            c.update_step(
                step.step_id,
                status=StepStatus.PENDING,
                error=None,
                tolerated=False,
                cleared=None,
                finished_at=None,
            )
            reset.append(step.step_id)
    changes: dict[str, Any] = {
        "terminal_reason": None,
        "error": None,
        "finished_at": None,
        "replan_count": 0,
    }
    if budget_usd is not None:
        changes["budget_usd"] = budget_usd
    c.set_task(**changes)
    target = S.READY if s.plan is not None else S.PLANNING
    c.transition(target, RetriedDetailV1(by=by, steps_reset=reset))
    if target is S.PLANNING:
        c.request_advance(AdvanceReason.RETRY)


@dataclass(frozen=True, slots=True)
class Rollback:
    lasting: list[str]
    """Steps whose effects outside stay."""
    undone: list[str]
    """Steps whose effects are being undone."""


def supersede(
    c: Cycle,
    policy: SupersedePolicy,
    *,
    goal: str,
    new_task_id: str,
    by: Actor,
    registry: AgentRegistry,
) -> Rollback:
    """Apply the policy to the running task; a rollback undoes what it can and lists the rest."""
    s = c.state
    if s.status in TERMINAL:
        raise TentacleError(
            TentacleErrorCode.INVALID_TRANSITION,
            f"the task is {s.status.value} already; create a new task instead",
        )
    if policy is SupersedePolicy.REJECT:
        raise TentacleError(
            TentacleErrorCode.SUPERSEDE_REJECTED,
            "the task is still running and keeps its goal (policy reject)",
            details={"status": s.status.value},
        )
    if policy is SupersedePolicy.ENQUEUE:
        c.emit(GoalQueuedDetailV1(goal=goal, new_task_id=new_task_id, by=by))
        return Rollback([], [])
    rollback = _roll_back(c, registry) if policy is SupersedePolicy.ROLLBACK else Rollback([], [])
    finish(
        c,
        S.SUPERSEDED,
        SupersededDetailV1(
            policy=policy,
            new_task_id=new_task_id,
            goal=goal,
            by=by,
            irreversible_steps=rollback.lasting,
            undone_steps=rollback.undone,
        ),
        reason=TerminalReason.SUPERSEDED,
    )
    return rollback


_STAGED: Final = frozenset({Runtime.NOTIFY})
"""Runtimes whose effect is a message staged with the step's recorded result."""


def _roll_back(c: Cycle, registry: AgentRegistry) -> Rollback:
    """Undo the effects outside that the agents know how to undo (a saved file is trashed);
    list those that stay. A GET, a read, or an email staged with a step still in flight (it
    goes out only with the recorded result) changed nothing.

    Judged like the checkpoint rules: an agent's declared effect counts only when it applies
    to the inputs the step ran with.
    """
    s = c.state
    lasting: list[str] = []
    undone: list[str] = []
    for step in s.steps.values():
        agent = registry.get(step.agent)
        if agent is None or not agent.effects:
            continue
        # In flight, a call may have been made already; a staged message has not gone out.
        in_flight = step.status is StepStatus.RUNNING and agent.runtime not in _STAGED
        if step.status is not StepStatus.COMPLETED and not in_flight:
            continue
        inputs = agent.with_defaults(step_inputs(c, step.step_id))
        if not any(effect.applies(inputs) for effect in agent.effects):
            continue
        undo = None
        if agent.undo is not None and step.status is StepStatus.COMPLETED:
            undo = agent.undo.inputs_for(inputs, step.output)
        if undo is None:
            lasting.append(step.step_id)
        else:
            c.undo(step.step_id, undo)
            undone.append(step.step_id)
    return Rollback(lasting, undone)


def complete_fast(c: Cycle, result: Any) -> None:
    """The fast path answered: PLANNING -> COMPLETED without a plan."""
    text = text_of(result)
    summary = shorten(text, 500) if text else None
    c.set_task(fast_path=True, result=result, summary=summary)
    finish(
        c,
        S.COMPLETED,
        CompletedDetailV1(summary=summary, result=result, fast_path=True),
        reason=TerminalReason.COMPLETED,
    )


# ====================================================================== checkpoint answers
def respond(
    c: Cycle,
    checkpoint_id: str,
    response: Any,
    by: Actor,
    registry: AgentRegistry,
) -> CheckpointV1:
    s = c.state
    holder = s.checkpoints.get(checkpoint_id)
    if holder is None:
        raise TentacleError(
            TentacleErrorCode.CHECKPOINT_NOT_FOUND,
            f"task {s.task_id} has no checkpoint {checkpoint_id}",
        )
    view = holder.view
    if not holder.pending or s.status in TERMINAL:
        raise TentacleError(
            TentacleErrorCode.CHECKPOINT_NOT_PENDING,
            f"checkpoint {checkpoint_id} is {view.status.value}, not pending",
            details={"status": view.status.value},
        )
    approved = _check_response(view, response, registry)
    status = CheckpointStatus.APPROVED if approved else CheckpointStatus.REJECTED
    override = None
    if approved and not isinstance(response, ApprovalResponseV1):
        override = override_for(view.type, response)
    feedback = response.feedback if isinstance(response, ApprovalResponseV1) else None
    return resolve_checkpoint(
        c,
        checkpoint_id,
        status,
        override=override,
        response=response,
        by=by,
        feedback=feedback,
    )


def _invalid(message: str) -> TentacleError:
    return TentacleError(TentacleErrorCode.CHECKPOINT_RESPONSE_INVALID, message)


def _check_response(view: CheckpointV1, response: Any, registry: AgentRegistry) -> bool:
    """Whether the response approves; raises if it does not fit the checkpoint."""
    if isinstance(response, ApprovalResponseV1):
        if not response.approved:
            return False
        if view.type not in (CheckpointType.APPROVAL, CheckpointType.MODIFY):
            raise _invalid(f"a {view.type.value} checkpoint needs a {view.type.value} answer")
        return True
    if response.type != view.type.value:
        raise _invalid(f"a {view.type.value} checkpoint cannot take a {response.type} answer")
    if isinstance(response, SelectResponseV1) and response.choice not in view.options:
        raise _invalid(f"{response.choice!r} is not one of the options")
    if isinstance(response, QaResponseV1):
        missing = [q.id for q in view.questions if not response.answers.get(q.id, "").strip()]
        if missing:
            raise _invalid(f"unanswered: {', '.join(missing)}")
    if isinstance(response, InputResponseV1):
        _check_fields(view, response.values)
    if isinstance(response, ModifyResponseV1):
        agent = registry.get(view.agent)
        missing = [n for n in (agent.required_inputs if agent else []) if n not in response.inputs]
        if missing:
            raise _invalid(f"{view.agent} needs the input(s) {', '.join(missing)}")
    return True


_KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
}


def _check_fields(view: CheckpointV1, values: dict[str, Any]) -> None:
    for spec in view.fields:
        if spec.name not in values:
            if spec.required:
                raise _invalid(f"the field {spec.name} is required")
            continue
        value = values[spec.name]
        ok = isinstance(value, _KINDS[spec.kind])
        if spec.kind in ("number", "integer") and isinstance(value, bool):
            ok = False
        if not ok:
            raise _invalid(f"the field {spec.name} must be a {spec.kind}")
    unknown = set(values) - {f.name for f in view.fields}
    if unknown:
        raise _invalid(f"unknown field(s): {', '.join(sorted(unknown))}")
