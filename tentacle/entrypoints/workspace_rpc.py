"""Request-reply handlers of workspace objects (and memory): contract in, use case, contract out."""

from __future__ import annotations

from contracts.tentacle import objects as o
from shared.bus import Request, Router
from tentacle.service import object_schemas, read_objects
from tentacle.service.create_objects import bulk_insert, create_object
from tentacle.service.delete_object import delete_object
from tentacle.service.deps import Deps
from tentacle.service.update_object import update_object


def register(router: Router, deps: Deps) -> None:
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
