"""A conversation as Flux remembers it: its turns, replies, and the tasks it started."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.chat import ChatHistoryV1, GetChatHistoryV1
from contracts.tentacle.models import ListTasksV1, TaskListV1
from contracts.tentacle.subjects import TASK_LIST
from tentacle.adapters import chat_store as store
from tentacle.service.chat_deps import ChatDeps, require_org


async def chat_history(deps: ChatDeps, request: GetChatHistoryV1, meta: Meta) -> ChatHistoryV1:
    org_id = require_org(meta)
    async with deps.db.transaction(org_id=org_id) as tx:
        turns = await store.turns(tx.conn, request.conversation_id, request.limit)
        replies = await store.replies(tx.conn, request.conversation_id, request.limit)
    tasks: TaskListV1 | None = None
    if request.include_tasks:
        tasks = await deps.bus.request(
            TASK_LIST,
            ListTasksV1(conversation_id=request.conversation_id, limit=100),
            org_id=org_id,
            timeout=10.0,
        )
    return ChatHistoryV1(
        conversation_id=request.conversation_id,
        turns=turns,
        replies=[r.to_contract() for r in replies],
        tasks=tasks.tasks if tasks is not None else [],
    )
