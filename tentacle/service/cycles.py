"""One orchestration cycle: read the task, act, decide, write (versioned), publish.

Commands (pause, answer a checkpoint, a step's result, ...) are an `act` on the cycle; then the
same `decide` runs on the resulting state. The write succeeds only if nobody changed the task
since it was read; otherwise nothing was written and the cycle runs again on the fresh state,
so concurrent cycles of one task are serialised and each decides on the state the previous one
left. Anything the act raises leaves the task unchanged: a refused command changes nothing.

A cycle whose act issues statements of its own (saving a preference, queueing a goal) runs in
an explicit transaction with them; the hot path (a step's result) is one statement.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from contracts.envelope import Actor
from contracts.tentacle.models import CreateTaskV1, TaskV1
from shared.db.errors import DatabaseConflict
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

MAX_ATTEMPTS: Final = 8


class _NeedsTransaction(Exception):
    """The cycle finished a task with queued goals: they start in the same transaction."""


class _Conflict(Exception):
    """The task changed since it was read: nothing was written (the transaction rolls back)."""


async def run_cycle(
    deps: Deps,
    org_id: str,
    task_id: str,
    act: Act[R],
    *,
    reply: bool = False,
    explicit: bool = True,
    at_least: int | None = None,
) -> tuple[R, TaskV1 | None]:
    """`explicit=False` for acts that issue no statements of their own (one-statement cycle).

    `at_least`: the version a work item was dispatched at. Only then may this replica's cached
    copy of the task be used (if it is at least that new); any other cycle reads the task
    afresh, so a command is never refused on an outdated state.
    """
    for _ in range(MAX_ATTEMPTS):
        try:
            if explicit:
                async with deps.db.transaction(org_id=org_id) as tx:
                    result, view, state = await _attempt(deps, tx, task_id, act, reply, at_least)
            else:
                # Lazy: a cycle on a cached state runs no statement of its own (its write is
                # grouped), so it takes no pool connection.
                async with deps.db.statement(org_id=org_id, lazy=True) as tx:
                    result, view, state = await _attempt(deps, tx, task_id, act, reply, at_least)
        except _NeedsTransaction:
            explicit = True
            continue
        except _Conflict:
            at_least = None
            continue
        # Only a committed state may be reused: it is what the next write will check against.
        deps.store.keep(state)
        return result, view
    raise DatabaseConflict(f"task {task_id} kept changing under {MAX_ATTEMPTS} cycles")


async def cycle_in(
    deps: Deps, tx: Tx, task_id: str, act: Act[R], *, reply: bool = False
) -> tuple[R, TaskV1 | None]:
    """One cycle inside the caller's transaction (which must roll back if this raises). On a
    conflict it reads the task again in the same transaction (its earlier statements stay)."""
    for _ in range(MAX_ATTEMPTS):
        try:
            result, view, _ = await _attempt(deps, tx, task_id, act, reply, None)
        except _Conflict:
            continue
        return result, view
    raise DatabaseConflict(f"task {task_id} kept changing under {MAX_ATTEMPTS} cycles")


async def _attempt(
    deps: Deps, tx: Tx, task_id: str, act: Act[R], reply: bool, at_least: int | None
) -> tuple[R, TaskV1 | None, TaskState]:
    state = None
    if at_least is not None:
        state = deps.store.take_cached(task_id, at_least=at_least)
    cached = state is not None
    if state is None:
        state = await deps.store.load(tx.conn, task_id)
        if state is None:
            raise not_found(task_id)
    registry = await registry_for(deps, tx, state)
    cycle = Cycle(state, deps.clock())
    was_terminal = state.status in TERMINAL
    result = await act(cycle, registry, tx)
    decide(cycle, registry, deps.policy)
    if cached and not cycle.changed:
        # Nothing to do, by a copy that may be behind (another replica moved the task on
        # after this work item was dispatched): only the task as it is now may say so.
        raise _Conflict(task_id)
    finishing = not was_terminal and state.status in TERMINAL
    if finishing and state.has_queued and not tx.explicit:
        raise _NeedsTransaction
    after = deps.settings.recovery_after_seconds
    if not await deps.store.apply(tx, cycle, recovery_after_s=after):
        raise _Conflict(task_id)
    if finishing and state.has_queued:
        await start_queued(deps, tx, state)
    view = await task_view(tx.conn, task_id) if reply else None
    return result, view, state


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
