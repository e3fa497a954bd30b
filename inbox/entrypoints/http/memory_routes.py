"""The organisation's memory, over tentacle's contracts: list (most recently changed first, by
cursor), search, store a new version, read, history, restore, forget; each request authorised
through inkpass first (`tentacle.memory.*`). Memories are addressed by their key (which may hold
`/`), so search lives beside the collection, at `/memory-search`, not inside it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.tentacle import memory as m
from inbox.entrypoints.http.deps import InboxDep, PrincipalDep, authorize_caller
from inbox.entrypoints.http.task_routes import dump
from inbox.entrypoints.http.workspace_calls import ask_workspace

router = APIRouter(prefix="/api/v1", tags=["memory"])

Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/@-]{1,200}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewMemory(Body):
    key: m.MemoryKey
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=m.ARCHIVAL_BODY_MAX)
    topic: m.Topic | None = None
    tags: list[m.MemoryTag] = Field(default_factory=list, max_length=32)
    tier: m.MemoryTier = m.MemoryTier.ARCHIVAL
    expected_version: int | None = Field(
        default=None, ge=0, description="0: only if new; n: only if at version n."
    )


class Restore(Body):
    version: int = Field(ge=1)


@router.get("/memories", response_model=m.MemoryPageV1)
async def list_memories(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    tier: Annotated[m.MemoryTier | None, Query()] = None,
    topic: Annotated[m.Topic | None, Query()] = None,
    tag: Annotated[list[m.MemoryTag] | None, Query(max_length=32, description="Any of.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> dict[str, Any]:
    """The memories the caller may read, most recently changed first; `next_cursor` pages on."""
    await authorize_caller(inbox, principal, request, "tentacle.memory.list", "memory")
    payload = m.ListMemoriesV1(tier=tier, topic=topic, tags=tag or [], limit=limit, cursor=cursor)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_LIST, payload))


@router.get("/memory-search", response_model=m.MemoryHitsV1)
async def search_memories(
    principal: PrincipalDep,
    inbox: InboxDep,
    request: Request,
    text: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    key: Annotated[m.MemoryKey | None, Query()] = None,
    topic: Annotated[m.Topic | None, Query()] = None,
    tag: Annotated[list[m.MemoryTag] | None, Query(max_length=32, description="Any of.")] = None,
    tier: Annotated[m.MemoryTier | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Ranked search by free text (full text, and meaning when embeddings are on), exact key,
    topic, tags, tier."""
    await authorize_caller(inbox, principal, request, "tentacle.memory.search", "memory")
    payload = m.SearchMemoryV1(
        text=text, key=key, topic=topic, tags=tag or [], tier=tier, limit=limit
    )
    return dump(await ask_workspace(inbox, principal, m.MEMORY_SEARCH, payload))


@router.post("/memories", status_code=201, response_model=m.MemoryV1)
async def store_memory(
    body: NewMemory, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Create the memory `key`, or store a new version of it."""
    await authorize_caller(inbox, principal, request, "tentacle.memory.write", "memory", body.key)
    payload = m.StoreMemoryV1(**body.model_dump(), source=m.MemorySource.USER)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_STORE, payload))


@router.get("/memories/{key:path}/history", response_model=m.MemoryHistoryV1)
async def memory_history(
    key: Key, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Every version of a memory, oldest first."""
    await authorize_caller(inbox, principal, request, "tentacle.memory.read", "memory", key)
    payload = m.MemoryHistoryRequestV1(key=key)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_HISTORY, payload))


@router.post("/memories/{key:path}/restore", response_model=m.MemoryV1)
async def restore_memory(
    key: Key, body: Restore, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    """Store an earlier version's content again, as a new version."""
    await authorize_caller(inbox, principal, request, "tentacle.memory.write", "memory", key)
    payload = m.RestoreMemoryV1(key=key, version=body.version)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_RESTORE, payload))


@router.get("/memories/{key:path}", response_model=m.MemoryV1)
async def get_memory(
    key: Key, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.memory.read", "memory", key)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_GET, m.GetMemoryV1(key=key)))


@router.delete("/memories/{key:path}", response_model=m.MemoryDeletedV1)
async def forget_memory(
    key: Key, principal: PrincipalDep, inbox: InboxDep, request: Request
) -> dict[str, Any]:
    await authorize_caller(inbox, principal, request, "tentacle.memory.delete", "memory", key)
    return dump(await ask_workspace(inbox, principal, m.MEMORY_DELETE, m.DeleteMemoryV1(key=key)))
