"""List the memories the caller may read, most recently changed first, a page at a time."""

from __future__ import annotations

from contracts.envelope import Meta
from contracts.tentacle.memory import ListMemoriesV1, MemoryPageV1
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from tentacle.adapters import memory_list, memory_store
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import require_org
from tentacle.service.memory_deps import MemoryDeps


async def list_memories(deps: MemoryDeps, request: ListMemoriesV1, meta: Meta) -> MemoryPageV1:
    org_id = require_org(meta)
    who = memory_store.principal(meta.actor)
    after = None
    if request.cursor is not None:
        try:
            after = memory_list.decode_cursor(request.cursor)
        except memory_list.CursorInvalid:
            raise WorkspaceError(
                E.CURSOR_INVALID, "the cursor is not one this list gave out"
            ) from None
    async with deps.db.transaction(org_id=org_id) as tx:
        # One row more than asked tells whether another page follows.
        rows = await memory_list.page(
            tx.conn,
            org_id,
            who,
            tier=request.tier.value if request.tier is not None else None,
            topic=request.topic,
            tags=list(request.tags),
            after=after,
            limit=request.limit + 1,
        )
    more = len(rows) > request.limit
    rows = rows[: request.limit]
    last = rows[-1] if more else None
    return MemoryPageV1(
        memories=[memory_store.to_memory(r) for r in rows],
        next_cursor=memory_list.encode_cursor(last["updated_at"], last["key"]) if last else None,
    )
