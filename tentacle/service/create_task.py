"""Create a task: from the create RPC, the create command, a supersede, or an enqueued goal.

Idempotent by the caller's request id: the task id is derived from it, so a retried request
finds its task; the same id with a different request is refused. A caller-supplied plan is
validated before anything is written and adopted at once (the first steps are dispatched in
the same transaction); otherwise an advance work item asks the planner.
"""

from __future__ import annotations

from typing import Final

from contracts.envelope import Actor, Meta
from contracts.tentacle.errors import TentacleErrorCode
from contracts.tentacle.events import TaskCreatedDetailV1
from contracts.tentacle.models import AdvanceReason, CreateTaskV1, TaskStatus, TaskV1, task_id_for
from tentacle.adapters.pg import Tx
from tentacle.adapters.task_queries import task_view
from tentacle.adapters.task_store import request_hash
from tentacle.domain.cycle import Cycle
from tentacle.domain.decide import apply_plan, decide
from tentacle.domain.errors import TentacleError
from tentacle.domain.state import TaskState
from tentacle.domain.validation import validate_plan
from tentacle.service.cycles import learn_preferences
from tentacle.service.deps import Deps, require_org

_EXISTS: Final = "SELECT 1 FROM tasks WHERE id = $1"


async def create_task(deps: Deps, request: CreateTaskV1, meta: Meta) -> TaskV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        task_id, state = await insert_task(
            deps,
            tx,
            org_id=org_id,
            request=request,
            actor=meta.actor,
            call_id=meta.call_id,
            root_call_id=meta.root_call_id,
        )
        view = await task_view(tx.conn, task_id)
    if state is not None:
        deps.store.keep(state)  # committed: the first step's worker may reuse it
    assert view is not None
    return view


async def insert_task(
    deps: Deps,
    tx: Tx,
    *,
    org_id: str,
    request: CreateTaskV1,
    actor: Actor,
    call_id: str,
    root_call_id: str,
) -> tuple[str, TaskState | None]:
    """Write the task (or find the one this request made before): its id, and its state if
    it was created now."""
    task_id = task_id_for(org_id, request.request_id)
    parent = request.parent_task_id
    if parent is not None and await tx.conn.fetchval(_EXISTS, parent) is None:
        # Row-level security hides another organisation's tasks: the same answer for both.
        raise TentacleError(
            TentacleErrorCode.TASK_NOT_FOUND,
            f"no parent task {parent}",
            details={"parent_task_id": parent},
        )
    registry = None
    if request.plan is not None:
        registry = await deps.catalog.registry(tx.conn, [s.agent for s in request.plan.steps])
        problems = validate_plan(request.plan, registry, context_keys=request.context.keys())
        if problems:
            raise TentacleError(
                TentacleErrorCode.PLAN_INVALID,
                "the plan is invalid: " + "; ".join(str(p) for p in problems[:10]),
                details={"problems": [str(p) for p in problems[:50]]},
            )
    budget = (
        request.budget_usd
        if request.budget_usd is not None
        else deps.settings.default_task_budget_usd
    )
    inserted = await deps.store.insert(
        tx.conn,
        task_id=task_id,
        org_id=org_id,
        request=request,
        budget_usd=budget,
        created_by=actor,
        call_id=call_id,
        root_call_id=root_call_id,
        recovery_after_s=deps.settings.recovery_after_seconds,
    )
    if not inserted:
        before = await tx.conn.fetchval("SELECT request_hash FROM tasks WHERE id = $1", task_id)
        if before != request_hash(request):
            raise TentacleError(
                TentacleErrorCode.REQUEST_CONFLICT,
                f"request id {request.request_id} was used for a different request",
                details={"task_id": task_id},
            )
        return task_id, None
    state = TaskState(
        task_id=task_id,
        org_id=org_id,
        status=TaskStatus.PLANNING,
        goal=request.goal,
        created_by=actor,
        constraints=request.constraints,
        context=dict(request.context),
        event_seq=0,
        call_id=call_id,
        root_call_id=root_call_id,
        budget_usd=budget,
        conversation_id=request.conversation_id,
        parent_task_id=request.parent_task_id,
    )
    cycle = Cycle(state, deps.clock())
    cycle.emit(
        TaskCreatedDetailV1(
            goal=request.goal,
            request_id=request.request_id,
            constraints=request.constraints,
            budget_usd=budget,
            created_by=actor,
            plan_supplied=request.plan is not None,
        )
    )
    if request.plan is not None and registry is not None:
        apply_plan(cycle, request.plan, why="supplied")
        await learn_preferences(deps, tx, state, registry)
        decide(cycle, registry, deps.policy)
    else:
        cycle.request_advance(AdvanceReason.CREATED)
    written = await deps.store.apply(
        tx, cycle, recovery_after_s=deps.settings.recovery_after_seconds
    )
    assert written, "a task just inserted is at version 0"
    return task_id, state
