"""One orchestration cycle in one transaction: lock, load, act, decide, write, stage, commit.

Commands (pause, respond to a checkpoint, a step's result, ...) are an `act` on the cycle; then
the same `decide` runs on the resulting state, still under the task's row lock. Anything the
act raises rolls the whole transaction back: a refused command changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from contracts.envelope import Actor
from contracts.tentacle.models import CreateTaskV1, TaskV1
from tentacle.adapters import preference_store
from tentacle.adapters.pg import Tx
from tentacle.adapters.task_queries import task_view
from tentacle.domain.agents import AgentRegistry
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import decide
from tentacle.domain.errors import not_found
from tentacle.domain.lifecycle import TERMINAL
from tentacle.domain.preferences import auto_approves
from tentacle.domain.state import TaskState
from tentacle.service.deps import Deps

R = TypeVar("R")

Act = Callable[[Cycle, AgentRegistry, Tx], Awaitable[R]]


async def run_cycle(
    deps: Deps, org_id: str, task_id: str, act: Act[R], *, reply: bool = False
) -> tuple[R, TaskV1 | None]:
    async with deps.db.transaction(org_id=org_id) as tx:
        result, view = await cycle_in(deps, tx, task_id, act, reply=reply)
    return result, view


async def cycle_in(
    deps: Deps, tx: Tx, task_id: str, act: Act[R], *, reply: bool = False
) -> tuple[R, TaskV1 | None]:
    state = await deps.store.load(tx.conn, task_id)
    if state is None:
        raise not_found(task_id)
    registry = await registry_for(deps, tx, state)
    cycle = Cycle(state, deps.clock())
    was_terminal = state.status in TERMINAL
    result = await act(cycle, registry, tx)
    decide(cycle, registry, deps.policy)
    await deps.store.apply(tx, cycle, recovery_after_s=deps.settings.recovery_after_seconds)
    if not was_terminal and state.status in TERMINAL:
        await start_queued(deps, tx, state)
    view = await task_view(tx.conn, task_id) if reply else None
    return result, view


async def registry_for(deps: Deps, tx: Tx, state: TaskState) -> AgentRegistry:
    names = [s.agent for s in state.plan.steps] if state.plan is not None else []
    registry = await deps.catalog.registry(tx.conn, names)
    await learn_preferences(deps, tx, state, registry)
    return registry


async def learn_preferences(deps: Deps, tx: Tx, state: TaskState, registry: AgentRegistry) -> None:
    """Tell the cycle which approvals the task's creator gives automatically by now."""
    if state.status in TERMINAL or state.plan is None or not _may_ask(state, registry):
        return
    prefs = await preference_store.load(tx.conn, state.created_by, None)
    now = deps.clock()
    state.auto_approved = frozenset(
        key for key, pref in prefs.items() if auto_approves(pref, now, deps.policy.preferences)
    )


def _may_ask(state: TaskState, registry: AgentRegistry) -> bool:
    """Whether any step could stop at an approval (only then are preferences worth loading)."""
    assert state.plan is not None
    for spec in state.plan.steps:
        agent = registry.get(spec.agent)
        if spec.checkpoint is not None or (agent is not None and agent.asks_approval()):
            return True
        if spec.risk.value == "high":
            return True
    return False


async def start_queued(deps: Deps, tx: Tx, state: TaskState) -> None:
    """A finished task's enqueued goals (supersede with policy enqueue) start now."""
    from tentacle.service.create_task import insert_task

    queued = await tx.conn.fetchval("SELECT queued FROM tasks WHERE id = $1", state.task_id)
    for item in queued or []:
        request = CreateTaskV1.model_validate(item["request"])
        await insert_task(
            deps,
            tx,
            org_id=state.org_id,
            request=request,
            actor=Actor.model_validate(item["actor"]),
            call_id=item["call_id"],
            root_call_id=state.root_call_id,
        )
