"""An orchestration cycle from an advance work item: plan (or answer fast), decide, dispatch.

Any replica may take any advance. Planning calls the model without holding the task's lock
(it can take seconds); its result is adopted under the lock only if the task still waits for
exactly that plan, so a duplicate advance (a redelivery, a recovery sweep) wastes at most a
model call and never adopts two plans. Timer and recovery cycles also expire checkpoints (in
decide) and give up on steps whose work item was lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from contracts.envelope import ErrorV1, Meta
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import (
    AdvanceReason,
    AdvanceTaskV1,
    StepStatus,
    TaskStatus,
    TerminalReason,
)
from contracts.tentacle.streams import STEP_CONSUMERS
from shared.context import enter_call, leave_call
from shared.errors import PermanentError, TransientError
from shared.llm import BudgetExceeded
from shared.logging import get_logger
from tentacle.adapters.messages import task_call
from tentacle.adapters.pg import Tx
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.commands import complete_fast
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import StepOutcome, apply_plan, fail, record_result, task_error
from tentacle.domain.fast_path import answer, classify
from tentacle.domain.state import TaskState
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org
from tentacle.service.plan_task import Planned, PlanningFailed, make_plan

log = get_logger(__name__)

FAST_PATH_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class FastAnswer:
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Failed:
    reason: TerminalReason
    error: ErrorV1


Outcome = FastAnswer | Planned | Failed


async def advance_task(
    deps: Deps, command: AdvanceTaskV1, meta: Meta, *, last_attempt: bool
) -> None:
    org_id = require_org(meta)
    async with deps.db.statement(org_id=org_id) as tx:
        peek = await deps.store.load(tx.conn, command.task_id)
        registry = None
        if peek is not None and peek.status is TaskStatus.PLANNING:
            registry = await deps.catalog.registry(tx.conn, None)
    if peek is None:
        log.info("advance.unknown_task", task_id=command.task_id)
        return
    if registry is not None:
        outcome = await _plan(deps, peek, registry, last_attempt=last_attempt)
        await run_cycle(
            deps, org_id, command.task_id, _adopt(outcome, peek.plan_version, peek.replan_count)
        )
        return
    recovering = command.reason in (AdvanceReason.TIMER, AdvanceReason.RECOVERY)
    await run_cycle(deps, org_id, command.task_id, _recover(deps) if recovering else _nothing)


async def _nothing(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
    return None


# ====================================================================== planning
async def _plan(
    deps: Deps, state: TaskState, registry: AgentRegistry, *, last_attempt: bool
) -> Outcome:
    fast = await _fast_path(deps, state)
    if fast is not None:
        return fast
    # The model call is a child of the task's node in the call tree.
    token = enter_call(task_call(state))
    try:
        return await make_plan(deps, state, registry)
    except PlanningFailed as exc:
        return Failed(TerminalReason.PLANNING_FAILED, exc.error)
    except BudgetExceeded as exc:
        return Failed(
            TerminalReason.BUDGET_EXCEEDED,
            task_error(TentacleErrorCode.BUDGET_EXCEEDED, exc.message, scope=exc.scope),
        )
    except TransientError as exc:
        if not last_attempt:
            raise
        return Failed(
            TerminalReason.PLANNING_FAILED,
            task_error(TentacleErrorCode.PLANNING_FAILED, f"the planner stayed unavailable: {exc}"),
        )
    except PermanentError as exc:
        return Failed(
            TerminalReason.PLANNING_FAILED,
            task_error(TentacleErrorCode.PLANNING_FAILED, exc.message, cause=exc.code),
        )
    finally:
        leave_call(token)


async def _fast_path(deps: Deps, state: TaskState) -> FastAnswer | None:
    if state.plan_version or state.replan_count or not state.constraints.allow_fast_path:
        return None
    query = classify(state.goal, deps.clock())
    if query is None:
        return None
    try:
        objects = await asyncio.wait_for(
            deps.workspace.find(state.org_id, query), FAST_PATH_TIMEOUT_S
        )
    except Exception as exc:  # any failure: plan it the usual way
        log.info(
            "fast_path.fell_back", task_id=state.task_id, reason=str(exc) or type(exc).__name__
        )
        return None
    return FastAnswer(answer(query, objects))


def _adopt(outcome: Outcome, version: int, replans: int) -> Any:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        s = c.state
        if s.status is not TaskStatus.PLANNING or (s.plan_version, s.replan_count) != (
            version,
            replans,
        ):
            return  # planned meanwhile by someone else, or paused or stopped: not ours to adopt
        if isinstance(outcome, FastAnswer):
            complete_fast(c, outcome.result)
        elif isinstance(outcome, Planned):
            apply_plan(
                c,
                outcome.plan,
                why=outcome.why,
                repairs=outcome.repairs,
                model=outcome.model,
                offline=outcome.offline,
                carried=outcome.carried,
            )
        else:
            fail(c, outcome.reason, outcome.error)

    return act


# ====================================================================== recovery
def stale_after(agent_timeout_s: float, pool: str) -> timedelta:
    """How long a step can legitimately run, every redelivery and backoff included."""
    spec = STEP_CONSUMERS.get(pool) or STEP_CONSUMERS["custom"]
    per_attempt = max(agent_timeout_s, spec.ack_wait.total_seconds())
    waits = sum((b.total_seconds() for b in spec.backoff), 0.0)
    return timedelta(seconds=per_attempt * spec.max_deliver + waits + 30)


def _recover(deps: Deps) -> Any:
    async def act(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        s = c.state
        for step in list(s.steps.values()):
            if step.status is not StepStatus.RUNNING or step.started_at is None:
                continue
            agent = registry.get(step.agent)
            timeout = agent.timeout_seconds if agent is not None else 60.0
            if c.now - step.started_at < stale_after(timeout, deps.store.pool_of(step.agent)):
                continue
            lost = task_error(
                TentacleErrorCode.STEP_LOST,
                "the step's work item was given up on (every delivery failed or timed out)",
                step_id=step.step_id,
            )
            record_result(c, step.step_id, s.plan_version, step.attempts, StepOutcome(error=lost))
        await deps.store.reschedule(tx.conn, s, after_s=deps.settings.recovery_after_seconds)

    return act
