"""The read use cases: a task with its plan and steps, lists, search, events, cost, checkpoints.

Each is one org-scoped read transaction; an id of another organisation is not found.
"""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.checkpoints import CheckpointListV1, ListCheckpointsV1
from contracts.tentacle.events import TaskEventListV1
from contracts.tentacle.models import (
    GetTaskV1,
    ListTaskEventsV1,
    ListTasksV1,
    SearchTasksV1,
    TaskCostV1,
    TaskDetailV1,
    TaskListV1,
    TaskRefV1,
)
from tentacle.adapters import task_queries
from tentacle.domain.errors import not_found
from tentacle.service.deps import Deps, require_org


async def get_task(deps: Deps, request: GetTaskV1, meta: Meta) -> TaskDetailV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        found = await task_queries.task_detail(
            tx.conn, request.task_id, include_outputs=request.include_outputs
        )
    if found is None:
        raise not_found(request.task_id)
    return found


async def list_tasks(deps: Deps, request: ListTasksV1, meta: Meta) -> TaskListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        return TaskListV1(tasks=await task_queries.list_tasks(tx.conn, request))


async def search_tasks(deps: Deps, request: SearchTasksV1, meta: Meta) -> TaskListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        return TaskListV1(tasks=await task_queries.search_tasks(tx.conn, request))


async def list_task_events(deps: Deps, request: ListTaskEventsV1, meta: Meta) -> TaskEventListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        if await task_queries.task_view(tx.conn, request.task_id) is None:
            raise not_found(request.task_id)
        events = await task_queries.list_events(
            tx.conn, request.task_id, request.after_seq, request.limit
        )
    return TaskEventListV1(events=events)


async def task_cost(deps: Deps, request: TaskRefV1, meta: Meta) -> TaskCostV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        found = await task_queries.task_cost(tx.conn, request.task_id)
    if found is None:
        raise not_found(request.task_id)
    return found


async def list_checkpoints(deps: Deps, request: ListCheckpointsV1, meta: Meta) -> CheckpointListV1:
    async with deps.db.transaction(org_id=require_org(meta)) as tx:
        found = await task_queries.pending_checkpoints(
            tx.conn, request.conversation_id, request.limit
        )
    return CheckpointListV1(checkpoints=found)
