"""A step worker: run one attempt of one step, then record the result and decide what follows.

The result is recorded in the same transaction that runs the orchestrator's decision (under the
task's row lock), so the next steps are dispatched without a further work item. Transient
failures are left to the consumer's redelivery (one retry owner); on the last attempt the
failure is recorded instead, so the task always learns how its step ended. A result for an
attempt that is no longer current (the task was cancelled, replanned, or a duplicate delivery
was recorded first) changes nothing.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from jsonschema import Draft202012Validator

from contracts.envelope import ErrorV1
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.models import StepRunV1
from shared.bus import Delivery
from shared.errors import PermanentError, TransientError
from shared.logging import get_logger
from tentacle.adapters.journal import StaleAttempt
from tentacle.adapters.pg import Tx
from tentacle.domain.agents import AgentRegistry, AgentSpec
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import StepOutcome, record_result
from tentacle.service.cycles import run_cycle
from tentacle.service.deps import Deps, require_org
from tentacle.service.ports import StagedEffect, StepWork

log = get_logger(__name__)


def _error(code: TentacleErrorCode, message: str, **details: Any) -> ErrorV1:
    return ErrorV1(code=code.value, message=message, details=details or None)


class _Validators:
    """Compiled JSON Schema validators per agent definition (built-in ones live all along)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._held: OrderedDict[tuple[int, str], tuple[AgentSpec, Draft202012Validator]] = (
            OrderedDict()
        )

    def get(self, agent: AgentSpec, which: str) -> Draft202012Validator:
        key = (id(agent), which)
        held = self._held.get(key)
        if held is not None and held[0] is agent:
            self._held.move_to_end(key)
            return held[1]
        validator = Draft202012Validator(agent.inputs if which == "inputs" else agent.outputs)
        self._held[key] = (agent, validator)  # holding the agent keeps its id from being reused
        while len(self._held) > self._size:
            self._held.popitem(last=False)
        return validator


_validators = _Validators()


def _schema_error(agent: AgentSpec, which: str, value: Any) -> str | None:
    schema = agent.inputs if which == "inputs" else agent.outputs
    if schema == {"type": "object"}:
        return None if isinstance(value, dict) else "not an object"
    error = next(iter(_validators.get(agent, which).iter_errors(value)), None)
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message[:300]}"


async def run_step(deps: Deps, run: StepRunV1, delivery: Delivery) -> None:
    org_id = require_org(delivery.meta)
    agent = deps.catalog.builtin.get(run.agent)
    if agent is None:
        async with deps.db.transaction(org_id=org_id) as tx:
            agent = await deps.catalog.spec(tx.conn, run.agent)
    executed = await _execute(deps, run, delivery, agent)
    if run.undo:
        _log_undo(run, executed)
        return
    if executed is None:
        log.info("step.stale", task_id=run.task_id, step_id=run.step_id, attempt=run.attempt)
        return
    outcome, staged = executed

    async def record(c: Cycle, registry: AgentRegistry, tx: Tx) -> None:
        recorded = record_result(c, run.step_id, run.plan_version, run.attempt, outcome)
        if recorded and outcome.ok:
            for item in staged:
                tx.publish(item.message)
                tx.journal(item.effect, item.result)

    # One statement: the result, the decision and the next dispatches are written together.
    await run_cycle(deps, org_id, run.task_id, record, explicit=False, at_least=run.task_version)


def _log_undo(run: StepRunV1, executed: tuple[StepOutcome, list[StagedEffect]] | None) -> None:
    """An undo records nothing on the stopped task: the journal holds what it did. One that
    fails for good is logged for a person to finish (the step's output says what to undo)."""
    if executed is not None and executed[0].error is not None:
        error = executed[0].error
        log.error(
            "step.undo_failed",
            task_id=run.task_id,
            step_id=run.step_id,
            code=error.code,
            message=error.message,
        )
    else:
        log.info("step.undone", task_id=run.task_id, step_id=run.step_id)


async def _execute(
    deps: Deps, run: StepRunV1, delivery: Delivery, agent: AgentSpec | None
) -> tuple[StepOutcome, list[StagedEffect]] | None:
    if agent is None:
        return StepOutcome(
            error=_error(TentacleErrorCode.AGENT_NOT_FOUND, f"no agent named {run.agent}")
        ), []
    inputs = agent.text_for_structures(run.inputs)
    problem = _schema_error(agent, "inputs", inputs)
    if problem is not None:
        return StepOutcome(
            error=_error(
                TentacleErrorCode.AGENT_INPUT_INVALID, f"{agent.name} inputs invalid: {problem}"
            )
        ), []
    runtime = deps.runtimes.get(agent.runtime)
    if runtime is None:
        return StepOutcome(
            error=_error(
                TentacleErrorCode.AGENT_NOT_FOUND, f"no runtime {agent.runtime} in this service"
            )
        ), []
    meta = delivery.meta
    work = StepWork(
        org_id=meta.org_id or "",
        task_id=run.task_id,
        step_id=run.step_id,
        plan_version=run.plan_version,
        attempt=run.attempt,
        idempotency_key=run.idempotency_key,
        agent=agent,
        inputs=inputs,
        call_id=meta.call_id,
        parent_call_id=meta.parent_call_id,
        root_call_id=meta.root_call_id,
        undo=run.undo,
        actor=meta.actor,
    )
    try:
        result = await asyncio.wait_for(runtime.run(work), agent.timeout_seconds)
    except StaleAttempt:
        return None
    except TimeoutError:
        if not delivery.last_attempt:
            raise
        return StepOutcome(
            error=_error(
                TentacleErrorCode.AGENT_UNAVAILABLE,
                f"{agent.name} did not finish within {agent.timeout_seconds}s",
            )
        ), []
    except TransientError as exc:
        if not delivery.last_attempt:
            raise
        return StepOutcome(error=exc.to_error().model_copy(update={"retryable": False})), []
    except PermanentError as exc:
        return StepOutcome(error=exc.to_error()), []
    except Exception as exc:
        if not delivery.last_attempt:
            raise
        log.exception("step.agent_crashed", agent=agent.name, task_id=run.task_id)
        return StepOutcome(
            error=_error(
                TentacleErrorCode.AGENT_FAILED, f"{agent.name} failed: {type(exc).__name__}"
            )
        ), []
    problem = _schema_error(agent, "outputs", result.output)
    if problem is not None:
        return StepOutcome(
            error=_error(
                TentacleErrorCode.AGENT_OUTPUT_INVALID, f"{agent.name} output invalid: {problem}"
            )
        ), []
    return StepOutcome(output=result.output, cost_usd=result.cost_usd), result.staged
