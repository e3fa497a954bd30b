"""Task agents' learnings: when a planned task completes, what it found is kept as an archival
memory (`task:<task id>`, topic `tasks`), so later tasks and the chat agent can find it.

Fast-path answers are lookups of data the workspace holds already, and are not kept. The key
makes this idempotent: a redelivered event finds the memory stored and changes nothing.
"""

from __future__ import annotations

import json
from typing import Final

from contracts.envelope import Actor, ActorKind
from contracts.tentacle.events import CompletedDetailV1, TaskEventKind, TaskEventV1
from contracts.tentacle.memory import ARCHIVAL_BODY_MAX, MemorySource, MemoryTier
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from tentacle.adapters import task_queries
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.memory_deps import MemoryDeps
from tentacle.service.store_memory import write_memory

TASK_AGENT: Final = Actor(kind=ActorKind.AGENT, id="task_agents")
MAX_RESULT_CHARS: Final = 3000


async def learn_from_task(deps: MemoryDeps, event: TaskEventV1) -> None:
    if event.kind is not TaskEventKind.COMPLETED:
        return
    detail = event.detail
    if not isinstance(detail, CompletedDetailV1) or detail.fast_path:
        return
    if not detail.summary and detail.result is None:
        return
    async with deps.db.transaction(org_id=event.org_id) as tx:
        task = await task_queries.task_view(tx.conn, event.task_id)
    if task is None:
        return
    parts = [detail.summary] if detail.summary else []
    if detail.result is not None:
        result = json.dumps(detail.result, ensure_ascii=False, default=str)[:MAX_RESULT_CHARS]
        parts.append(f"Result: {result}")
    body = "\n\n".join(parts).replace("\x00", "")
    values = {
        "key": f"task:{event.task_id}",
        "title": " ".join(task.goal.split())[:200].replace("\x00", "") or "Task result",
        "body": body[:ARCHIVAL_BODY_MAX],
        "topic": "tasks",
        "tags": ["task-result"],
        "source": MemorySource.TASK_AGENT.value,
        "tier": MemoryTier.ARCHIVAL.value,
        "readers": [],
        "task_id": event.task_id,
    }
    try:
        await write_memory(deps, event.org_id, TASK_AGENT, values, expected_version=0)
    except WorkspaceError as exc:
        if exc.code != E.MEMORY_VERSION_CONFLICT.value:
            raise
