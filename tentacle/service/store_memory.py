"""Store a memory (a new version), restore an earlier version, or forget one."""

from __future__ import annotations

from typing import Any

from contracts.envelope import Actor, Meta
from contracts.tentacle.memory import (
    CORE_BODY_MAX,
    DeleteMemoryV1,
    MemoryChange,
    MemoryDeletedV1,
    MemoryTier,
    MemoryV1,
    RestoreMemoryV1,
    StoreMemoryV1,
)
from contracts.tentacle.workspace_errors import WorkspaceErrorCode as E
from tentacle.adapters import memory_store
from tentacle.adapters.memory_events import memory_message
from tentacle.domain.workspace_errors import WorkspaceError
from tentacle.service.deps import require_org
from tentacle.service.memory_deps import MemoryDeps


def memory_not_found(key: str) -> WorkspaceError:
    # The same answer whether the key does not exist or the caller may not read it.
    return WorkspaceError(E.MEMORY_NOT_FOUND, f"no memory {key}")


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    for field in ("title", "body"):
        if "\x00" in values[field]:
            raise WorkspaceError(E.MEMORY_INVALID, f"the {field} contains NUL")
    if values["tier"] == MemoryTier.CORE.value and len(values["body"]) > CORE_BODY_MAX:
        raise WorkspaceError(
            E.MEMORY_INVALID, f"a core memory's body is limited to {CORE_BODY_MAX} characters"
        )
    return values


async def write_memory(
    deps: MemoryDeps,
    org_id: str,
    actor: Actor,
    values: dict[str, Any],
    expected_version: int | None,
) -> MemoryV1:
    who = memory_store.principal(actor)
    # The vector is made before the transaction: a model call must not hold a row lock.
    vector = None
    if deps.embedder is not None:
        embedded = await deps.embedder.embed(f"{values['title']}\n{values['body']}", org_id=org_id)
        vector = embedded.vector  # None: kept for full text only (see `adapters.embeddings`)
    async with deps.db.transaction(org_id=org_id) as tx:
        current = await memory_store.get(tx.conn, org_id, values["key"], for_update=True)
        if current is not None and not memory_store.visible(current, who):
            # Keys are unique per organisation: the caller cannot have this one, whoever has it.
            raise WorkspaceError(E.MEMORY_VERSION_CONFLICT, f"the key {values['key']} is in use")
        at = current["version"] if current is not None else 0
        if expected_version is not None and expected_version != at:
            raise WorkspaceError(
                E.MEMORY_VERSION_CONFLICT,
                f"memory {values['key']} is at version {at}, not {expected_version}",
                details={"version": at},
            )
        last = await memory_store.last_version(tx.conn, org_id, values["key"])
        values["version"] = max(at, last) + 1
        values["owner"] = current["owner"] if current is not None else who
        model = deps.embedder.model if deps.embedder is not None else None
        row = await memory_store.upsert(tx.conn, org_id, values, actor, vector, model)
        memory = memory_store.to_memory(row)
        tx.publish(memory_message(memory, MemoryChange.STORED, actor))
    return memory


async def store_memory(deps: MemoryDeps, request: StoreMemoryV1, meta: Meta) -> MemoryV1:
    values = _checked(
        {
            "key": request.key,
            "title": request.title,
            "body": request.body,
            "topic": request.topic,
            "tags": sorted(set(request.tags)),
            "source": request.source.value,
            "tier": request.tier.value,
            "readers": sorted({memory_store.principal(a) for a in request.readers}),
            "task_id": request.task_id,
        }
    )
    return await write_memory(deps, require_org(meta), meta.actor, values, request.expected_version)


async def restore_memory(deps: MemoryDeps, request: RestoreMemoryV1, meta: Meta) -> MemoryV1:
    org_id = require_org(meta)
    who = memory_store.principal(meta.actor)
    async with deps.db.transaction(org_id=org_id) as tx:
        versions = await memory_store.history(tx.conn, org_id, who, request.key)
    old = next((v for v in versions if v["version"] == request.version), None)
    if old is None:
        raise WorkspaceError(E.MEMORY_NOT_FOUND, f"no version {request.version} of {request.key}")
    values = {k: old[k] for k in ("key", "title", "body", "topic", "source", "tier", "task_id")}
    values["tags"] = list(old["tags"])
    values["readers"] = list(old["readers"])
    return await write_memory(deps, org_id, meta.actor, values, None)


async def delete_memory(deps: MemoryDeps, request: DeleteMemoryV1, meta: Meta) -> MemoryDeletedV1:
    org_id = require_org(meta)
    who = memory_store.principal(meta.actor)
    async with deps.db.transaction(org_id=org_id) as tx:
        current = await memory_store.get(tx.conn, org_id, request.key, for_update=True)
        if current is None or not memory_store.visible(current, who):
            raise memory_not_found(request.key)
        row = await memory_store.delete(tx.conn, org_id, request.key)
        memory = memory_store.to_memory(row)
        tx.publish(memory_message(memory, MemoryChange.DELETED, meta.actor))
    return MemoryDeletedV1(key=memory.key, version=memory.version)
