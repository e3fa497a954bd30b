"""Handlers of workspace objects and memory: the request-reply ones (contract in, use case,
contract out), and the consumer that keeps what finished tasks learned."""

from __future__ import annotations

from contracts.tentacle import memory as m
from contracts.tentacle import objects as o
from contracts.tentacle.events import TaskEventV1
from shared.bus import Delivery, Request, Router
from tentacle.adapters.embeddings import embedder_from
from tentacle.service import (
    list_memories,
    object_schemas,
    object_types,
    read_memory,
    read_objects,
    store_memory,
)
from tentacle.service.create_objects import bulk_insert, create_object
from tentacle.service.delete_object import delete_object
from tentacle.service.deps import Deps
from tentacle.service.learn_from_task import learn_from_task
from tentacle.service.memory_deps import MemoryDeps
from tentacle.service.update_object import update_object


def register(router: Router, deps: Deps, memory: MemoryDeps | None = None) -> None:
    """`memory` defaults to tentacle's database and the embedder its LLM settings name."""
    memory = memory or MemoryDeps(deps.db, embedder_from(deps.settings.llm, deps.gateway))

    @router.rpc(o.OBJECT_CREATE)
    async def create(request: o.CreateObjectV1, req: Request) -> o.ObjectV1:
        return await create_object(deps, request, req.meta)

    @router.rpc(o.OBJECT_BULK_INSERT)
    async def bulk(request: o.BulkInsertObjectsV1, req: Request) -> o.BulkInsertedV1:
        return await bulk_insert(deps, request, req.meta)

    @router.rpc(o.OBJECT_GET)
    async def get(request: o.GetObjectV1, req: Request) -> o.ObjectV1:
        return await read_objects.get_object(deps, request, req.meta)

    @router.rpc(o.OBJECT_UPDATE)
    async def update(request: o.UpdateObjectV1, req: Request) -> o.ObjectV1:
        return await update_object(deps, request, req.meta)

    @router.rpc(o.OBJECT_DELETE)
    async def delete(request: o.DeleteObjectV1, req: Request) -> o.ObjectDeletedV1:
        return await delete_object(deps, request, req.meta)

    @router.rpc(o.OBJECT_QUERY)
    async def query(request: o.QueryObjectsV1, req: Request) -> o.ObjectPageV1:
        return await read_objects.query_objects(deps, request, req.meta)

    @router.rpc(o.OBJECT_SEARCH)
    async def search(request: o.SearchObjectsV1, req: Request) -> o.ObjectHitsV1:
        return await read_objects.search_objects(deps, request, req.meta)

    @router.rpc(o.OBJECT_SCHEMA_PUT)
    async def put_schema(request: o.PutObjectSchemaV1, req: Request) -> o.ObjectSchemaV1:
        return await object_schemas.put_object_schema(deps, request, req.meta)

    @router.rpc(o.OBJECT_SCHEMA_GET)
    async def get_schema(request: o.GetObjectSchemaV1, req: Request) -> o.ObjectSchemaV1:
        return await object_types.get_object_schema(deps, request, req.meta)

    @router.rpc(o.OBJECT_TYPE_LIST)
    async def list_types(request: o.ListObjectTypesV1, req: Request) -> o.ObjectTypesV1:
        return await object_types.list_object_types(deps, request, req.meta)

    @router.rpc(m.MEMORY_STORE)
    async def remember(request: m.StoreMemoryV1, req: Request) -> m.MemoryV1:
        return await store_memory.store_memory(memory, request, req.meta)

    @router.rpc(m.MEMORY_GET)
    async def recall(request: m.GetMemoryV1, req: Request) -> m.MemoryV1:
        return await read_memory.get_memory(memory, request, req.meta)

    @router.rpc(m.MEMORY_HISTORY)
    async def history(request: m.MemoryHistoryRequestV1, req: Request) -> m.MemoryHistoryV1:
        return await read_memory.memory_history(memory, request, req.meta)

    @router.rpc(m.MEMORY_RESTORE)
    async def restore(request: m.RestoreMemoryV1, req: Request) -> m.MemoryV1:
        return await store_memory.restore_memory(memory, request, req.meta)

    @router.rpc(m.MEMORY_DELETE)
    async def forget(request: m.DeleteMemoryV1, req: Request) -> m.MemoryDeletedV1:
        return await store_memory.delete_memory(memory, request, req.meta)

    @router.rpc(m.MEMORY_SEARCH)
    async def search_memory(request: m.SearchMemoryV1, req: Request) -> m.MemoryHitsV1:
        return await read_memory.search_memory(memory, request, req.meta)

    @router.rpc(m.MEMORY_LIST)
    async def list_memory(request: m.ListMemoriesV1, req: Request) -> m.MemoryPageV1:
        return await list_memories.list_memories(memory, request, req.meta)

    @router.rpc(m.MEMORY_CONTEXT)
    async def context(request: m.BuildMemoryContextV1, req: Request) -> m.MemoryContextV1:
        return await read_memory.memory_context(memory, request, req.meta)

    @router.consumer(m.LEARNINGS_CONSUMER)
    async def learn(event: TaskEventV1, delivery: Delivery) -> None:
        await learn_from_task(memory, event)
